"""Fuzzy comparison of a traveller's identity with a person alert.

What it forgives, because it happens between an alert typed from one source
and an MRZ read at the gate:
- name order (surname and given names swapped, or all in one field),
- missing or extra middle names,
- transliteration (MÜLLER / MUELLER / MULLER; MOHAMMED / MUHAMMAD),
- single typos,
- day and month of birth swapped (at a lower score).
What it does not: a different birth date, or a surname in the alert that no
word of the traveller's name resembles.

Scores are 0..1 and explained in words, for the officer who must decide.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from drivers.alertmatch.normalize import fold_umlaut_spelling, name_tokens

# Word pairs below this similarity are not paired at all.
TOKEN_FLOOR = 0.75
# The alert's surname must be found at least this well.
SURNAME_FLOOR = 0.8
# Cost of each word that one side has and the other lacks (a middle name).
UNPAIRED_PENALTY = 0.03
# Birth-date factors.
SWAPPED_DAY_MONTH = 0.9
NO_BIRTH_DATE_IN_ALERT = 0.85
NATIONALITY_MISMATCH_PENALTY = 0.05
# Similarity given to words that sound alike but are spelled apart (see _skeleton).
SAME_SKELETON = 0.9

DEFAULT_MIN_SIMILARITY = 0.8


@dataclass(frozen=True)
class Identity:
    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str


@dataclass(frozen=True)
class PersonMatch:
    score: float
    explanation: str


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _skeleton(token: str) -> str:
    """A rough sound key: first letter, then consonants with look-alike spellings merged.

    Transliterations of the same name differ mostly in vowels and in spellings
    of one sound (PH/F, C/K, W/V); this key ignores exactly those.
    """
    token = token.replace("PH", "F").replace("C", "K").replace("W", "V").replace("Z", "S")
    head, rest = token[:1], token[1:]
    consonants = [c for c in rest if c not in "AEIOUYH"]
    collapsed: list[str] = []
    for c in [head, *consonants]:
        if not collapsed or collapsed[-1] != c:
            collapsed.append(c)
    return "".join(collapsed)


def token_similarity(a: str, b: str) -> float:
    a, b = fold_umlaut_spelling(a), fold_umlaut_spelling(b)
    if a == b:
        return 1.0
    spelled = 1.0 - levenshtein(a, b) / max(len(a), len(b))
    if len(a) > 2 and len(b) > 2 and _skeleton(a) == _skeleton(b):
        return max(spelled, SAME_SKELETON)
    return spelled


def _pair_words(alert_words: list[str], traveller_words: list[str]) -> list[tuple[int, int, float]]:
    """Greedy best-first pairing of words, each used at most once: (alert index, traveller index, similarity)."""
    candidates = sorted(
        ((token_similarity(a, t), i, j) for i, a in enumerate(alert_words) for j, t in enumerate(traveller_words)),
        reverse=True,
    )
    used_a: set[int] = set()
    used_t: set[int] = set()
    pairs = []
    for similarity, i, j in candidates:
        if similarity < TOKEN_FLOOR:
            break
        if i in used_a or j in used_t:
            continue
        used_a.add(i)
        used_t.add(j)
        pairs.append((i, j, similarity))
    return pairs


def _birth_date_factor(alert: dt.date | None, traveller: dt.date | None) -> tuple[float, str] | None:
    if alert is None:
        return NO_BIRTH_DATE_IN_ALERT, "no birth date in alert"
    if traveller is None:
        return NO_BIRTH_DATE_IN_ALERT, "no birth date given"
    if alert == traveller:
        return 1.0, "birth date exact"
    if alert.year == traveller.year and alert.month == traveller.day and alert.day == traveller.month:
        return SWAPPED_DAY_MONTH, "birth date with day and month swapped"
    return None


def blocking_birth_dates(birth_date: dt.date | None) -> list[dt.date | None]:
    """The alert birth dates worth scoring names against (besides alerts without one):
    the traveller's own, and day and month swapped where that is a date."""
    dates = [birth_date]
    if birth_date and birth_date.day <= 12:
        dates.append(dt.date(birth_date.year, birth_date.day, birth_date.month))
    return dates


def compare(alert: Identity, traveller: Identity) -> PersonMatch | None:
    """The match of a traveller with an alert, or None when they are clearly different people."""
    birth = _birth_date_factor(alert.birth_date, traveller.birth_date)
    if birth is None:
        return None
    alert_surname = name_tokens(alert.surname)
    alert_words = alert_surname + name_tokens(alert.given_names)
    traveller_surname_count = len(name_tokens(traveller.surname))
    traveller_words = name_tokens(traveller.surname) + name_tokens(traveller.given_names)
    if not alert_words or not traveller_words:
        return None
    pairs = _pair_words(alert_words, traveller_words)
    if not any(i < len(alert_surname) and similarity >= SURNAME_FLOOR for i, _, similarity in pairs):
        return None
    fewer = min(len(alert_words), len(traveller_words))
    unpaired = len(alert_words) + len(traveller_words) - 2 * len(pairs)
    name_score = sum(similarity for _, _, similarity in pairs) / fewer - UNPAIRED_PENALTY * unpaired
    notes = [f"names {name_score:.2f}"]
    if any((i < len(alert_surname)) != (j < traveller_surname_count) for i, j, _ in pairs):
        notes.append("name order differs")
    if unpaired:
        notes.append(f"{unpaired} name word(s) on one side only")
    notes.append(birth[1])
    score = name_score * birth[0]
    if alert.nationality and traveller.nationality and alert.nationality != traveller.nationality:
        score -= NATIONALITY_MISMATCH_PENALTY
        notes.append("nationality differs")
    return PersonMatch(score=round(max(0.0, min(1.0, score)), 4), explanation="; ".join(notes))
