"""Outside knowledge-graph vectors for artists: a word2vec text file keyed by DBpedia or
Wikidata URIs (as KGVec2Go publishes its RDF2Vec vectors), reached from each artist through the
owl:sameAs links of the links graph. An artist no vector reaches is masked, never made up."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from heritage_kg.errors import FeatureError
from heritage_kg.graph.queries import load_query
from heritage_kg.graph.store import GraphStore
from heritage_kg.learning.datasets import open_dataset
from heritage_kg.learning.features.kg import dataset_artworks, kg_features_folder
from heritage_kg.learning.features.store import FeatureKind, FeatureMeta, FeatureTable

SAME_AS_QUERY = "kg_artist_same_as"
LINKING_HINT = "create links with 'heritage-kg link-artists'"


@dataclass
class MalformedLine:
    number: int  # 1-based, the header being line 1
    reason: str


@dataclass
class Word2VecVectors:
    """The vectors of a word2vec text file that were asked for, and what the file held."""

    dim: int
    declared_count: int
    vectors: dict[str, np.ndarray]
    lines: int = 0
    malformed: list[MalformedLine] = field(default_factory=list)


def _key(token: bytes) -> str:
    # Some exports write URIs in angle brackets, N-Triples style.
    text = token.decode("utf-8", errors="replace")
    return text[1:-1] if text.startswith("<") and text.endswith(">") else text


def read_word2vec(path: Path, wanted: set[str]) -> Word2VecVectors:
    """Streams `path` (header `N D`, then `URI v1 ... vD` per line) and keeps the vectors of the
    `wanted` URIs only, so a file of several GB costs no more memory than the vectors needed.
    A line with the wrong number of values is malformed, as is a wanted line whose values are
    not finite numbers; malformed lines are recorded and skipped. The values of unwanted lines
    are not parsed."""
    try:
        source = open(path, "rb")  # noqa: SIM115  (closed below; bytes: decoding only the wanted keys)
    except OSError as exc:
        raise FeatureError(f"cannot read the vectors file {path}: {exc.strerror}") from None
    with source:
        header = source.readline().split()
        try:
            declared, dim = (int(v) for v in header)
            if declared < 0 or dim <= 0:
                raise ValueError
        except ValueError:
            raise FeatureError(f"{path} is not a word2vec text file: its first line should be 'N D' (how many "
                               f"vectors, their dimension), not {b' '.join(header)[:80]!r}") from None
        read = Word2VecVectors(dim=dim, declared_count=declared, vectors={})
        if not wanted:
            return read
        for number, line in enumerate(source, start=2):
            read.lines += 1
            fields = line.split()
            if not fields:
                continue
            if len(fields) != dim + 1:
                read.malformed.append(MalformedLine(number, f"{len(fields) - 1} values where {dim} were declared"))
                continue
            key = _key(fields[0])
            if key not in wanted or key in read.vectors:
                continue
            try:
                vector = np.array([float(v) for v in fields[1:]], dtype=np.float32)
            except ValueError:
                read.malformed.append(MalformedLine(number, f"a value of {key} is not a number"))
                continue
            if not all(math.isfinite(v) for v in vector):
                read.malformed.append(MalformedLine(number, f"a value of {key} is not finite"))
                continue
            read.vectors[key] = vector
    return read


def artist_same_as(store: GraphStore) -> dict[str, set[str]]:
    """Each linked artist's IRI -> the IRIs owl:sameAs reaches from it."""
    _, rows = store.select(load_query(SAME_AS_QUERY).text)
    linked: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        linked[str(row["artist"])].add(str(row["same"]))
    return dict(linked)


@dataclass
class VectorCoverage:
    """How many of a dataset's artists (and artworks) a vectors file covers."""

    artists: int
    linked: int  # artists with at least one owl:sameAs link
    covered: int  # artists with a vector
    artworks: int
    artworks_covered: int  # artworks with at least one covered artist
    several_vectors: int  # artists whose links reach more than one vector (the first URI in order is used)
    malformed: list[MalformedLine]

    def summary(self) -> str:
        text = (f"{self.covered} of {self.artists} artists covered ({self.linked} linked by owl:sameAs); "
                f"{self.artworks_covered} of {self.artworks} artworks have an artist with a vector; "
                f"the other artists are masked")
        if self.linked == 0:
            text += f". No artist has owl:sameAs links in the store: {LINKING_HINT}"
        return text


def artist_vectors_from_file(store: GraphStore, dataset: str | Path, path: Path, *, datasets_dir: Path | None = None,
                             features_dir: Path | None = None,
                             folder: Path | None = None) -> tuple[FeatureTable, Path, VectorCoverage]:
    """The vectors of `path` for the artists of `dataset` (its folder, or a name under
    `datasets_dir`), keyed by the artists' own IRIs, saved as a FeatureTable in `folder` (else
    features_dir/kg/<dataset>/vectors-<file name>)."""
    training_set = open_dataset(dataset, datasets_dir)
    artworks = dataset_artworks(training_set)
    artists = sorted(artworks.all_artists)
    links = artist_same_as(store)
    candidates = {artist: sorted(links.get(artist, ())) for artist in artists}
    read = read_word2vec(path, {uri for uris in candidates.values() for uri in uris})
    keys, rows, several = [], [], 0
    for artist, uris in candidates.items():
        found = [uri for uri in uris if uri in read.vectors]
        if found:
            keys.append(artist)
            rows.append(read.vectors[found[0]])
            several += len(found) > 1
    covered_artists = set(keys)
    coverage = VectorCoverage(
        artists=len(artists), linked=sum(1 for uris in candidates.values() if uris), covered=len(keys),
        artworks=len(artworks.artists),
        artworks_covered=sum(1 for listed in artworks.artists.values() if covered_artists & listed),
        several_vectors=several, malformed=read.malformed)
    features = FeatureTable(keys, np.array(rows, dtype=np.float32).reshape(len(rows), read.dim), FeatureMeta(
        FeatureKind.KG, training_set.name, f"vectors of {path.name}", read.dim, {
        "source": "word2vec text file",
        "file": str(path),
        "keys": "artist IRIs of the dataset; vectors found under the URIs their owl:sameAs links reach "
                f"(query {SAME_AS_QUERY}); artists without a vector are absent (masked)",
        "artists": coverage.artists, "linked": coverage.linked, "covered": coverage.covered,
        "artworks": coverage.artworks, "artworks_covered": coverage.artworks_covered,
        "several_vectors": coverage.several_vectors,
        "file_vectors_declared": read.declared_count, "file_lines_read": read.lines,
        "malformed_lines": len(read.malformed),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }))
    folder = kg_features_folder(features_dir, folder, training_set.name, f"vectors-{path.name.split('.')[0]}")
    features.save(folder)
    return features, folder, coverage
