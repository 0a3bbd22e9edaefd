"""Errors a user can hit. Each says what went wrong and what to do next; the CLI and the API
turn them into a one-line message or a 4xx answer, never a traceback."""


class HeritageKGError(Exception):
    """Base class of every error that is the user's to fix."""


class SourceError(HeritageKGError):
    """A collection source cannot be read (missing path, not a zip, wrong layout)."""


class OfflineDownloadError(SourceError):
    """A download was needed but the network is unreachable; says where to put the file."""


class StoreError(HeritageKGError):
    """The graph store is missing, locked or unreachable."""


class QueryError(HeritageKGError):
    """A SPARQL query is malformed, unknown by name, or missing a parameter."""


class BuildError(HeritageKGError):
    """A graph build failed; the previous store is left as it was."""
