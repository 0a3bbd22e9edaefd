"""Access to a collection as published on GitHub: a folder (a `git clone`), a zip in the layout
of GitHub's "Download ZIP" (one top folder), or a URL of such a zip, downloaded once into a
cache."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from heritage_kg.errors import OfflineDownloadError, SourceError


class CollectionArchive:
    """The files of one collection, addressed by paths relative to its top folder
    (`artworks/a/000/a00001-1035.json`), whether they live in a folder or a zip."""

    def __init__(self, location: Path, marker: str):
        """`marker` is a folder every archive of this collection has (e.g. `artworks`); it
        tells the collection's top folder apart from the folder or zip around it."""
        self.location = location
        if not location.exists():
            raise SourceError(f"source not found: {location}")
        if location.is_dir():
            self._zip = None
            self._root = _find_top_folder(location, marker)
        elif zipfile.is_zipfile(location):
            self._zip = zipfile.ZipFile(location)
            self._prefix = _zip_prefix(self._zip, marker, location)
        else:
            raise SourceError(f"{location} is neither a folder nor a zip archive")

    def files(self, folder: str, suffix: str = ".json") -> list[str]:
        """Relative paths of the files under `folder` ending in `suffix`, sorted."""
        if self._zip is None:
            base = self._root / folder
            paths = (p.relative_to(self._root).as_posix() for p in base.rglob(f"*{suffix}"))
            return sorted(p for p in paths)
        start = self._prefix + folder.rstrip("/") + "/"
        return sorted(
            name[len(self._prefix):]
            for name in self._zip.namelist()
            if name.startswith(start) and name.endswith(suffix)
        )

    def exists(self, path: str) -> bool:
        if self._zip is None:
            return (self._root / path).is_file()
        try:
            self._zip.getinfo(self._prefix + path)
            return True
        except KeyError:
            return False

    def read(self, path: str) -> bytes:
        if self._zip is None:
            return (self._root / path).read_bytes()
        return self._zip.read(self._prefix + path)

    def checksum(self) -> str:
        """sha256 of the zip file, or of every file of the folder in path order."""
        if self._zip is not None:
            with open(self.location, "rb") as stream:
                return "sha256:" + hashlib.file_digest(stream, "sha256").hexdigest()
        digest = hashlib.sha256()
        for path in sorted(p for p in self._root.rglob("*") if p.is_file() and ".git" not in p.parts):
            digest.update(path.relative_to(self._root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes())
        return "sha256:" + digest.hexdigest()


def _find_top_folder(folder: Path, marker: str) -> Path:
    if (folder / marker).is_dir():
        return folder
    candidates = [child for child in folder.iterdir() if (child / marker).is_dir()]
    if len(candidates) == 1:
        return candidates[0]
    raise SourceError(f"{folder} has no '{marker}/' folder (nor one folder down): not this collection's layout")


def _zip_prefix(archive: zipfile.ZipFile, marker: str, location: Path) -> str:
    for name in archive.namelist():
        parts = PurePosixPath(name).parts
        if marker in parts[:2]:
            return "/".join(parts[: parts.index(marker)]) + ("/" if parts.index(marker) else "")
    raise SourceError(f"{location} has no '{marker}/' folder at its top: not this collection's layout")


def is_url(source: str) -> bool:
    return urlparse(source).scheme in ("http", "https")


def download(url: str, cache_dir: Path, *, progress=None, timeout: float = 30.0) -> Path:
    """Download `url` once into `cache_dir` and return the local file; later calls reuse it.
    A partial download never stands in for a finished one."""
    import httpx  # only a download needs it: the command line starts without it

    name = PurePosixPath(urlparse(url).path).name or "download"
    target = cache_dir / f"{hashlib.sha256(url.encode()).hexdigest()[:16]}-{name}"
    if target.exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=timeout) as response:
            if response.status_code != 200:
                raise SourceError(f"downloading {url} failed: HTTP {response.status_code}")
            total = int(response.headers.get("content-length", 0)) or None
            task = progress.add_task(f"download {name}", total=total) if progress else None
            with open(partial, "wb") as out:
                for chunk in response.iter_bytes(1 << 16):
                    out.write(chunk)
                    if progress:
                        progress.advance(task, len(chunk))
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise OfflineDownloadError(
            f"cannot download {url} ({exc.__class__.__name__}: {exc}). Without a network, fetch "
            f"that file elsewhere and either pass its path as --source, or put it at {target}"
        ) from None
    partial.replace(target)
    return target


def open_source(source: str, marker: str, cache_dir: Path | None, *, progress=None) -> CollectionArchive:
    """A folder, a zip or a URL of a zip, as a CollectionArchive; a URL is downloaded once into
    `cache_dir`."""
    if is_url(source):
        if cache_dir is None:
            raise SourceError(f"{source} is a URL: it needs a cache folder to be downloaded into (cache_dir)")
        return CollectionArchive(download(source, cache_dir, progress=progress), marker)
    return CollectionArchive(Path(source).expanduser(), marker)
