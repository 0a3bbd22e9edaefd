"""heritage-kg: collection metadata as a knowledge graph that teaches, and is taught by, machine learning."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("heritage-kg")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
