"""Reads, curator updates and builds on one embedded store at the same time: a build waits for a
writer and never fails because of one, updates made during a build are in the new generation
(even when the build is killed), reads answer throughout, and the data version tells readers and
caches when to look again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from heritage_kg.graph.build import build_graph
from heritage_kg.graph.namespaces import Minter
from heritage_kg.graph.store import open_store

from conftest import CMOA_FIXTURE, ROOT, TATE_FIXTURE, TATE_ZIP, require_real_data, store_of_fixtures

GRAPHS = Minter("https://w3id.org/heritage-kg/")
CURATOR = GRAPHS.graph("curator")
TATE_GRAPH, CMOA_GRAPH = GRAPHS.graph("tate"), GRAPHS.graph("cmoa")
NOTE = "https://w3id.org/heritage-kg/ontology#curatorNote"


def note(number: int) -> str:
    return f'INSERT DATA {{ GRAPH <{CURATOR}> {{ <urn:note:{number}> <{NOTE}> "note {number}" }} }}'


def notes(store) -> set[int]:
    _, rows = store.select(f"SELECT ?n WHERE {{ GRAPH <{CURATOR}> {{ ?n <{NOTE}> ?text }} }}")
    return {int(str(row["n"]).rsplit(":", 1)[1]) for row in rows}


def generations(root: Path) -> list[Path]:
    return list((root / "generations").iterdir())


def python(script: str, *args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.Popen([sys.executable, "-c", script, *args], env=env, **kwargs)


# A build in its own process that publishes a graph and then stalls, as a long build does, until
# killed or until the file named by its third argument appears.
STALLING_BUILD = """
import sys, time
from pathlib import Path
from heritage_kg.graph.store import open_store
root, graph, go_on = sys.argv[1:4]
def write(out):
    for i in range(20_000):
        out.write(f'<urn:item:{i}> <urn:p> "{i}" <{graph}> .\\n')
    out.flush()
    Path(root, "loading").touch()
    while not Path(go_on).exists():
        time.sleep(0.02)
open_store(root).publish_graphs(write, [graph])
"""


def test_the_data_version_moves_with_every_update_and_build(tmp_path):
    store = store_of_fixtures(tmp_path / "store")
    reader = open_store(tmp_path / "store", read_only=True)
    first = reader.data_version()
    assert reader.data_version() == first  # nothing changed
    store.update(note(1))
    after_update = reader.data_version()
    assert after_update != first
    assert notes(reader) == {1}  # the reader's view was reopened
    build_graph(store, "cmoa", str(CMOA_FIXTURE))
    assert reader.data_version() not in (first, after_update)
    # an update from another process moves it too
    python("import sys; from heritage_kg.graph.store import open_store\n"
           "with open_store(sys.argv[1]) as s: s.update(sys.argv[2])", str(tmp_path / "store"), note(2)).wait(60)
    assert notes(reader) == {1, 2}


def test_a_build_waits_for_a_writer_in_another_process_and_keeps_its_updates(tmp_path):
    root = tmp_path / "store"
    store_of_fixtures(root).close()
    # a writer that updates, then keeps the store open for writing (as the service does)
    writer = python("import sys, time; from heritage_kg.graph.store import open_store\n"
                    "s = open_store(sys.argv[1]); s.update(sys.argv[2]); print('written', flush=True)\n"
                    "sys.stdin.readline(); s.update(sys.argv[3]); print('written', flush=True)\n"
                    "sys.stdin.readline()",
                    str(root), note(1), note(2), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "written"
        started = time.monotonic()
        build_graph(open_store(root), "cmoa", str(CMOA_FIXTURE))  # no "a build is running"
        assert time.monotonic() - started < 30
        writer.stdin.write("\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "written"  # it writes on into the new generation
        reader = open_store(root, read_only=True)
        assert notes(reader) == {1, 2}
        assert reader.triple_count(CMOA_GRAPH) > 0 and reader.triple_count(TATE_GRAPH) > 0
        assert len(generations(root)) == 1
    finally:
        writer.kill()
        writer.wait()


def test_updates_during_a_build_are_in_the_new_generation_and_reads_go_on(tmp_path):
    root = tmp_path / "store"
    store_of_fixtures(root).close()
    before = open_store(root, read_only=True).current_generation()
    go_on = tmp_path / "go-on"
    build = python(STALLING_BUILD, str(root), GRAPHS.graph("staged"), str(go_on))
    writer, reader = open_store(root), open_store(root, read_only=True)
    slowest_update = slowest_read = 0.0
    try:
        deadline = time.monotonic() + 60
        while not (root / "loading").exists():
            assert time.monotonic() < deadline and build.poll() is None
            time.sleep(0.02)
        for number in range(1, 6):
            started = time.monotonic()
            writer.update(note(number))  # accepted while the build runs, not refused
            slowest_update = max(slowest_update, time.monotonic() - started)
            started = time.monotonic()
            assert notes(reader) == set(range(1, number + 1))
            assert reader.triple_count(TATE_GRAPH) > 0
            slowest_read = max(slowest_read, time.monotonic() - started)
        go_on.touch()
        # updates go on through the swap: each waits at most for the replay and the swap
        number = 5
        while build.poll() is None:
            number += 1
            started = time.monotonic()
            writer.update(note(number))
            slowest_update = max(slowest_update, time.monotonic() - started)
            time.sleep(0.01)
        assert build.wait() == 0
    finally:
        build.kill()
        build.wait()
    writer.close()
    after = open_store(root, read_only=True)
    assert after.current_generation() != before
    assert after.triple_count(GRAPHS.graph("staged")) == 20_000
    assert notes(after) == set(range(1, number + 1))
    assert slowest_update < 1.0 and slowest_read < 1.0


def test_no_acknowledged_update_is_lost_when_a_build_is_killed(tmp_path):
    root = tmp_path / "store"
    store_of_fixtures(root).close()
    before = open_store(root, read_only=True)
    tate_triples = before.triple_count(TATE_GRAPH)
    build = python(STALLING_BUILD, str(root), GRAPHS.graph("staged"), str(tmp_path / "never"))
    writer = open_store(root)
    try:
        while not (root / "loading").exists():
            assert build.poll() is None
            time.sleep(0.02)
        for number in range(1, 4):
            writer.update(note(number))
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
    writer.update(note(4))
    reader = open_store(root, read_only=True)
    assert notes(reader) == {1, 2, 3, 4}
    assert reader.triple_count(TATE_GRAPH) == tate_triples
    assert GRAPHS.graph("staged") not in reader.named_graphs()
    # the next build starts from the store as the updates left it, and clears the killed one's files
    build_graph(open_store(root), "cmoa", str(CMOA_FIXTURE))
    writer.close()
    assert notes(reader) == {1, 2, 3, 4}
    assert len(generations(root)) == 1


def test_updates_during_a_real_tate_build_survive_a_kill_and_the_next_build(tmp_path):
    require_real_data(TATE_ZIP)
    root = tmp_path / "store"
    store = open_store(root)
    build_graph(store, "tate", str(TATE_FIXTURE))
    store.close()
    env = {**os.environ, "HERITAGE_KG_STORE": str(root)}
    build = subprocess.Popen([sys.executable, "-m", "heritage_kg.cli", "build-graph", "--source", str(TATE_ZIP)],
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    writer, acknowledged = open_store(root), set()
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(generations(root)) < 2:
            writer.update(note(len(acknowledged)))
            acknowledged.add(len(acknowledged))
            time.sleep(0.05)
        for _ in range(20):  # while it loads Tate into its new generation
            writer.update(note(len(acknowledged)))
            acknowledged.add(len(acknowledged))
            time.sleep(0.05)
    finally:
        build.send_signal(signal.SIGKILL)
        build.wait()
    reader = open_store(root, read_only=True)
    assert notes(reader) == acknowledged
    build_graph(open_store(root), "cmoa", str(CMOA_FIXTURE))
    writer.close()
    assert notes(reader) == acknowledged and reader.triple_count(CMOA_GRAPH) > 0


def test_reads_answer_while_another_thread_builds(tmp_path):
    root = tmp_path / "store"
    store = store_of_fixtures(root)
    reader = open_store(root, read_only=True)
    done = threading.Event()
    latencies: list[float] = []

    def read_on():
        while not done.is_set():
            started = time.monotonic()
            assert reader.triple_count(TATE_GRAPH) > 0
            latencies.append(time.monotonic() - started)

    thread = threading.Thread(target=read_on)
    thread.start()
    try:
        build_graph(store, "tate", str(TATE_FIXTURE))
        build_graph(store, "cmoa", str(CMOA_FIXTURE))
    finally:
        done.set()
        thread.join()
    assert len(latencies) > 10 and max(latencies) < 1.0


def test_the_service_workers_live_on_across_updates_and_see_them(tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from heritage_kg.config import Settings

    root = tmp_path / "store"
    store_of_fixtures(root).close()
    settings = Settings(store=str(root), update_token="curator-token", sparql_workers=2)
    ask = f"ASK {{ GRAPH <{CURATOR}> {{ <urn:note:1> <{NOTE}> ?text }} }}"
    with TestClient(create_app(settings)) as client:
        workers = client.app.state.query_workers
        pids = {worker.process.pid for worker in workers._workers}
        for _ in range(4):  # every worker has its view open
            assert client.get("/sparql", params={"query": ask}).json()["boolean"] is False
        response = client.post("/sparql/update", content=note(1).encode(), headers={
            "Content-Type": "application/sparql-update", "Authorization": "Bearer curator-token"})
        assert response.status_code == 204
        for _ in range(4):
            assert client.get("/sparql", params={"query": ask}).json()["boolean"] is True
        assert {worker.process.pid for worker in workers._workers} == pids


def test_a_reader_answers_from_its_view_while_a_fresh_one_opens_beside_it(tmp_path):
    # What a query worker does after an update of the service: open the new view in a thread,
    # answer from the old one (a snapshot) meanwhile, and swap when the new one is open.
    root = tmp_path / "store"
    store_of_fixtures(root).close()
    reader, writer = open_store(root, read_only=True), open_store(root)
    assert notes(reader) == set()
    before = reader.view_version
    writer.update(note(1))
    assert reader.reopen_in_background()
    assert not reader.reopen_in_background()  # one at a time
    assert reader.reopening
    assert notes(reader) == set() and reader.view_version == before  # the old view answers meanwhile
    assert reader.adopt_reopened_view(wait=True)
    assert not reader.reopening
    assert notes(reader) == {1} and reader.view_version == reader.data_version() != before
    assert not reader.reopen_in_background()  # current: nothing to open
    writer.close()


def test_readers_never_open_the_data_a_writer_holds(tmp_path):
    """A reader beside a writer that keeps the store open, compacts and writes on. RocksDB calls
    reading files that a writer holds undefined, and in the full suite it was: after the real
    store's links generation and an update, a view opened beside the writer lost table files to
    a compaction and the stats query on it grew to 24 GB. Readers open checkpoints instead; in
    this process and in another they see every update, whole, and never the writer's folder."""
    store = store_of_fixtures(tmp_path / "store")
    before = store.triple_count()
    for number in range(3):
        store.update(note(number))
    assert store.triple_count() == before + 3  # a view opened while the writer is open
    store._writer.optimize()  # the writer's compaction rewrites and removes the files it had
    for number in range(3, 6):
        store.update(note(number))
    assert store.triple_count() == before + 6 and notes(store) == set(range(6))
    reader = python("import sys; from heritage_kg.graph.store import open_store; "
                    "print(open_store(sys.argv[1], read_only=True).triple_count())",
                    str(tmp_path / "store"), stdout=subprocess.PIPE, text=True)
    assert int(reader.communicate(timeout=120)[0]) == before + 6
    opened = store._view_dir(*store._view_version)
    assert opened.parent == tmp_path / "store" / "views" and opened.is_dir()
    store.close()


def test_replaced_views_go_once_no_reader_can_want_them(tmp_path, monkeypatch):
    """A view a newer one replaced keeps the table files of data the store no longer holds (after
    a build, the whole old generation): it stays for VIEW_GRACE_S, for the readers that opened
    it, and then the next reader or writer removes it, even where nothing is written again."""
    from heritage_kg.graph.store import embedded

    store = store_of_fixtures(tmp_path / "store")  # two builds: each made a view of its generation
    views = tmp_path / "store" / "views"
    assert len(list(views.iterdir())) >= 2  # the replaced one is still within its grace
    reader = open_store(tmp_path / "store", read_only=True)
    before = reader.triple_count()
    monkeypatch.setattr(embedded, "VIEW_GRACE_S", 0.0)
    reader._next_prune = 0.0
    assert reader.triple_count() == before  # a read, and the reader removes what no one can want
    current = reader._view_dir(*reader._view_version)
    assert list(views.iterdir()) == [current]
    generation_files = {f.stat().st_ino for f in store.current_generation().iterdir()}
    assert {f.stat().st_ino for f in current.iterdir() if f.suffix == ".sst"} <= generation_files
    reader.close()
    store.close()
