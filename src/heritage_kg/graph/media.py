"""Medium groups: free-text media ("Etching and mezzotint on paper") mapped to the ten canonical
groups of method.md section 2 by the keyword glossary in `kg/medium_glossary.toml`."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from heritage_kg.resources import MEDIUM_GLOSSARY

_TOKEN = re.compile(r"[^\s,;:.()\[\]/]+")
_WORD = re.compile(r"^[a-z]+$")  # a token with a digit or punctuation is dropped


@dataclass(frozen=True, slots=True)
class MediumGroup:
    slug: str
    label: str
    keywords: frozenset[str]  # stemmed


class MediumGlossary:
    """Maps a medium text to the medium groups it names; built from the glossary file."""

    def __init__(self, path: Path):
        from nltk.stem.snowball import SnowballStemmer  # nltk takes a second to import: only when used

        spec = tomllib.loads(path.read_text(encoding="utf-8"))
        self._stemmer = SnowballStemmer("english")
        self.stop_words = frozenset(spec.get("tokens", {}).get("stop_words", []))
        self.groups = [
            MediumGroup(slug, entry.get("label", slug), frozenset(self._stemmer.stem(k.lower()) for k in entry["keywords"]))
            for slug, entry in spec["groups"].items()
        ]
        self._by_stem = {}
        for group in self.groups:
            for stem in group.keywords:
                self._by_stem.setdefault(stem, []).append(group.slug)
        self._cache: dict[str, tuple[str, ...]] = {}

    def stems(self, medium: str) -> list[str]:
        """Lower-cased, tokenised, stop words and non-words dropped, stemmed, de-duplicated."""
        stems: list[str] = []
        for token in _TOKEN.findall(medium.lower()):
            if token in self.stop_words or not _WORD.match(token):
                continue
            stem = self._stemmer.stem(token)
            if stem not in stems:
                stems.append(stem)
        return stems

    def groups_of(self, medium: str | None) -> tuple[str, ...]:
        """The slugs of the groups a medium falls in, in glossary order (possibly none)."""
        if not medium:
            return ()
        if medium not in self._cache:  # media repeat a lot: ~69k artworks, a few thousand texts
            found = {slug for stem in self.stems(medium) for slug in self._by_stem.get(stem, ())}
            self._cache[medium] = tuple(g.slug for g in self.groups if g.slug in found)
        return self._cache[medium]


@lru_cache
def load_glossary(path: Path = MEDIUM_GLOSSARY) -> MediumGlossary:
    """The glossary at `path` (default: the project's kg/medium_glossary.toml), read once."""
    return MediumGlossary(path)
