"""How builds and updates in any process share one embedded store folder: two file locks, so that
a build never mistakes an update for another build, and a way for a waiting writer to ask the
one holding the write lock to hand it over.

- `.build.lock`: held by a build for its whole run; a second build is refused at once (it says a
  build is running, which is then true). Updates check it only to know whether a build will
  need their statements replayed (`build_running`).
- `.update.lock`: held while the current generation is open for writing (an update's writer)
  and by a build for its snapshot and its swap. Everyone waits for it (blocking), announcing the
  wait on `.update.wanted`, so that a writer that keeps the store open between updates lets go."""

from __future__ import annotations

import fcntl
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from heritage_kg.errors import StoreError


class StoreLocks:
    def __init__(self, root: Path):
        self.root = root

    def _file(self, name: str) -> IO:
        self.root.mkdir(parents=True, exist_ok=True)
        return open(self.root / name, "a+")

    @contextmanager
    def build(self):
        with self._file(".build.lock") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise StoreError(f"a build is writing to {self.root}; try again when it has finished") from None
            yield

    def _held(self, name: str, mode: int) -> bool:
        """Whether someone else holds (or waits on) the lock file `name`: a lock in `mode` that
        cannot be had at once; one that can is let go at once."""
        with self._file(name) as lock:
            try:
                fcntl.flock(lock, mode | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def build_running(self) -> bool:
        return self._held(".build.lock", fcntl.LOCK_SH)

    def acquire_update(self) -> IO:
        """Waits for the update lock; the returned file holds it until `release_update`."""
        lock = self._file(".update.lock")
        with self._file(".update.wanted") as wanted:
            fcntl.flock(wanted, fcntl.LOCK_SH)  # seen by the holder (`others_waiting`) while we wait
            fcntl.flock(lock, fcntl.LOCK_EX)
        return lock

    @staticmethod
    def release_update(lock: IO) -> None:
        lock.close()  # closing the file releases its lock

    @contextmanager
    def update(self):
        lock = self.acquire_update()
        try:
            yield
        finally:
            self.release_update(lock)

    def others_waiting(self) -> bool:
        """Whether another writer (an update elsewhere, a build's snapshot or swap) waits for the
        update lock; asked by the one holding it."""
        return self._held(".update.wanted", fcntl.LOCK_EX)
