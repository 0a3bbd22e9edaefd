"""The SPARQL endpoint's queries run in a pool of worker processes, each with the store open
read-only. A worker lives on across updates and rebuilds: its store reopens its read-only view
when the store's data version changed (about 15 ms on the Tate store, against 1-2 s to start a
process). pyoxigraph cannot cancel a query, so a query that runs past the time limit is stopped
by killing its worker, which is replaced; the other workers keep answering meanwhile."""

from __future__ import annotations

import asyncio
import multiprocessing
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

from heritage_kg.errors import HeritageKGError, QueryTimeoutError, StoreError
from heritage_kg.graph.results import SerializedAnswer


@dataclass(frozen=True)
class QueryRequest:
    sparql: str
    media_types: tuple[str, ...]
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    max_rows: int | None = None


def _answer_queries(location: str, connection: Connection) -> None:
    """A worker's life: answer each request on `connection` until told to stop (None)."""
    from heritage_kg.graph.store import open_store

    store = open_store(location, read_only=True)
    while (request := connection.recv()) is not None:
        for attempt in (1, 2):
            try:
                answer = store.answer_query(request.sparql, request.media_types, default_graphs=request.default_graphs,
                                            named_graphs=request.named_graphs, max_rows=request.max_rows)
                # The body goes as raw bytes, not pickled: one copy, into the service's response.
                connection.send(("answer", (answer.media_type, answer.truncated, answer.rows,
                                            store.view_version)))
                connection.send_bytes(answer.body)
                break
            except (StoreError, RuntimeError, OSError) as exc:
                # A read-only view can lose files to a writer's compaction or a build's removal of
                # the generation it read, while the answer is serialized: open it afresh, try again.
                store.close()
                if attempt == 2:
                    connection.send(("error", exc if isinstance(exc, StoreError) else
                                     StoreError(f"the query failed: {type(exc).__name__}: {exc}")))
            except HeritageKGError as exc:
                connection.send(("error", exc))
                break
            except Exception as exc:  # noqa: BLE001  (a worker reports, never dies, on a store's surprise)
                connection.send(("error", StoreError(f"the query failed: {type(exc).__name__}: {exc}")))
                break
        # After an update or a rebuild, open the new view now, before taking the next query, so
        # that no query waits for it: the service sends this worker nothing until it is ready.
        store.refresh()
        connection.send(("ready", None))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    stopped: bool = field(default=False)

    def kill(self) -> None:
        self.stopped = True
        self.process.kill()
        self.process.join(timeout=5)
        self.connection.close()


class QueryWorkers:
    """`size` worker processes over the store at `location`; `answer()` runs one query on an idle
    worker, waiting at most `timeout_s` for it."""

    def __init__(self, location: str, size: int, timeout_s: float):
        self.location = location
        self.size = size
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("spawn")  # never fork a process running an event loop
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []  # every live worker, idle or busy

    def start(self) -> None:
        self._idle = asyncio.Queue()
        for _ in range(self.size):
            self._idle.put_nowait(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_answer_queries, args=(self.location, child), daemon=True,
                                        name="heritage-kg-query-worker")
        process.start()
        child.close()
        self._workers = [w for w in self._workers if not w.stopped]
        self._workers.append(_Worker(process, parent))
        return self._workers[-1]

    async def answer(self, request: QueryRequest) -> SerializedAnswer:
        if self._idle is None:
            raise StoreError("the query workers are not running")
        worker = await self._idle.get()
        if not worker.process.is_alive():
            worker.kill()
            worker = self._spawn()
        try:
            worker.connection.send(request)
            outcome, payload = await self._reply(worker)
        except TimeoutError:
            worker.kill()
            raise QueryTimeoutError(
                f"the query was stopped after {self.timeout_s:g} s (the service's limit, "
                f"HERITAGE_KG_SPARQL_TIMEOUT_S); narrow it, or add a LIMIT") from None
        except (EOFError, OSError):
            worker.kill()
            raise StoreError("the query's worker process died (out of memory?); try a narrower query") from None
        finally:
            if worker.stopped:
                self._idle.put_nowait(self._spawn())
            else:
                asyncio.get_running_loop().create_task(self._back_when_ready(worker))
        if outcome == "error":
            raise payload
        return payload

    async def _back_when_ready(self, worker: _Worker) -> None:
        """Returns the worker to the idle ones once it has its view up to date; one that does
        not say so in time is replaced."""
        try:
            # an answer nobody awaited any more (the request was cancelled) comes first: skip it
            while (await self._reply(worker))[0] != "ready":
                pass
        except (TimeoutError, EOFError, OSError):
            worker.kill()
        if self._idle is not None:
            self._idle.put_nowait(self._spawn() if worker.stopped else worker)

    async def _reply(self, worker: _Worker):
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        descriptor = worker.connection.fileno()
        loop.add_reader(descriptor, lambda: readable.done() or readable.set_result(None))
        try:
            await asyncio.wait_for(readable, self.timeout_s)
        finally:
            loop.remove_reader(descriptor)
        # The whole reply follows at once: the worker serialized it before sending.
        outcome, payload = worker.connection.recv()
        if outcome == "answer":
            media_type, truncated, rows, data_version = payload
            return outcome, SerializedAnswer(worker.connection.recv_bytes(), media_type, truncated, rows, data_version)
        return outcome, payload

    def close(self) -> None:
        if self._idle is None:
            return
        for worker in self._workers:
            try:
                worker.connection.send(None)
            except OSError:
                pass
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.kill()
        self._workers, self._idle = [], None
