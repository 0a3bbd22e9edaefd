"""Names as catalogues and authorities write them, folded into keys that two spellings of one
person share; names of no one in particular have none."""

from __future__ import annotations

import re
import unicodedata

# Titles, ranks and post-nominal letters that catalogues add to a name and authorities do not.
HONORIFICS = frozenset("""
    sir dame lord lady baron baroness baronet bt bart count countess earl viscount duke duchess
    marquess marquis rev revd reverend dr mr mrs ms prof professor hon honourable the
    ra pra ara rsa arsa rws rba rp ri rca om ch kbe cbe obe mbe kcvo cvo frs fsa
""".split())
# Letters Unicode does not decompose into a base letter and an accent.
_FOLD = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ß": "ss", "ł": "l",
                       "Ł": "l", "đ": "d", "Đ": "d", "ı": "i", "þ": "th", "Þ": "th", "ð": "d", "&": " and "})
_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_ASIDE = re.compile(r"\([^)]*\)?")
# Names that stand for no one in particular: they must never be linked to a person.
_NOBODY = re.compile(
    r"^\W*(after|follower of|followers of|circle of|workshop of|studio of|manner of|style of|school of|"
    r"attributed to|imitator of|copy after)\b"
    r"|\b(unknown|anonymous|anon|unidentified|not known|various|school|century)\b")

EXACT_NAME, LOOSE_NAME = "name matches", "surname and first forename match"


def fold(text: str) -> str:
    """Lower case without accents: "Géricault" -> "gericault", "Øvre" -> "ovre"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def name_tokens(name: str) -> list[str]:
    """The words of a name, folded, without punctuation, honorifics or asides in parentheses
    ("Elizabeth Rigby (Lady Eastlake)"), in the order written."""
    words = _NON_ALNUM.split(_APOSTROPHES.sub("", fold(_ASIDE.sub(" ", name))))
    words = [w for w in words if w]
    kept = [w for w in words if w not in HONORIFICS]
    return kept or words


def forward_name(sort_name: str) -> str:
    """ "Turner, Joseph Mallord William" -> "Joseph Mallord William Turner"; a name without a
    comma is already in forward order."""
    surname, comma, forenames = sort_name.partition(",")
    return f"{forenames.strip()} {surname.strip()}".strip() if comma else sort_name


def is_nobody(name: str) -> bool:
    """ "British School 18th century", "Unknown", "Anonymous", "after Rembrandt": no one person."""
    return bool(_NOBODY.search(fold(name)))


def name_key(name: str | None) -> str | None:
    """The key two spellings of one person share: the words of the name, sorted, so that
    "Surname, Forename" and "Forename Surname" meet. None for names of no one in particular."""
    if not name or is_nobody(name):
        return None
    tokens = name_tokens(name.replace(",", " "))
    return " ".join(sorted(tokens)) if tokens else None


def name_keys(name: str | None, sort_name: str | None) -> set[str]:
    keys = {name_key(name), name_key(forward_name(sort_name)) if sort_name else None}
    return {k for k in keys if k}


def surname_and_forename(name: str | None, sort_name: str | None) -> tuple[str, str] | None:
    """The last word of the surname and the first forename, for the looser match of a person
    written with more or fewer forenames ("Anders L. Zorn" and "Anders Zorn"). The surname is
    what precedes the comma of a sort name, else the last word of the name."""
    if sort_name and "," in sort_name and not is_nobody(sort_name):
        surname, _, forenames = sort_name.partition(",")
        surname_words, forename_words = name_tokens(surname), name_tokens(forenames)
    elif name and not is_nobody(name):
        words = name_tokens(name)
        surname_words, forename_words = words[-1:], words[:-1]
    else:
        return None
    if not surname_words or not forename_words:
        return None
    return surname_words[-1], forename_words[0]


def forenames_compatible(a: str, b: str) -> bool:
    """ "anders" and "anders", or an initial and the name it stands for ("e" and "edward")."""
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def names_agree(ours: tuple[str | None, str | None], theirs: tuple[str | None, str | None]) -> str | None:
    """How two (name, sort name) pairs agree: EXACT_NAME, LOOSE_NAME, or None."""
    if name_keys(*ours) & name_keys(*theirs):
        return EXACT_NAME
    a, b = surname_and_forename(*ours), surname_and_forename(*theirs)
    if a and b and a[0] == b[0] and forenames_compatible(a[1], b[1]):
        return LOOSE_NAME
    return None


# Nationalities written differently by different catalogues.
_NATIONALITY = {"english": "british", "scottish": "british", "welsh": "british", "scots": "british",
                "northern irish": "british", "united states": "american", "flemish": "belgian"}


def nationality_key(value: str | None) -> str | None:
    """ "English" and "British" meet, as do "United States" and "American"."""
    if not value:
        return None
    folded = fold(value).strip()
    return _NATIONALITY.get(folded, folded)
