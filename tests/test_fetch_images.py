"""fetch-images against a real HTTP server on 127.0.0.1 that serves images made here with Pillow,
and the failures a museum's web site can produce: 404s, slow answers, a 503 that recovers, one
that does not, truncated JPEGs, HTML pages, images over the size limit."""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image
from typer.testing import CliRunner

from heritage_kg.cli import app
from heritage_kg.learning.images import FetchPolicy, ImageCache, fetch_images

from test_text_features import fixture_dataset, learning_dirs  # noqa: F401  (fixtures)


def make_image(size: tuple[int, int], fmt: str = "JPEG", seed: int = 0) -> bytes:
    pixels = (np.random.default_rng(seed).random((size[1], size[0], 3)) * 255).astype("uint8")
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=fmt, quality=95)
    return buffer.getvalue()


SMALL_JPEG = make_image((32, 24), seed=1)
SMALL_PNG = make_image((20, 20), fmt="PNG", seed=2)
LARGE_JPEG = make_image((300, 300), seed=3)  # well over the 20 kB limit of these tests
MAX_BYTES = 20_000
SLOW_SECONDS = 2.0


class MuseumSite(BaseHTTPRequestHandler):
    """Answers by the last part of the path; counts every request and when it came."""

    hits: Counter = Counter()
    arrivals: list[tuple[str, float]] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        MuseumSite.hits[self.path] += 1
        MuseumSite.arrivals.append((self.path, time.monotonic()))
        name = self.path.rsplit("/", 1)[-1]
        try:
            if name.startswith("image"):
                self.answer(200, "image/jpeg", SMALL_JPEG)
            elif name == "picture.png":
                self.answer(200, "image/png", SMALL_PNG)
            elif name == "slow.jpg":
                time.sleep(SLOW_SECONDS)
                self.answer(200, "image/jpeg", SMALL_JPEG)
            elif name == "flaky.jpg":
                if MuseumSite.hits[self.path] == 1:
                    self.answer(503, "text/plain", b"try again")
                else:
                    self.answer(200, "image/jpeg", SMALL_JPEG)
            elif name == "down.jpg":
                self.answer(503, "text/plain", b"down for maintenance")
            elif name == "truncated.jpg":
                self.answer(200, "image/jpeg", SMALL_JPEG[: len(SMALL_JPEG) // 2])
            elif name == "page.html":
                self.answer(200, "text/html; charset=utf-8", b"<html><body>not found</body></html>")
            elif name == "large.jpg":
                self.answer(200, "image/jpeg", LARGE_JPEG)
            elif name == "large-unsized.jpg":  # no Content-Length: only counting the bytes can tell
                self.answer(200, "image/jpeg", LARGE_JPEG, sized=False)
            else:
                self.answer(404, "text/plain", b"no such image")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on purpose (too large, timeout)

    def answer(self, status: int, content_type: str, body: bytes, sized: bool = True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), MuseumSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


POLICY = FetchPolicy(concurrency=4, per_host_rate=0, timeout=0.5, retries=1, max_bytes=MAX_BYTES, backoff=0.05)


def test_fetch_downloads_the_good_images_and_says_why_the_others_failed(site, tmp_path):
    base = f"{site}/run1"
    rows = [
        ("art:jpeg", f"{base}/image-1.jpg"),
        ("art:png", f"{base}/picture.png"),
        ("art:shares-a", f"{base}/image-shared.jpg"),
        ("art:shares-b", f"{base}/image-shared.jpg"),
        ("art:flaky", f"{base}/flaky.jpg"),
        ("art:missing", f"{base}/missing.jpg"),
        ("art:slow", f"{base}/slow.jpg"),
        ("art:down", f"{base}/down.jpg"),
        ("art:truncated", f"{base}/truncated.jpg"),
        ("art:html", f"{base}/page.html"),
        ("art:large", f"{base}/large.jpg"),
        ("art:large-unsized", f"{base}/large-unsized.jpg"),
        ("art:no-url", None),
    ]
    cache = ImageCache(tmp_path / "images")
    cache.folder.mkdir()
    cache.partial(f"{base}/image-1.jpg").write_bytes(b"half a download from an earlier run")

    report = fetch_images(rows, cache, POLICY)

    outcome = {o.artwork: o for o in report.outcomes}
    assert [o.artwork for o in report.outcomes] == [artwork for artwork, _ in rows]
    assert {a for a, o in outcome.items() if o.status == "downloaded"} == {
        "art:jpeg", "art:png", "art:shares-a", "art:shares-b", "art:flaky"}
    assert outcome["art:no-url"].status == "no-url"
    reasons = {a: o.reason for a, o in outcome.items() if o.status == "failed"}
    assert set(reasons) == {"art:missing", "art:slow", "art:down", "art:truncated", "art:html", "art:large",
                            "art:large-unsized"}
    assert reasons["art:missing"] == "HTTP 404"
    assert reasons["art:slow"].startswith("timeout")
    assert reasons["art:down"] == "HTTP 503"
    assert reasons["art:truncated"].startswith("corrupt image") and "truncated" in reasons["art:truncated"]
    assert reasons["art:html"] == "not an image (content-type text/html)"
    assert reasons["art:large"] == f"too large ({len(LARGE_JPEG):,} bytes > {MAX_BYTES:,})"
    assert reasons["art:large-unsized"] == f"too large (over {MAX_BYTES:,} bytes)"
    assert report.failure_kinds() == Counter({"HTTP 404": 1, "timeout": 1, "HTTP 503": 1, "corrupt image": 1,
                                              "not an image": 1, "too large": 2})

    # Retries: transient failures are tried again, a 404 or a bad file is not.
    assert MuseumSite.hits["/run1/flaky.jpg"] == 2 and outcome["art:flaky"].attempts == 2
    assert MuseumSite.hits["/run1/down.jpg"] == 2 and outcome["art:down"].attempts == 2
    assert MuseumSite.hits["/run1/slow.jpg"] == 2
    for once in ("missing.jpg", "truncated.jpg", "page.html", "large.jpg"):
        assert MuseumSite.hits[f"/run1/{once}"] == 1, once
    assert MuseumSite.hits["/run1/image-shared.jpg"] == 1  # two artworks, one download

    # The cache holds exactly the good images, byte for byte, decodable, and no partial file.
    assert Path(outcome["art:jpeg"].file).read_bytes() == SMALL_JPEG
    assert Path(outcome["art:png"].file).suffix == ".png"
    assert outcome["art:shares-a"].file == outcome["art:shares-b"].file
    assert sorted(p.name for p in cache.folder.iterdir()) == sorted(
        {Path(outcome[a].file).name for a in ("art:jpeg", "art:png", "art:shares-a", "art:flaky")})
    assert cache.find(f"{base}/missing.jpg") is None and cache.find(f"{base}/truncated.jpg") is None

    tsv, summary = report.write(cache.folder / "reports" / "fetch-test.tsv")
    lines = tsv.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t")[:4] == ["artwork", "url", "status", "reason"]
    assert f"art:missing\t{base}/missing.jpg\tfailed\tHTTP 404\t1\t0\t" in lines
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert (written["downloaded"], written["failed"], written["no-url"]) == (5, 7, 1)


def test_a_second_run_downloads_nothing_it_already_has(site, tmp_path):
    base = f"{site}/run2"
    rows = [("art:a", f"{base}/image-a.jpg"), ("art:b", f"{base}/picture.png"), ("art:gone", f"{base}/gone.jpg")]
    cache = ImageCache(tmp_path / "images")
    first = fetch_images(rows, cache, POLICY)
    assert [o.status for o in first.outcomes] == ["downloaded", "downloaded", "failed"]

    second = fetch_images(rows, cache, POLICY)

    assert [o.status for o in second.outcomes] == ["cached", "cached", "failed"]
    assert MuseumSite.hits["/run2/image-a.jpg"] == 1 and MuseumSite.hits["/run2/picture.png"] == 1
    assert MuseumSite.hits["/run2/gone.jpg"] == 2  # what failed is tried again on the next run
    assert second.outcomes[0].file == first.outcomes[0].file


def test_requests_to_one_host_keep_to_the_rate(site, tmp_path):
    rows = [(f"art:{i}", f"{site}/run3/image-{i}.jpg") for i in range(6)]
    policy = FetchPolicy(concurrency=6, per_host_rate=10, timeout=2, retries=0, max_bytes=MAX_BYTES)

    report = fetch_images(rows, ImageCache(tmp_path / "images"), policy)

    assert report.count("downloaded") == 6
    starts = sorted(t for path, t in MuseumSite.arrivals if path.startswith("/run3/"))
    gaps = np.diff(starts)
    assert len(starts) == 6 and gaps.min() >= 0.1 * 0.8, gaps  # 10 per second: 0.1 s apart


def test_a_host_that_cannot_be_reached_is_given_up_after_a_few_urls(tmp_path):
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rows = [(f"art:{i}", f"http://127.0.0.1:{port}/{i}.jpg") for i in range(5)]
    policy = FetchPolicy(concurrency=1, per_host_rate=0, timeout=1, retries=1, backoff=0.01, unreachable_after=2)

    report = fetch_images(rows, ImageCache(tmp_path / "images"), policy)

    assert [o.status for o in report.outcomes] == ["failed"] * 5
    assert [o.reason.split(" (")[0] for o in report.outcomes] == ["connection error"] * 2 + ["host unreachable"] * 3
    assert [o.attempts for o in report.outcomes] == [2, 2, 0, 0, 0]
    assert "is this machine offline?" in report.outcomes[2].reason


def test_fetch_images_command_fetches_a_datasets_images_and_writes_its_report(site, fixture_dataset,  # noqa: F811
                                                                              learning_dirs):
    # The fixture dataset's thumbnails, served by the loopback site: all but the last are there.
    table = fixture_dataset.table
    artworks = table.column("artwork").to_pylist()
    urls = [f"{site}/cli/image-{i}.jpg" for i in range(len(artworks) - 1)] + [f"{site}/cli/withdrawn.jpg"]
    pq.write_table(table.set_column(table.schema.get_field_index("image_url"), "image_url", pa.array(urls)),
                   fixture_dataset.folder / "table.parquet")
    runner = CliRunner()

    report = learning_dirs / "images" / "reports" / "fetch-fixture.tsv"

    first = runner.invoke(app, ["fetch-images", "--dataset", "fixture", "--per-host-rate", "0", "--retries", "0"])
    rows = [line.split("\t") for line in report.read_text(encoding="utf-8").splitlines()[1:]]
    second = runner.invoke(app, ["fetch-images", "--dataset", "fixture", "--per-host-rate", "0", "--retries", "0"])

    assert first.exit_code == 0, first.output
    good = len(artworks) - 1
    assert f"{good} downloaded, 0 already cached, 1 failed" in first.output
    assert f"{artworks[-1]}  {site}/cli/withdrawn.jpg: HTTP 404" in first.output
    assert [(r[0], r[2]) for r in rows] == [(a, "downloaded") for a in artworks[:-1]] + [(artworks[-1], "failed")]
    assert all(ImageCache(learning_dirs / "images").find(url) for url in urls[:-1])
    assert second.exit_code == 0 and f"0 downloaded, {good} already cached, 1 failed" in second.output
    assert all(MuseumSite.hits[f"/cli/image-{i}.jpg"] == 1 for i in range(good))
