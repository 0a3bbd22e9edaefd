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


class UnsupportedQueryError(QueryError):
    """The store's engine cannot run a query that SPARQL 1.1 allows (e.g. Virtuoso's transitive
    paths with neither end bound); the message names the engine. Never a different answer."""


class NotAcceptableError(QueryError):
    """None of the result formats a client accepts can carry the answer to its query."""


class QueryTimeoutError(QueryError):
    """A query ran past the service's time limit and was stopped."""


class ServiceRefusedError(QueryError):
    """A query calls a remote endpoint (SERVICE) that the service's operator has not allowed."""


class RemoteServiceError(HeritageKGError):
    """A remote SPARQL endpoint that a query calls (SERVICE) failed or could not be reached."""


class UpdateRefusedError(HeritageKGError):
    """A SPARQL update was refused: updates are off, the token is wrong, or it writes a graph
    that only the builder may write."""


class FeatureError(HeritageKGError):
    """Features cannot be computed: a missing encoder or weights file, an unreadable image cache."""


class MalformedResourceError(HeritageKGError):
    """A Linked Data path names a kind of resource that does not exist, or an identifier with
    characters no minted IRI has (the HTTP answer is 400)."""


class ResourceNotFoundError(HeritageKGError):
    """A well-formed Linked Data IRI that the graph does not hold (the HTTP answer is 404)."""


class DatasetError(HeritageKGError):
    """A training set cannot be built or opened: an unknown task or medium group, no category
    reaching the threshold, too few artworks to split, or a missing dataset folder."""


class CurationError(HeritageKGError):
    """A curators' decisions file (kg/links/curated.tsv) cannot be read; nothing was changed."""


class ReasonerError(HeritageKGError):
    """The OWL reasoner cannot run: no Java runtime, or HermiT failed on the input."""


class ConfigError(HeritageKGError):
    """A training config cannot be used: an unknown key, a value of the wrong type or out of
    range, or a component name no registry knows."""


class TrainingError(HeritageKGError):
    """A model cannot be trained or loaded: an empty split, a missing or mismatched feature table,
    knowledge-graph vectors that would leak held-out labels, or a run folder that is not a run."""


class LinkingError(HeritageKGError):
    """Artworks cannot be linked as asked: an unknown collection, a collection linked to itself,
    a number of links out of range, or a collection the store does not hold."""


class ClassificationRequestError(HeritageKGError):
    """A classification request that cannot be answered as sent: nothing to classify, a title over
    the length limit, an upload that is not an image or is truncated (the HTTP answer is 400)."""


class ImageTooLargeError(ClassificationRequestError):
    """An uploaded image over the service's byte or pixel limit; a decompression bomb is refused
    from its header, before it is decoded (the HTTP answer is 413)."""


class UnknownModelError(HeritageKGError):
    """A model that is not in the registry: no finished run of that name or IRI under the models
    folder (the HTTP answer is 404)."""
