"""The local cache of artwork images: fetching each dataset row's image URL once, politely and
safely (bounded concurrency, per-host rate, retries with backoff, size and type checks, a full
decode), and finding the cached file of a URL again."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import json
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
from PIL import Image, UnidentifiedImageError

from heritage_kg.errors import FeatureError

# Pillow's format names to the file suffix an image is kept under.
# Any other format is kept as `.img`: `find` looks only under these suffixes, never lists the folder.
_SUFFIXES = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
             "TIFF": ".tif"}
_OTHER_FORMAT = ".img"


class ImageCache:
    """One file per image URL, named by the URL's hash: `<sha256[:32]><suffix>`. A file is there
    under that name only once it was fully downloaded and decoded (downloads go to `.part`)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    @staticmethod
    def stem(url: str) -> str:
        return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]

    def find(self, url: str) -> Path | None:
        """The cached image of `url`, or None."""
        stem = self.stem(url)
        for suffix in dict.fromkeys([*_SUFFIXES.values(), _OTHER_FORMAT]):
            path = self.folder / (stem + suffix)
            if path.is_file():
                return path
        return None

    def file_named(self, name: str) -> Path | None:
        """The cached image called `name` (a name `find` gives), or None: any other name, such as
        one with a folder or '..' in it, is none of the cache's files."""
        stem, _, suffix = name.partition(".")
        if len(stem) != 32 or not all(c in "0123456789abcdef" for c in stem) \
                or "." + suffix not in {*_SUFFIXES.values(), _OTHER_FORMAT}:
            return None
        path = self.folder / name
        return path if path.is_file() else None

    def partial(self, url: str) -> Path:
        return self.folder / (self.stem(url) + ".part")


@dataclass(frozen=True)
class FetchPolicy:
    concurrency: int = 8
    per_host_rate: float = 4.0   # requests per second to one host; 0 means no limit
    timeout: float = 30.0        # seconds for one whole attempt
    retries: int = 3             # further attempts after a timeout, a lost connection or a 5xx/429
    max_bytes: int = 10_000_000
    backoff: float = 1.0         # seconds before the first retry; doubled for each next one
    unreachable_after: int = 8   # a host whose last this-many URLs all failed to connect is given up

    def __post_init__(self):
        if self.concurrency < 1 or self.retries < 0 or self.timeout <= 0 or self.max_bytes < 1 \
                or self.per_host_rate < 0 or self.backoff < 0 or self.unreachable_after < 1:
            raise FeatureError(f"invalid fetch settings: {self}")


@dataclass
class FetchOutcome:
    artwork: str
    url: str
    status: str            # downloaded | cached | failed | no-url
    reason: str = ""       # why it failed
    attempts: int = 0
    bytes: int = 0
    file: str = ""


@dataclass
class FetchReport:
    outcomes: list[FetchOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failures(self) -> list[FetchOutcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    def failure_kinds(self) -> Counter:
        """Failures by kind: the reason up to its first parenthesis ('HTTP 404', 'timeout', ...)."""
        return Counter(o.reason.split(" (")[0] for o in self.failures)

    def write(self, tsv: Path) -> tuple[Path, Path]:
        """Every row's outcome as TSV, and a JSON summary beside it."""
        tsv.parent.mkdir(parents=True, exist_ok=True)
        with open(tsv, "w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=list(FetchOutcome.__dataclass_fields__), delimiter="\t")
            writer.writeheader()
            writer.writerows(asdict(o) for o in self.outcomes)
        summary = tsv.with_suffix(".json")
        summary.write_text(json.dumps({
            "rows": len(self.outcomes), "seconds": round(self.seconds, 2),
            **{status: self.count(status) for status in ("downloaded", "cached", "failed", "no-url")},
            "failures_by_kind": dict(self.failure_kinds()),
            "failure_examples": [asdict(o) for o in self.failures[:20]],  # every row is in the TSV
        }, indent=1, ensure_ascii=False), encoding="utf-8")
        return tsv, summary


class _Failure(Exception):
    def __init__(self, reason: str, retry: bool, retry_after: float | None = None):
        super().__init__(reason)
        self.reason, self.retry, self.retry_after = reason, retry, retry_after


class _HostRate:
    """At most `rate` request starts per second to each host, spread evenly."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_start: dict[str, float] = {}
        self.lock = asyncio.Lock()

    async def wait(self, host: str) -> None:
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_start.get(host, now))
            self.next_start[host] = start + self.interval
        await asyncio.sleep(start - now)


class _HostReach:
    """Gives up a host once `limit` URLs in a row could not connect to it (an offline machine, a
    site that is down), so the rest fail at once instead of each waiting out its retries."""

    def __init__(self, limit: int):
        self.limit = limit
        self.failed_in_a_row: Counter = Counter()

    def given_up(self, host: str) -> bool:
        return self.failed_in_a_row[host] >= self.limit

    def record(self, host: str, connected: bool) -> None:
        self.failed_in_a_row[host] = 0 if connected else self.failed_in_a_row[host] + 1


def fetch_images(rows: Sequence[tuple[str, str | None]], cache: ImageCache, policy: FetchPolicy = FetchPolicy(),
                 *, progress=None) -> FetchReport:
    """Downloads the image URL of every (artwork IRI, URL) row into `cache`, skipping those already
    there. Artworks sharing a URL share one download. Returns each row's outcome."""
    return asyncio.run(_fetch_all(rows, cache, policy, progress))


async def _fetch_all(rows, cache: ImageCache, policy: FetchPolicy, progress) -> FetchReport:
    clock = time.perf_counter()
    cache.folder.mkdir(parents=True, exist_ok=True)
    urls = list(dict.fromkeys(url for _, url in rows if url))
    task = progress.add_task("fetch images", total=len(urls)) if progress else None
    slots = asyncio.Semaphore(policy.concurrency)
    rate = _HostRate(policy.per_host_rate)
    reach = _HostReach(policy.unreachable_after)
    limits = httpx.Limits(max_connections=policy.concurrency, max_keepalive_connections=policy.concurrency)
    async with httpx.AsyncClient(follow_redirects=True, timeout=policy.timeout, limits=limits,
                                 headers={"User-Agent": "heritage-kg image fetcher"}) as client:

        async def one(url: str) -> FetchOutcome:
            async with slots:
                outcome = await _fetch_one(client, url, cache, policy, rate, reach)
            if progress:
                progress.advance(task)
            return outcome

        by_url = dict(zip(urls, await asyncio.gather(*(one(url) for url in urls))))
    outcomes = []
    for artwork, url in rows:
        if not url:
            outcomes.append(FetchOutcome(artwork, "", "no-url", "the artwork has no image URL"))
        else:
            outcomes.append(FetchOutcome(**{**asdict(by_url[url]), "artwork": artwork}))
    return FetchReport(outcomes, time.perf_counter() - clock)


async def _fetch_one(client: httpx.AsyncClient, url: str, cache: ImageCache, policy: FetchPolicy,
                     rate: _HostRate, reach: _HostReach) -> FetchOutcome:
    found = cache.find(url)
    if found is not None:
        return FetchOutcome("", url, "cached", file=str(found), bytes=found.stat().st_size)
    if urlparse(url).scheme not in ("http", "https"):
        return FetchOutcome("", url, "failed", f"not an http(s) URL ({url})")
    host = urlparse(url).netloc
    partial = cache.partial(url)
    attempt = 0
    while True:
        if reach.given_up(host):
            return FetchOutcome("", url, "failed", f"host unreachable ({host}: the last {reach.limit} URLs "
                                f"could not connect; is this machine offline?)", attempts=attempt)
        attempt += 1
        try:
            await rate.wait(host)
            size = await asyncio.wait_for(_download(client, url, partial, policy.max_bytes), policy.timeout)
            path = await asyncio.to_thread(_keep_if_image, partial, cache, url)
            reach.record(host, connected=True)
            return FetchOutcome("", url, "downloaded", attempts=attempt, bytes=size, file=str(path))
        except (_Failure, OSError, httpx.HTTPError, httpx.InvalidURL) as exc:
            partial.unlink(missing_ok=True)
            failure = _as_failure(exc, policy)
            if not failure.retry or attempt > policy.retries:
                reach.record(host, connected=not isinstance(exc, httpx.ConnectError))
                return FetchOutcome("", url, "failed", failure.reason, attempts=attempt)
            delay = policy.backoff * 2 ** (attempt - 1) * (1 + random.random() / 4)
            await asyncio.sleep(max(delay, min(failure.retry_after or 0.0, 60.0)))


def _as_failure(exc: Exception, policy: FetchPolicy) -> _Failure:
    if isinstance(exc, _Failure):
        return exc
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return _Failure(f"timeout (no complete answer within {policy.timeout:g} s)", retry=True)
    if isinstance(exc, httpx.TransportError):
        return _Failure(f"connection error ({type(exc).__name__}: {exc})", retry=True)
    if isinstance(exc, OSError):  # the disk, not the server: trying again would not help
        return _Failure(f"cannot write the image ({exc})", retry=False)
    return _Failure(f"bad answer ({type(exc).__name__}: {exc})", retry=False)


async def _download(client: httpx.AsyncClient, url: str, partial: Path, max_bytes: int) -> int:
    async with client.stream("GET", url) as response:
        if response.status_code != 200:
            transient = response.status_code >= 500 or response.status_code == 429
            raise _Failure(f"HTTP {response.status_code}", retry=transient,
                           retry_after=_seconds(response.headers.get("retry-after")))
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if not kind.startswith("image/"):
            raise _Failure(f"not an image (content-type {kind or 'missing'})", retry=False)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _Failure(f"too large ({int(declared):,} bytes > {max_bytes:,})", retry=False)
        size = 0
        with open(partial, "wb") as out:
            async for chunk in response.aiter_bytes(1 << 16):
                size += len(chunk)
                if size > max_bytes:  # the server may not say the length, or may say it wrong
                    raise _Failure(f"too large (over {max_bytes:,} bytes)", retry=False)
                out.write(chunk)
    return size


def _keep_if_image(partial: Path, cache: ImageCache, url: str) -> Path:
    """Decodes the whole download (truncated or corrupt files fail here, not later) and moves it
    to its final name."""
    try:
        with Image.open(partial) as image:
            image.load()
            suffix = _SUFFIXES.get(image.format or "", _OTHER_FORMAT)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _Failure(f"corrupt image ({exc})", retry=False) from exc
    path = cache.folder / (cache.stem(url) + suffix)
    os.replace(partial, path)
    return path


def _seconds(retry_after: str | None) -> float | None:
    return float(retry_after) if retry_after and retry_after.strip().isdigit() else None
