"""The SPARQL endpoint's queries run in a pool of worker processes, each with the store open
read-only. A worker lives on across updates and rebuilds: its store reopens its read-only view
when the store's data version changed (about 15 ms on the Tate store, against 1-2 s to start a
process). pyoxigraph cannot cancel a query, so a query that runs past the time limit is stopped
by killing its worker, which is replaced; the other workers keep answering meanwhile.

The hop to a worker is on the path of every computed answer, so it is kept lean: each worker's
pipe stays registered with the event loop for the worker's life and its replies are read as
they arrive (no reader added and removed, no task, per query); a reply is one frame (a kind
byte, then the answer's few fields and its body as raw bytes), sent with one system call (two
for a large body, which is not copied); it says "ready" too when the worker's view is current.
After an update of the service, idle workers open the new view in a thread beside the one they
answer from (`QueryWorkers.catch_up`), so that no read waits for the reopen."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import socket
import struct
from dataclasses import dataclass
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


# A worker's replies, framed as multiprocessing.Connection frames them (a 4-byte big-endian
# length; -1 and then 8 bytes for a frame over 2 GiB): a kind byte, then for an answer or an
# error a byte that says whether the worker is ready for the next query too (no READY follows
# then), then the answer (its fields, media type, view version and body) or the pickled error.
ANSWER, ERROR, READY = b"A", b"E", b"R"
CAUGHT_UP = b"C"  # a view of the latest data is open (after CATCH_UP)
# what the service asks of a worker besides queries: open a view of the latest data beside the
# one that answers, and say CAUGHT_UP when it is in use
CATCH_UP = "catch up"
# how often a worker whose fresh view opens in the background looks whether it is open
REOPEN_POLL_S = 0.002
_LENGTH, _LONG_LENGTH = struct.Struct("!i"), struct.Struct("!Q")
_ANSWER_FIELDS = struct.Struct("!?qHH")  # truncated, rows, lengths of the media type and view version


def _answer_fields(answer: SerializedAnswer, view_version: str | None) -> bytes:
    media_type, version = answer.media_type.encode(), (view_version or "").encode()
    return b"".join((_ANSWER_FIELDS.pack(answer.truncated, answer.rows, len(media_type), len(version)),
                     media_type, version))


def _send_frame(pipe: socket.socket, head: bytes, body: bytes = b"") -> None:
    size = len(head) + len(body)
    prefix = _LENGTH.pack(size) if size <= 0x7FFFFFFF else _LENGTH.pack(-1) + _LONG_LENGTH.pack(size)
    if len(body) < 1 << 16:
        pipe.sendall(b"".join((prefix, head, body)))  # one system call
    else:
        pipe.sendall(prefix + head)
        pipe.sendall(body)  # not copied


def _read_answer(frame: memoryview) -> SerializedAnswer:
    truncated, rows, media_length, version_length = _ANSWER_FIELDS.unpack_from(frame)
    start = _ANSWER_FIELDS.size
    media_type = bytes(frame[start:start + media_length]).decode()
    start += media_length
    version = bytes(frame[start:start + version_length]).decode() or None
    return SerializedAnswer(bytes(frame[start + version_length:]), media_type, truncated, rows, version)


def _answer_queries(location: str, server, connection: Connection) -> None:
    """A worker's life: answer each request on `connection` until told to stop (None). `server`:
    the endpoints of a server store (ServerEndpoints), None for a folder."""
    from heritage_kg.graph.store import open_store

    store = open_store(location, read_only=True, server=server)
    pipe = socket.socket(fileno=os.dup(connection.fileno()))  # for replies: see _send_frame
    reopens = hasattr(store, "reopen_in_background")  # an embedded store; a server store is always current
    while True:
        if reopens and store.reopening and not connection.poll(REOPEN_POLL_S):
            if store.adopt_reopened_view(wait=False):
                _send_frame(pipe, CAUGHT_UP)
            continue
        message = connection.recv()
        if message is None:
            break
        if message == CATCH_UP:
            if reopens:
                store.reopen_in_background()
            if not (reopens and store.reopening):
                _send_frame(pipe, CAUGHT_UP)  # current already
            continue
        # `may_lag`: an update of the service waits for the workers to catch up, unacknowledged,
        # so the query may be answered from the view before it
        request, may_lag = message
        if reopens and store.reopening and store.adopt_reopened_view(wait=not may_lag):
            _send_frame(pipe, CAUGHT_UP)
        kind, head, body = _reply(store, request)
        # Most answers are read from the latest data: they say that the worker is ready too,
        # which spares the service a second message and wake-up per query. So does one read
        # while a fresh view opens in the background: the worker goes on answering meanwhile.
        ready = (reopens and store.reopening) or store.view_version == store.data_version()
        _send_frame(pipe, b"".join((kind, b"\1" if ready else b"\0", head)), body)
        if not ready:
            # After an update or a rebuild, open the new view now, before taking the next query,
            # so that no query waits for it: the service sends this worker nothing until it is ready.
            store.refresh()
            _send_frame(pipe, READY)


def _reply(store, request: QueryRequest) -> tuple[bytes, bytes, bytes]:
    """The reply's kind, its head (the answer's fields, or the pickled error) and the body."""
    for attempt in (1, 2):
        try:
            answer = store.answer_query(request.sparql, request.media_types, default_graphs=request.default_graphs,
                                        named_graphs=request.named_graphs, max_rows=request.max_rows)
            return ANSWER, _answer_fields(answer, store.view_version), answer.body
        except (StoreError, RuntimeError, OSError) as exc:
            # A read-only view can lose files to a writer's compaction or a build's removal of
            # the generation it read, while the answer is serialized: open it afresh, try again.
            store.close()
            if attempt == 2:
                error = exc if isinstance(exc, StoreError) else StoreError(f"the query failed: {type(exc).__name__}: {exc}")
        except HeritageKGError as exc:
            error = exc
            break
        except Exception as exc:  # noqa: BLE001  (a worker reports, never dies, on a store's surprise)
            error = StoreError(f"the query failed: {type(exc).__name__}: {exc}")
            break
    return ERROR, pickle.dumps(error), b""


class _Worker:
    """The service's end of one worker process: its pipe, read whenever it is readable, and the
    request it is answering, if any."""

    def __init__(self, pool: QueryWorkers, process: multiprocessing.process.BaseProcess, pipe: socket.socket):
        self.pool, self.process, self.pipe = pool, process, pipe
        self.stopped = False
        self.reply: asyncio.Future | None = None  # the answer a request awaits
        self.deadline: asyncio.TimerHandle | None = None  # for the answer, then for "ready"
        self.caught_up: asyncio.Future | None = None  # after catch_up(), until CAUGHT_UP
        self.idle = False  # among the pool's idle workers
        self.answered = False  # has answered a query: it has a view open (a new one opens the latest)
        self._buffer = bytearray()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(pipe.fileno(), self._readable)

    def ask(self, request: QueryRequest, may_lag: bool) -> asyncio.Future:
        self.reply = self._loop.create_future()
        self._arm()
        message = pickle.dumps((request, may_lag), pickle.HIGHEST_PROTOCOL)
        self._send(_LENGTH.pack(len(message)) + message)
        return self.reply

    def _send(self, data: bytes) -> None:
        # The worker waits for its next request, so the pipe's buffer is empty and takes all but
        # a query of hundreds of kilobytes at once; the rest of such a query waits for room.
        sent = self.pipe.send(data)
        if sent < len(data):
            self.pipe.setblocking(True)
            try:
                self.pipe.sendall(data[sent:])
            finally:
                self.pipe.setblocking(False)

    def catch_up(self) -> asyncio.Future:
        self.caught_up = self._loop.create_future()
        message = pickle.dumps(CATCH_UP)
        self._send(_LENGTH.pack(len(message)) + message)
        return self.caught_up

    def _arm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = self._loop.call_later(self.pool.timeout_s, self._late)

    def _late(self) -> None:
        """The answer, or the "ready" after it, did not come in time."""
        self.deadline = None
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(TimeoutError())  # the request kills this worker and says why
        else:
            self.kill()
            self.pool._replace(self)

    def _readable(self) -> None:
        # A large answer is read to its end here, not a chunk per turn of the event loop.
        while self._read() and self._buffer:
            pass

    def _read(self) -> bool:
        """Reads what the pipe holds and takes the whole frames in it; False once it is empty."""
        try:
            data = self.pipe.recv(1 << 18)  # as asyncio's own transports read
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            data = b""
        if not data:
            self._lost()
            return False
        buffer = self._buffer
        buffer += data
        while len(buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer)
            start = _LENGTH.size
            if length == -1:
                if len(buffer) < start + _LONG_LENGTH.size:
                    break
                (length,) = _LONG_LENGTH.unpack_from(buffer, start)
                start += _LONG_LENGTH.size
            if len(buffer) < start + length:
                break
            frame = memoryview(buffer)[start:start + length]
            try:
                self._received(frame)
            finally:
                frame.release()  # before the buffer drops the frame
            del buffer[:start + length]
        return not self.stopped

    def _received(self, frame: memoryview) -> None:
        kind = frame[:1]
        if kind == READY:
            self._ready()
            return
        if kind == CAUGHT_UP:
            if self.caught_up is not None and not self.caught_up.done():
                self.caught_up.set_result(None)
            return
        reply, self.reply = self.reply, None
        self.answered = True
        if frame[1]:
            self._ready()
        else:
            self._arm()  # "ready" comes next, once the worker has its view up to date
        if reply is None or reply.done():
            return  # an answer nobody awaits any more (the request was cancelled): skip it
        if kind == ANSWER:
            reply.set_result(_read_answer(frame[2:]))
        else:
            reply.set_exception(pickle.loads(frame[2:]))

    def _ready(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
        if self.pool._idle is not None:
            self.pool._put_idle(self)

    def _lost(self) -> None:
        if self.reply is not None and not self.reply.done():
            self.reply.set_exception(EOFError())
        elif not self.stopped:  # died between queries, or while opening its view
            self.kill()
            self.pool._replace(self)

    def kill(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        if self.caught_up is not None and not self.caught_up.done():
            self.caught_up.set_result(None)  # its replacement opens the latest data
        if self.deadline is not None:
            self.deadline.cancel()
        self._loop.remove_reader(self.pipe.fileno())
        self.process.kill()
        self.process.join(timeout=5)
        self.pipe.close()

    def stop(self) -> None:
        """Asks the worker to finish; kills it if it does not within 2 s."""
        if self.stopped:
            return
        message = pickle.dumps(None)
        try:
            self._send(_LENGTH.pack(len(message)) + message)
        except OSError:
            pass
        self.process.join(timeout=2)
        self.kill()


class QueryWorkers:
    """`size` worker processes over the store at `location` (a server store at the `server`
    endpoints); `answer()` runs one query on an idle worker, waiting at most `timeout_s` for it."""

    def __init__(self, location: str, size: int, timeout_s: float, server=None):
        self.location = location
        self.server = server
        self.size = size
        self.timeout_s = timeout_s
        self._context = multiprocessing.get_context("spawn")  # never fork a process running an event loop
        self._idle: asyncio.LifoQueue[_Worker] | None = None
        self._workers: list[_Worker] = []  # every live worker, idle or busy
        self.may_lag = False  # while catch_up() runs

    def start(self) -> None:
        """Starts the workers; called on the event loop that will ask them."""
        # the worker that answered last goes first: it is the likeliest to be running still,
        # with its caches warm; an idle one sleeps and takes longer to wake
        self._idle = asyncio.LifoQueue()
        for _ in range(self.size):
            self._put_idle(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_answer_queries, args=(self.location, self.server, child),
                                        daemon=True,
                                        name="heritage-kg-query-worker")
        process.start()
        child.close()
        pipe = socket.fromfd(parent.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        parent.close()
        pipe.setblocking(False)
        self._workers.append(_Worker(self, process, pipe))
        return self._workers[-1]

    def _put_idle(self, worker: _Worker) -> None:
        worker.idle = True
        self._idle.put_nowait(worker)

    def _replace(self, worker: _Worker) -> None:
        """A new worker in place of `worker`, which was killed."""
        if self._idle is not None and worker in self._workers:
            self._workers.remove(worker)
            self._put_idle(self._spawn())

    async def answer(self, request: QueryRequest) -> SerializedAnswer:
        if self._idle is None:
            raise StoreError("the query workers are not running")
        while True:
            worker = await self._idle.get()
            if worker.stopped:
                continue  # died while idle, and was replaced then
            if worker.process.is_alive():
                worker.idle = False
                break
            worker.kill()
            self._replace(worker)
        try:
            return await worker.ask(request, self.may_lag)
        except TimeoutError:
            worker.kill()
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query was stopped after {self.timeout_s:g} s (the service's limit, "
                f"HERITAGE_KG_SPARQL_TIMEOUT_S); narrow it, or add a LIMIT") from None
        except (EOFError, OSError):
            worker.kill()
            self._replace(worker)
            raise StoreError("the query's worker process died (out of memory?); try a narrower query") from None

    async def catch_up(self) -> None:
        """After an update by this service, before it is acknowledged: each idle worker opens a
        view of the latest data beside the one it answers from, and swaps it in when it is open
        (about 15 ms on the Tate store), so that no read waits for a reopen. Until it returns,
        queries may be answered from the views before the update (they began before its
        acknowledgement); after it, every read sees the update, as a worker busy meanwhile
        reopens its view after its answer, before its next query. Waits at most `timeout_s`."""
        if self._idle is None:
            return
        self.may_lag = True
        try:
            idle = [worker for worker in self._workers if worker.idle and worker.answered and not worker.stopped]
            if idle:
                await asyncio.wait([worker.catch_up() for worker in idle], timeout=self.timeout_s)
        finally:
            self.may_lag = False

    def close(self) -> None:
        if self._idle is None:
            return
        for worker in self._workers:
            worker.stop()
        self._workers, self._idle = [], None
