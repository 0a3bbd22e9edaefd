"""The one interface through which the platform reaches its graph store.

`open_store(location)` gives an `EmbeddedStore` (pyoxigraph on disk) for a folder, or a
`SparqlServerStore` for an http(s) URL. Nothing else in the project imports pyoxigraph for
storage: queries, builds, datasets and the API all go through `GraphStore`."""

from __future__ import annotations

import errno
import fcntl
import os
import re
import shutil
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from heritage_kg.errors import QueryError, StoreError
from heritage_kg.graph.queries import inline_bindings
from heritage_kg.graph.results import SerializedAnswer, serialize_answer

Row = dict[str, Node]


class GraphStore(ABC):
    """A quad store holding one named graph per collection, queried with SPARQL 1.1 over the
    union of its graphs."""

    location: str

    @abstractmethod
    def select(self, sparql: str, bindings: dict[str, Node] | None = None) -> tuple[list[str], list[Row]]:
        """Runs a SELECT query; returns its variables and its rows (unbound variables absent)."""

    @abstractmethod
    def ask(self, sparql: str, bindings: dict[str, Node] | None = None) -> bool: ...

    @abstractmethod
    def construct(self, sparql: str, bindings: dict[str, Node] | None = None) -> list[tuple[Node, Node, Node]]:
        """Runs a CONSTRUCT or DESCRIBE query; returns its triples."""

    @abstractmethod
    def update(self, sparql: str) -> None: ...

    @abstractmethod
    def replace_graphs(self, nquads: Path, graphs: Iterable[str]) -> None:
        """Atomically replaces the named `graphs` with the content of the N-Quads file (which may
        also add to other graphs). Readers see the old graphs or the new ones, never a mix; a
        failure leaves the store as it was."""

    def publish_graphs(self, write_quads: Callable[[TextIO], None], graphs: Iterable[str]) -> None:
        """`replace_graphs` for statements written on the fly: `write_quads(stream)` writes
        N-Quads text; the named `graphs` are replaced by what it wrote, atomically."""
        path = self.staging_dir() / f"publish-{os.getpid()}-{time.time_ns()}.nq"
        try:
            with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
                write_quads(out)
            self.replace_graphs(path, graphs)
        finally:
            path.unlink(missing_ok=True)

    @abstractmethod
    def named_graphs(self) -> list[str]: ...

    @abstractmethod
    def export_graph(self, graph: str, out: Path) -> None:
        """Writes one named graph as N-Triples."""

    def answer_query(self, sparql: str, media_types: Sequence[str], *, default_graphs: Sequence[str] = (),
                     named_graphs: Sequence[str] = (), max_rows: int | None = None) -> SerializedAnswer:
        """The answer to any query, serialized in the first of `media_types` that suits it, for the
        SPARQL endpoint. The dataset is the union of all graphs, unless the query names its own
        (FROM, FROM NAMED) or the protocol's `default_graphs`/`named_graphs` are given."""
        return serialize_answer(self.raw_query(sparql, default_graphs=default_graphs, named_graphs=named_graphs),
                                media_types, max_rows)

    def raw_query(self, sparql: str, *, default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = ()):
        """The answer as pyoxigraph gives it (QuerySolutions, QueryBoolean or triples), for
        `graph.results` to serialize."""
        raise NotImplementedError

    def staging_dir(self) -> Path:
        """A folder for a build's temporary files."""
        path = Path(tempfile.gettempdir()) / "heritage-kg-staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def triple_count(self, graph: str | None = None) -> int:
        where = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
        _, rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}")
        return int(rows[0]["n"].toPython())

    def close(self) -> None:  # noqa: B027  (nothing to release by default)
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_store(location: str | os.PathLike, *, read_only: bool = False) -> GraphStore:
    """The store at `location`: an http(s) URL is a SPARQL server, anything else a folder."""
    text = str(location)
    if text.startswith(("http://", "https://")):
        from heritage_kg.graph.server_store import SparqlServerStore

        return SparqlServerStore(text)
    return EmbeddedStore(Path(text), read_only=read_only)


# Comments, strings and IRIs are blanked before looking for FROM, so that a FROM inside them
# is not mistaken for a dataset clause.
_NOT_KEYWORDS = re.compile(r'#[^\n]*|"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\''
                           r'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>')
_FROM = re.compile(r"(?<![\w:?$])FROM\b", re.IGNORECASE)


def declares_dataset(sparql: str) -> bool:
    """Whether a query names its own dataset with FROM or FROM NAMED."""
    return bool(_FROM.search(_NOT_KEYWORDS.sub(" ", sparql)))


def _open_for_writing(pipe: Path, reader: threading.Thread) -> int:
    """Opens a named pipe once its reader has it open; fails, instead of waiting forever, if the
    reader thread ended before opening it."""
    while True:
        try:
            fd = os.open(pipe, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
            if not reader.is_alive():
                raise StoreError("the store's loader stopped before reading anything") from None
            time.sleep(0.005)
            continue
        os.set_blocking(fd, True)
        return fd


# --- terms: pyoxigraph <-> rdflib, so that callers see one term model whatever the backend ---

def to_rdflib(term) -> Node:
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    raise StoreError(f"unsupported RDF term {term!r}")


class EmbeddedStore(GraphStore):
    """pyoxigraph on disk. The folder holds generations of the store and a `current` link to the
    one in use; a build writes a new generation and swaps the link, so a failed or interrupted
    build never touches the store that readers see."""

    def __init__(self, root: Path, *, read_only: bool = False):
        self.root = root.expanduser().absolute()  # generations are compared as absolute paths
        self.location = str(root)
        self.read_only = read_only
        self._store: ox.Store | None = None
        self._generation: Path | None = None

    # -- layout

    @property
    def _current_link(self) -> Path:
        return self.root / "current"

    def current_generation(self) -> Path | None:
        link = self._current_link
        return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None

    def _open(self) -> ox.Store:
        """The current generation, opened read-only: Oxigraph lets read-only views live beside a
        writer elsewhere, but a read-write open can compact away files that other processes'
        views still read. Writes (`update`) open a writer only for their own time."""
        if self._store is not None and self.current_generation() != self._generation:
            self._store = None  # a build published a new generation: read that one from now on
        if self._store is None:
            generation = self.current_generation()
            if generation is None:
                if self.read_only:
                    raise StoreError(
                        f"no graph store at {self.root}: build one with "
                        f"'heritage-kg build-graph --source PATH --store {self.root}'")
                generation = self._new_generation()
                ox.Store(str(generation)).flush()  # an empty store, for updates to start from
                self._point_current_at(generation)
            try:
                self._store = ox.Store.read_only(str(generation))
            except OSError as exc:
                raise StoreError(f"cannot open the store at {generation}: {exc}") from None
            self._generation = generation
        return self._store

    def _new_generation(self) -> Path:
        generations = self.root / "generations"
        generations.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=generations))

    def _point_current_at(self, generation: Path) -> None:
        temporary = self.root / "current.new"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(generation.relative_to(self.root))
        os.replace(temporary, self._current_link)  # atomic on POSIX

    @contextmanager
    def _build_lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".build.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(f"a build is writing to {self.root}; try again when it has finished") from None
            yield

    def staging_dir(self) -> Path:
        """A folder beside the store for a build's temporary files (same file system)."""
        path = self.root / "staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- queries

    def _query(self, sparql: str, bindings):
        # pyoxigraph's own substitutions only bind projected variables; parameters are often
        # used in filters, so they are written into the query as RDF terms.
        if bindings:
            sparql = inline_bindings(sparql, bindings)
        try:
            return self._open().query(sparql, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except OSError as exc:
            raise StoreError(f"query failed: {exc}") from None

    def select(self, sparql, bindings=None):
        result = self._query(sparql, bindings)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("expected a SELECT query")
        variables = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in variables:
                term = solution[name]
                if term is not None:
                    row[name] = to_rdflib(term)
            rows.append(row)
        return variables, rows

    def ask(self, sparql, bindings=None):
        result = self._query(sparql, bindings)
        if not isinstance(result, ox.QueryBoolean):
            raise QueryError("expected an ASK query")
        return bool(result)

    def construct(self, sparql, bindings=None):
        result = self._query(sparql, bindings)
        if not isinstance(result, ox.QueryTriples):
            raise QueryError("expected a CONSTRUCT or DESCRIBE query")
        return [(to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)) for t in result]

    def raw_query(self, sparql, *, default_graphs=(), named_graphs=()):
        if default_graphs or named_graphs:
            try:
                dataset = {"default_graph": [ox.NamedNode(g) for g in default_graphs] or ox.DefaultGraph(),
                           "named_graphs": [ox.NamedNode(g) for g in named_graphs]}
            except ValueError as exc:
                raise QueryError(f"a graph of the dataset is not an IRI: {exc}") from None
        else:
            dataset = {"use_default_graph_as_union": not declares_dataset(sparql)}
        try:
            return self._open().query(sparql, **dataset)
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None
        except (OSError, ValueError) as exc:
            raise StoreError(f"query failed: {exc}") from None

    def update(self, sparql):
        if self.read_only:
            raise StoreError("the store is open read-only")
        try:
            # an update waits for no build: one that ran while a build copies the kept graphs
            # into a new generation would be lost with the old generation
            with self._build_lock():
                self._open()
                generation = self._generation
                self.close()
                ox.Store(str(generation)).update(sparql)  # the writer is closed when dropped
        except SyntaxError as exc:
            raise QueryError(f"SPARQL syntax error: {exc}") from None

    def named_graphs(self):
        return sorted(g.value for g in self._open().named_graphs() if isinstance(g, ox.NamedNode))

    def export_graph(self, graph, out):
        self._open().dump(str(out), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))

    # -- builds

    def replace_graphs(self, nquads, graphs):
        self._publish(lambda fresh: fresh.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS), graphs)

    def publish_graphs(self, write_quads, graphs):
        # Oxigraph's bulk loader reads a named pipe in a thread of its own, without the GIL, while
        # `write_quads` writes into it: mapping and loading overlap, and no N-Quads file is kept.
        self._publish(lambda fresh: self._stream_into(fresh, write_quads), graphs)

    def _publish(self, load_new_quads: Callable[[ox.Store], None], graphs) -> None:
        replaced = set(graphs)
        with self._build_lock():
            self.close()
            old = self.current_generation()
            dumps = self._dump_kept_graphs(old, replaced) if old is not None else []
            generation = self._new_generation()
            try:
                fresh = ox.Store(str(generation))
                load_new_quads(fresh)
                for graph, dump in dumps:
                    fresh.bulk_load(path=str(dump), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
                fresh.flush()
                del fresh
            except BaseException:
                shutil.rmtree(generation, ignore_errors=True)
                raise
            finally:
                for _, dump in dumps:
                    dump.unlink(missing_ok=True)
            self._point_current_at(generation)
            self.remove_stale_generations()

    def _stream_into(self, fresh: ox.Store, write_quads: Callable[[TextIO], None]) -> None:
        folder = Path(tempfile.mkdtemp(dir=self.staging_dir()))
        pipe = folder / "quads.nq"
        os.mkfifo(pipe)
        failures: list[BaseException] = []

        def load() -> None:
            try:
                fresh.bulk_load(path=str(pipe), format=ox.RdfFormat.N_QUADS)
            except BaseException as exc:  # handed to the writing thread below
                failures.append(exc)

        loader = threading.Thread(target=load, name="bulk-load", daemon=True)
        loader.start()
        try:
            with os.fdopen(_open_for_writing(pipe, loader), "w", encoding="utf-8", buffering=1 << 20) as out:
                write_quads(out)
        except BrokenPipeError:
            pass  # the loader stopped reading: its own error says why
        finally:
            loader.join()  # the pipe is closed: the loader reads to its end
            shutil.rmtree(folder, ignore_errors=True)
        if failures:
            raise failures[0]

    def _dump_kept_graphs(self, generation: Path, replaced: set[str]) -> list[tuple[object, Path]]:
        """Every graph of `generation` that a build does not replace, as N-Triples files.
        Deleting millions of quads in place is slow in RocksDB; copying what is kept into a fresh
        generation with the bulk loader is fast, and the old generation is only read (read-only,
        so that a service reading it meanwhile is not disturbed)."""
        source = ox.Store.read_only(str(generation))
        kept = [ox.NamedNode(g.value) for g in source.named_graphs()
                if isinstance(g, ox.NamedNode) and g.value not in replaced]
        dumps = []
        for graph in [*kept, ox.DefaultGraph()]:
            dump = self.staging_dir() / f"kept-{len(dumps)}.nt"
            source.dump(str(dump), format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            dumps.append((graph, dump))
        del source
        return dumps

    def remove_stale_generations(self) -> None:
        """Generations left by interrupted builds."""
        current = self.current_generation()
        for path in (self.root / "generations").glob("*"):
            if path != current:
                shutil.rmtree(path, ignore_errors=True)

    def close(self):
        if self._store is not None:
            self._store = None  # pyoxigraph closes the database when the object is dropped
