"""The embedded backend: pyoxigraph on disk. The folder holds generations of the store, a
`current` link to the one in use, and `views/`: read-only copies of the data for readers.

- Readers never open a generation that a writer may have open: RocksDB calls reading a database
  that another handle writes undefined behaviour, and it is (a view opened beside a writer saw 7
  quads of 3 million, and a query on a view whose files a compaction removed grew without end).
  They query a view instead: a RocksDB checkpoint (hard links to the immutable table files) that
  the writer makes after each update (about 12 ms on the Tate and CMOA store) and a build at its
  swap, named by the generation and the update sequence it holds. A reader opens a fresh view whenever
  `data_version()` changed (an update, a new generation), so a reader process lives on across
  updates. Views no reader can still want are removed after `VIEW_GRACE_S`.
- Updates go through one writer at a time, which keeps the current generation open for writing
  while it holds the update lock (an update on an open writer takes well under a millisecond,
  where opening and closing a writer for each takes 30 ms and leaves eight small files behind),
  and lets go as soon as another process waits for the lock (`locks.StoreLocks`).
- A build snapshots the current generation (a RocksDB checkpoint: hard links), makes the new
  generation from it, replays the updates that arrived meanwhile (`journal.UpdateJournal`) and
  swaps the link; the update lock is held only for the snapshot and for the replay and swap,
  so updates wait milliseconds, never for the build. A failed or killed build leaves the
  current generation untouched."""

from __future__ import annotations

import errno
import gc
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import pyoxigraph as ox
from rdflib import URIRef

from heritage_kg.errors import QueryError, StoreError
from heritage_kg.graph.queries import inline_bindings, load_query
from heritage_kg.graph.store.base import GraphStore, declares_dataset
from heritage_kg.graph.store.journal import UpdateJournal
from heritage_kg.graph.store.locks import StoreLocks

# A build deletes the graphs it replaces in place (on a checkpoint of the current generation)
# when they hold less than this share of the store's quads; otherwise it copies the graphs it
# keeps into a fresh generation. Measured on the Tate and CMOA store: deleting in place costs
# about 70 µs a quad (CMOA's 0.7M quads: 48 s), copying with the bulk loader about 28 µs a quad
# (Tate's 2.2M: 63 s); the two meet near a quarter.
IN_PLACE_SHARE = 0.25
# Tries to open a read-only view while writers and builds move files under it.
OPEN_ATTEMPTS = 5
# How often a writer that holds the update lock looks whether another writer waits for it.
HANDOVER_POLL_S = 0.02
# How long a view stays once a newer one exists: a reader that opened it may still be reading
# (a view's files are opened lazily, so removing them fails that reader's query).
VIEW_GRACE_S = 120.0


class EmbeddedStore(GraphStore):
    def __init__(self, root: Path, *, read_only: bool = False):
        self.root = root.expanduser().absolute()  # generations are compared as absolute paths
        self.location = str(root)
        self.read_only = read_only
        self._locks = StoreLocks(self.root)
        self._journal = UpdateJournal(self.root)
        self._view: ox.Store | None = None
        self._view_version: tuple[str | None, int] | None = None
        # a fresh view opening in a thread, and where it lands: (thread, [(view, version)])
        self._reopening: tuple[threading.Thread, list] | None = None
        self._next_prune = 0.0  # when this reader next removes replaced views (time.monotonic())
        # the writer: open only while this object holds the update lock
        self._writing = threading.RLock()
        self._writer: ox.Store | None = None
        self._update_lock = None

    # -- layout

    @property
    def _current_link(self) -> Path:
        return self.root / "current"

    def current_generation(self) -> Path | None:
        link = self._current_link
        return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None

    def data_version(self) -> str | None:
        return _version_token(*self._version())

    @property
    def view_version(self) -> str | None:
        # read before the view opened, so the view holds at least this data
        return _version_token(*self._view_version) if self._view is not None else None

    def _version(self) -> tuple[str | None, int]:
        """The current link's target and the update sequence: two system calls, read before every
        query. The sequence first: a view opened after reading both is at least as new as both."""
        sequence = self._journal.sequence()
        try:
            return os.readlink(self._current_link), sequence
        except FileNotFoundError:
            return None, sequence

    def refresh(self) -> None:
        try:
            self._open()
        except StoreError:
            pass  # the next query tries again, and says what is wrong

    def _new_generation(self) -> Path:
        generations = self.root / "generations"
        generations.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%dT%H%M%S-"), dir=generations))

    def _point_current_at(self, generation: Path) -> None:
        temporary = self.root / "current.new"
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(generation.relative_to(self.root))
        os.replace(temporary, self._current_link)  # atomic on POSIX

    def _empty_generation(self) -> Path:
        """A first, empty generation, for updates to start from (called under the update lock)."""
        generation = self._new_generation()
        self._save_view(ox.Store(str(generation)), generation, self._journal.sequence())
        self._point_current_at(generation)
        return generation

    # -- views: what readers open

    @property
    def _views(self) -> Path:
        return self.root / "views"

    def _view_dir(self, generation: str | Path, sequence: int) -> Path:
        return self._views / f"{Path(generation).name}-{sequence}"

    def _save_view(self, writer: ox.Store, generation: Path, sequence: int) -> None:
        """The view of `generation` at `sequence`, checkpointed from its open writer."""
        self._add_view(generation, sequence, lambda view: writer.backup(str(view)))

    def _save_closed_view(self, generation: Path, sequence: int) -> None:
        """The view of a generation no writer has open (a build's, at its swap, under the update
        lock), made by hand as a RocksDB checkpoint is: hard links to the table files, copies of
        the others. A writer opened for a checkpoint compacts when it closes, and the view would
        keep table files the generation no longer has: twice the disk, at rest."""
        def link(view: Path) -> None:
            view.mkdir()
            for path in generation.iterdir():
                if path.name == "LOCK" or path.name.startswith("LOG"):
                    continue  # the writer's lock and its diagnostic logs
                if path.suffix == ".sst":
                    os.link(path, view / path.name)  # immutable once written
                else:
                    shutil.copy2(path, view / path.name)  # CURRENT, MANIFEST, OPTIONS, an empty WAL

        self._add_view(generation, sequence, link)

    def _add_view(self, generation: Path, sequence: int, make: Callable[[Path], None]) -> None:
        """`make(folder)` writes the view of `generation` at `sequence` into a partial folder,
        renamed into place whole; then the views no reader can still want are removed."""
        view = self._view_dir(generation, sequence)
        self._views.mkdir(parents=True, exist_ok=True)
        partial = self._views / f".{view.name}.{os.getpid()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(view, ignore_errors=True)  # left by a writer killed before its update counted
        try:
            make(partial)
        except OSError as exc:
            shutil.rmtree(partial, ignore_errors=True)
            raise StoreError(f"cannot save a view of the store at {generation}: {exc}") from None
        partial.rename(view)
        self._remove_old_views(keep=view)

    def _remove_old_views(self, keep: Path) -> None:
        """Views (and partial ones, of killed writers) that a newer view replaced more than
        `VIEW_GRACE_S` ago."""
        dated = []
        for path in self._views.iterdir():
            try:
                dated.append((path.stat().st_mtime, path))
            except FileNotFoundError:
                continue
        dated.sort()
        cutoff = time.time() - VIEW_GRACE_S
        for (_, path), (replaced_at, _) in zip(dated, dated[1:]):
            if replaced_at < cutoff and path != keep:
                shutil.rmtree(path, ignore_errors=True)

    def _make_view(self, version: tuple[str, int]) -> None:
        """The missing view of `version` (a store written before views existed): checkpointed under
        the update lock from this object's writer, or from one opened for it."""
        with self._writing:
            if self._writer is not None:
                if self._version() == version:
                    self._save_view(self._writer, self.root / version[0], version[1])
                return
            with self._locks.update():
                if self._version() == version and not self._view_dir(*version).is_dir():
                    self._save_view(ox.Store(str(self.root / version[0])), self.root / version[0], version[1])

    def staging_dir(self) -> Path:
        """A folder beside the store for a build's temporary files (same file system)."""
        path = self.root / "staging"
        path.mkdir(parents=True, exist_ok=True)
        return path

    # -- reads

    def _open(self) -> ox.Store:
        """A read-only view of the current data, reopened when the data changed: a checkpoint
        that no writer touches (see the module's docstring). While a fresh view opens in the
        background (`reopen_in_background`), the current one answers: its caller chose to let
        reads lag for those milliseconds."""
        if self._reopening is not None and self._view is not None:
            return self._view
        version = self._version()
        if self._view is None or version != self._view_version:
            self._view = None
            self._view, self._view_version = self._open_latest(version)
        self._prune_views_now_and_then()
        return self._view

    def _prune_views_now_and_then(self) -> None:
        """Readers remove the views that a newer one replaced (`_remove_old_views`) too, every
        quarter of `VIEW_GRACE_S`: a replaced view keeps the table files of data the store no
        longer holds (after a build, the whole old generation), and a store that is only read
        after its last write would keep them for good."""
        now = time.monotonic()
        if now < self._next_prune:
            return
        self._next_prune = now + VIEW_GRACE_S / 4
        try:
            self._remove_old_views(keep=self._view_dir(*self._view_version))
        except OSError:
            pass  # a read-only folder: the next writer removes them

    def _open_latest(self, version: tuple[str | None, int]) -> tuple[ox.Store, tuple[str | None, int]]:
        """A view of the current generation, with the version read before it opened."""
        failure: BaseException | None = None
        for attempt in range(OPEN_ATTEMPTS):
            generation = self.current_generation()
            if generation is None:
                if self.read_only:
                    raise StoreError(f"no graph store at {self.root}: build one with "
                                     f"'heritage-kg build-graph --source PATH --store {self.root}'")
                with self._locks.update():
                    if self.current_generation() is None:
                        self._empty_generation()
                version = self._version()
                continue
            view = self._view_dir(*version) if version[0] else None
            if view is None or not view.is_dir():
                if view is not None:
                    self._make_view(version)
                version = self._version()
                continue
            try:
                return ox.Store.read_only(str(view)), version
            except (OSError, RuntimeError) as exc:
                # the view was removed as it opened (a newer one exists for VIEW_GRACE_S): look again
                failure = exc
                time.sleep(0.01 * (attempt + 1))
                version = self._version()
        raise StoreError(f"cannot open the store at {self.root}: {failure}") from None

    # -- a fresh view opened beside the one that answers (a query worker after an update)

    def reopen_in_background(self) -> bool:
        """Starts opening a view of the latest data in a thread (Oxigraph opens it without the
        GIL), the current view answering meanwhile; False where the view is current or a fresh
        one is opening already. `adopt_reopened_view` swaps it in."""
        if self._reopening is not None or (self._view is not None and self._version() == self._view_version):
            return False
        opened: list = []

        def open_latest() -> None:
            try:
                opened.append(self._open_latest(self._version()))
            except StoreError:
                pass  # the next query opens it inline, and says what is wrong

        thread = threading.Thread(target=open_latest, name="heritage-kg-view-reopen", daemon=True)
        self._reopening = (thread, opened)
        thread.start()
        return True

    @property
    def reopening(self) -> bool:
        return self._reopening is not None

    def adopt_reopened_view(self, *, wait: bool) -> bool:
        """Swaps in the view opened in the background once it is open (with `wait`: waits for
        it); True if a view was adopted (or its opening failed, and the next query opens one)."""
        if self._reopening is None:
            return False
        thread, opened = self._reopening
        if wait:
            thread.join()
        elif thread.is_alive():
            return False
        self._reopening = None
        if opened:
            self._view, self._view_version = opened[0]
        return True

    def raw_query(self, sparql, *, default_graphs=(), named_graphs=()):
        if default_graphs or named_graphs:
            try:
                dataset = {"default_graph": [ox.NamedNode(g) for g in default_graphs] or ox.DefaultGraph(),
                           "named_graphs": [ox.NamedNode(g) for g in named_graphs]}
            except ValueError as exc:
                raise QueryError(f"a graph of the dataset is not an IRI: {exc}") from None
        else:
            dataset = {"use_default_graph_as_union": not declares_dataset(sparql)}
        for attempt in (1, 2):
            try:
                return self._open().query(sparql, **dataset)
            except SyntaxError as exc:
                raise QueryError(f"SPARQL syntax error: {exc}") from None
            except (OSError, RuntimeError) as exc:
                # a build removed the generation this view read, or a writer's compaction a file
                # it had not opened yet: the current generation, opened afresh, has the data
                self.close()
                if attempt == 2:
                    raise StoreError(f"query failed: {exc}") from None
            except ValueError as exc:
                raise StoreError(f"query failed: {exc}") from None

    def named_graphs(self):
        return sorted(g.value for g in self._open().named_graphs() if isinstance(g, ox.NamedNode))

    def export_graph(self, graph, out):
        self._open().dump(str(out), format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))

    def export_quads(self, out: Path) -> None:
        """Every graph of the store as one N-Quads file (the view's: safe beside a writer)."""
        self._open().dump(str(out), format=ox.RdfFormat.N_QUADS)

    # -- updates

    def update(self, sparql):
        if self.read_only:
            raise StoreError("the store is open read-only")
        with self._writing:
            writer = self._writable()
            try:
                writer.update(sparql)
            except SyntaxError as exc:
                raise QueryError(f"SPARQL syntax error: {exc}") from None
            except (OSError, ValueError) as exc:
                raise StoreError(f"the update failed: {exc}") from None
            try:
                self._save_view(writer, self.current_generation(), self._journal.sequence() + 1)
            finally:
                # a build that started before this update snapshotted without it: journal it for
                # the build to replay (fsync'ed before the update is acknowledged)
                self._journal.record(sparql, for_build=self._locks.build_running())

    def _writable(self) -> ox.Store:
        """The current generation open for writing, under the update lock (taken if not held)."""
        if self._writer is None:
            self._update_lock = self._locks.acquire_update()
            try:
                generation = self.current_generation() or self._empty_generation()
                self._writer = ox.Store(str(generation))
            except BaseException:
                self._locks.release_update(self._update_lock)
                self._update_lock = None
                raise
            threading.Thread(target=self._hand_over_when_asked, name="store-writer-handover", daemon=True).start()
        return self._writer

    def _hand_over_when_asked(self) -> None:
        """Keeps the writer open between updates until another writer waits for the lock."""
        while True:
            time.sleep(HANDOVER_POLL_S)
            with self._writing:
                if self._writer is None:
                    return
                if self._locks.others_waiting():
                    self._release_writer()
                    return

    def _release_writer(self) -> None:
        with self._writing:
            if self._writer is not None:
                self._writer = None  # pyoxigraph closes the database when the object is dropped
                self._locks.release_update(self._update_lock)
                self._update_lock = None

    # -- builds

    def replace_graphs(self, nquads, graphs):
        self._publish(lambda fresh: fresh.bulk_load(path=str(nquads), format=ox.RdfFormat.N_QUADS), graphs)

    def publish_graphs(self, write_quads, graphs):
        # Oxigraph's bulk loader reads a named pipe in a thread of its own, without the GIL, while
        # `write_quads` writes into it: mapping and loading overlap, and no N-Quads file is kept.
        self._publish(lambda fresh: self._stream_into(fresh, write_quads), graphs)

    def _publish(self, load_new_quads: Callable[[ox.Store], None], graphs) -> None:
        replaced = set(graphs)
        with self._locks.build():
            self.close()  # this object's own writer would hold the lock the snapshot needs
            self._remove_leftover_checkpoints()
            checkpoint, sequence = self._snapshot()
            try:
                generation, fresh = self._generation_from(checkpoint, replaced)
            finally:
                if checkpoint is not None:
                    shutil.rmtree(checkpoint, ignore_errors=True)
            try:
                load_new_quads(fresh)
                fresh.flush()
                del fresh  # closed before the swap: closing waits for RocksDB's compactions
                with self._locks.update():  # the swap: updates wait, for the replay and the view only
                    # The loading may leave the new generation's first handle in a reference
                    # cycle, still open: RocksDB would refuse a second open ("lock hold by current
                    # process"), and the view below must see the generation closed. Collect it.
                    gc.collect()
                    if updates := self._journal.since(sequence):
                        fresh = ox.Store(str(generation))
                        for update in updates:
                            fresh.update(update)
                        fresh.flush()
                        del fresh
                    self._save_closed_view(generation, self._journal.sequence())
                    self._point_current_at(generation)
                    self._journal.clear()
            except BaseException as exc:
                # the failed loader's frames still hold the new store: close it before removing it
                traceback.clear_frames(exc.__traceback__)
                fresh = None
                shutil.rmtree(generation, ignore_errors=True)
                raise
            self.remove_stale_generations()

    def _snapshot(self) -> tuple[Path | None, int]:
        """A checkpoint of the current generation (hard links; made by a writer, so that it holds
        what is still in memory too) and the update sequence it holds."""
        with self._locks.update():
            self._journal.clear()  # what it holds is in the checkpoint
            sequence = self._journal.sequence()
            current = self.current_generation()
            if current is None:
                return None, sequence
            checkpoint = self.staging_dir() / f"checkpoint-{time.time_ns()}"
            try:
                ox.Store(str(current)).backup(str(checkpoint))  # the writer is closed when dropped
            except OSError as exc:
                shutil.rmtree(checkpoint, ignore_errors=True)
                raise StoreError(f"cannot snapshot the store at {current}: {exc}") from None
            return checkpoint, sequence

    def _generation_from(self, checkpoint: Path | None, replaced: set[str]) -> tuple[Path, ox.Store]:
        """The new generation, open for writing, holding every graph of the checkpoint but the
        `replaced` ones: the checkpoint itself with those deleted when they are small beside what
        is kept, else a fresh store with the kept graphs copied in by the bulk loader."""
        if checkpoint is None:
            generation = self._new_generation()
            return generation, ox.Store(str(generation))
        source = ox.Store.read_only(str(checkpoint))
        present = [g for g in replaced if source.contains_named_graph(ox.NamedNode(g))]
        # a new collection deletes nothing: the store's size (len() reads every quad, 6 s at
        # 22 M) is only read when there are graphs to weigh against it
        if not present or sum(_graph_size(source, g) for g in present) < len(source) * IN_PLACE_SHARE:
            del source
            generation = self._new_generation()
            generation.rmdir()
            checkpoint.rename(generation)
            fresh = ox.Store(str(generation))
            for graph in present:
                fresh.remove_graph(ox.NamedNode(graph))
            return generation, fresh
        dumps = self._dump_kept_graphs(source, replaced)
        del source
        generation = self._new_generation()
        try:
            fresh = ox.Store(str(generation))
            for graph, dump in dumps:
                fresh.bulk_load(path=str(dump), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)
            raise
        finally:
            for _, dump in dumps:
                dump.unlink(missing_ok=True)
        return generation, fresh

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

    def _dump_kept_graphs(self, source: ox.Store, replaced: set[str]) -> list[tuple[object, Path]]:
        """Every graph of `source` that a build does not replace, as N-Triples files."""
        kept = [ox.NamedNode(g.value) for g in source.named_graphs()
                if isinstance(g, ox.NamedNode) and g.value not in replaced]
        dumps = []
        for graph in [*kept, ox.DefaultGraph()]:
            dump = self.staging_dir() / f"kept-{len(dumps)}.nt"
            source.dump(str(dump), format=ox.RdfFormat.N_TRIPLES, from_graph=graph)
            dumps.append((graph, dump))
        return dumps

    def _remove_leftover_checkpoints(self) -> None:
        """Checkpoints of builds that were killed (called under the build lock)."""
        for path in self.staging_dir().glob("checkpoint-*"):
            shutil.rmtree(path, ignore_errors=True)

    def remove_stale_generations(self) -> None:
        """Generations left by interrupted builds, and the one a build replaced."""
        current = self.current_generation()
        for path in (self.root / "generations").glob("*"):
            if path != current:
                shutil.rmtree(path, ignore_errors=True)

    def close(self):
        self._view = None  # pyoxigraph closes the database when the object is dropped
        self._reopening = None
        self._release_writer()


def _graph_size(store: ox.Store, graph: str) -> int:
    query = load_query("store_graph_size")
    answer = store.query(inline_bindings(query.text, query.bindings({"graph": URIRef(graph)})))
    return int(next(iter(answer))["n"].value)


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


def _version_token(generation: str | None, sequence: int) -> str:
    return f"{Path(generation).name if generation else 'empty'}:{sequence}"
