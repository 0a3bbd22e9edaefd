"""Medium groups: the NLP steps of method.md section 2 and the editable glossary."""

from __future__ import annotations

from pathlib import Path

from heritage_kg.graph.media import MediumGlossary
from heritage_kg.resources import MEDIUM_GLOSSARY

GLOSSARY = MediumGlossary(MEDIUM_GLOSSARY)


def test_tokens_are_lowercased_stopped_stemmed_and_deduplicated():
    assert GLOSSARY.stems("Graphite and graphite on Paper. Verso: graphite, 1820") == ["graphit", "paper"]
    # tokens with digits or punctuation are dropped
    assert GLOSSARY.stems("C-type print, 2/10") == ["print"]


def test_media_fall_in_several_groups_or_none():
    assert GLOSSARY.groups_of("Watercolour, ink, chalk and graphite on paper") == ("graphite", "watercolour-gouache", "ink-pen")
    assert GLOSSARY.groups_of("Etching and mezzotint on paper") == ("etching", "engraving-intaglio")
    assert GLOSSARY.groups_of("Oil paint on canvas") == ("painting",)
    assert GLOSSARY.groups_of("Photograph, gelatin silver print on paper") == ("photography",)
    assert GLOSSARY.groups_of("Screenprint on paper") == ("screenprint",)
    assert GLOSSARY.groups_of("Lithograph on paper") == ("lithograph",)
    assert GLOSSARY.groups_of("Bronze") == ("sculpture",)
    assert GLOSSARY.groups_of("Pen and ink on paper") == ("ink-pen",)
    assert GLOSSARY.groups_of("Wool") == ()
    assert GLOSSARY.groups_of(None) == ()


def test_inflected_keywords_match_after_stemming():
    assert GLOSSARY.groups_of("Etched plate") == ("etching",)
    assert GLOSSARY.groups_of("Engraved copper") == ("engraving-intaglio",)
    assert GLOSSARY.groups_of("Watercolours") == ("watercolour-gouache",)


def test_the_glossary_is_an_editable_file(tmp_path: Path):
    glossary = tmp_path / "glossary.toml"
    glossary.write_text('[groups.textile]\nlabel = "textile"\nkeywords = ["wool", "silk"]\n'
                        '[tokens]\nstop_words = ["and"]\n')
    custom = MediumGlossary(glossary)
    assert [g.slug for g in custom.groups] == ["textile"]
    assert custom.groups_of("Wool and silk") == ("textile",)
    assert custom.groups_of("Oil paint") == ()
