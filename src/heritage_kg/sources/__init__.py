"""Stage 1: read museum collections (Tate, CMOA) into plain records."""

from heritage_kg.sources.records import CollectionExtract, SkippedRecord

READERS = {}  # collection name -> reader function, filled by the modules below


def read_collection(collection: str, source: str, *, cache_dir=None, progress=None) -> CollectionExtract:
    """Read the named collection from a folder, a zip or (Tate) a URL, which is downloaded once
    into `cache_dir`."""
    from heritage_kg.errors import SourceError

    try:
        reader = READERS[collection]
    except KeyError:
        raise SourceError(
            f"unknown collection {collection!r}; known: {', '.join(sorted(READERS))}"
        ) from None
    return reader(source, cache_dir=cache_dir, progress=progress)


from heritage_kg.sources import cmoa, tate  # noqa: E402  (register the readers)

__all__ = ["CollectionExtract", "SkippedRecord", "read_collection", "cmoa", "tate"]
