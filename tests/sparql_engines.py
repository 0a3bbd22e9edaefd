"""Private SPARQL servers on loopback for the store tests and the scale benchmark: an Oxigraph
server (the `oxigraph` binary of the PyPI package) and an OpenLink Virtuoso (Debian's
virtuoso-opensource, installed by `make test`), each in its own folder on free ports, stopped on
exit."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

VIRTUOSO = "/usr/bin/virtuoso-t"
ISQL = "/usr/bin/isql-vt"
# The web root of Debian's package (its /sparql pages live in the database, but the server wants one).
VIRTUOSO_VSP = "/var/lib/virtuoso-opensource-7/vsp"
VIRTUOSO_USER = "dba"
# what a Virtuoso needs before heritage-kg uses it (the compose file's runs it too)
VIRTUOSO_SETUP = Path(__file__).resolve().parents[1] / "docker" / "virtuoso" / "setup.sql"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def oxigraph_binary() -> str:
    found = Path(sys.executable).with_name("oxigraph")
    return str(found) if found.exists() else shutil.which("oxigraph") or pytest.skip("no oxigraph binary")


def _wait_for(url: str, process: subprocess.Popen, what: str, log: Path | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else \
                    process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise RuntimeError(f"{what} did not start: {detail}") from None
            time.sleep(0.2)


@contextmanager
def oxigraph_server(location: Path, *args: str):
    """`oxigraph serve` on a free loopback port, stopped on exit; yields its URL."""
    port = free_port()
    process = subprocess.Popen([oxigraph_binary(), *(args or ("serve",)), "--location", str(location),
                                "--bind", f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/query?query=ASK%7B%7D", process, "oxigraph serve")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Virtuoso:
    url: str  # the HTTP server: /sparql, /sparql-auth, /sparql-graph-crud-auth
    user: str
    password: str
    folder: Path
    pid: int
    sql_port: int  # isql's


# Our own ini: loopback ports, the database in `folder`, and SPARQL limits that never cut an answer
# short (Debian's ini stops answers at 10,000 rows and queries at 60 s, silently).
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {folder}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty_buffers}
MaxQueryMem = 1G
ThreadsPerQuery = 2
AsyncQueueMaxThreads = 4
; a publish moves a whole collection's graph in one transaction
TransactionAfterImageLimit = 2000000000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
MaxClientConnections = 8
ServerThreads = 8
MaxKeepAlives = 8
KeepAliveTimeout = 10
EnabledDavVSP = 0
HTTPProxyEnabled = 0
Charset = UTF-8

[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 0
"""


def isql(port: int, password: str, statements: str | Path) -> str:
    """Runs SQL statements (or a file of them) through Virtuoso's isql client as dba; fails on an error."""
    script = str(statements) if isinstance(statements, Path) else f"EXEC={statements}"
    done = subprocess.run([ISQL, f"127.0.0.1:{port}", VIRTUOSO_USER, password, "VERBOSE=OFF", "BANNER=OFF",
                           "ERRORS=STDOUT", script], capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or "*** Error" in done.stdout:
        raise RuntimeError(f"isql: {done.stdout}{done.stderr}")
    return done.stdout


@contextmanager
def virtuoso_server(folder: Path, *, buffers_mb: int = 256, max_rows: int = 10_000_000):
    """A private Virtuoso in `folder` on free loopback ports, with a fresh dba password, answers
    of at most `max_rows` rows; stopped (checkpointed, then shut down) on exit."""
    if not Path(VIRTUOSO).exists():
        pytest.skip("no Virtuoso: `make test` installs virtuoso-opensource")
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    buffers = buffers_mb * 1024 // 8  # 8 KB pages
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(
        folder=folder, sql_port=sql_port, http_port=http_port, vsp=VIRTUOSO_VSP, buffers=buffers,
        dirty_buffers=buffers * 3 // 4, max_rows=max_rows))
    process = subprocess.Popen([VIRTUOSO, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                               cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http_port}"
    password = secrets.token_hex(12)
    try:
        _wait_for(f"{url}/sparql?query=ASK%7B%7D", process, "virtuoso-t", folder / "virtuoso.log", 120)
        isql(sql_port, "dba", f"USER_SET_PASSWORD('dba', '{password}');")
        isql(sql_port, password, VIRTUOSO_SETUP)
        yield Virtuoso(url, VIRTUOSO_USER, password, folder, process.pid, sql_port)
    finally:
        if process.poll() is None:
            try:
                isql(sql_port, password, "shutdown;")
                process.wait(timeout=60)
            except (RuntimeError, subprocess.TimeoutExpired):
                process.kill()
                process.wait()
