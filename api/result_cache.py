"""Answers to repeated SPARQL queries, kept in memory. A store generation never changes once
built and every update bumps the store's data version, so an answer filed under the version it
was read from is right for as long as that version is current; older ones are never asked for
again and age out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from heritage_kg.graph.results import SerializedAnswer


class ResultCache:
    """Least recently used answers, at most `max_bytes` of bodies; 0 keeps nothing."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, SerializedAnswer] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> SerializedAnswer | None:
        with self._lock:
            answer = self._answers.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._answers.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: Hashable, answer: SerializedAnswer) -> None:
        size = len(answer.body)
        if size > self.max_bytes // 4:  # one huge answer would push out everything else
            return
        with self._lock:
            if key in self._answers:
                return
            self._answers[key] = answer
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._answers.popitem(last=False)
                self._bytes -= len(dropped.body)

    def status(self) -> dict:
        with self._lock:
            asked = self.hits + self.misses
            return {"entries": len(self._answers), "bytes": self._bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "hit_ratio": self.hits / asked if asked else 0.0}
