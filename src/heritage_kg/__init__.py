"""heritage-kg: collection metadata as a knowledge graph that teaches, and is taught by, machine learning."""


def __getattr__(name: str):
    # The version is read from the installed metadata when first asked for: importlib.metadata
    # takes a noticeable share of the command line's start-up, and most commands never need it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("heritage-kg")
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.0.0+source"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
