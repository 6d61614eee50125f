"""The service characters of an interchange: declared in UNA, defaulted by syntax level, or seen in use.

ISO 9735 defaults: level A (UNOA, and in practice every other identifier sent with printable
separators) uses `:` `+` `.` `?` ` ` `'`; level B (UNOB) uses the information separators IS1, IS3 and
IS4 and no release character. Carriers sometimes declare one set in UNA and write with another, so
the separators are also read off the UNB segment, whose layout is fixed: `UNB` + data separator +
a syntax identifier + component separator + version. When UNB shows different separators from the
ones declared, the ones in use win and the difference is reported.
"""
from __future__ import annotations

from dataclasses import dataclass

NO_RELEASE = "\ue000"  # a private-use character stands for "no release character": it never occurs in data


@dataclass(frozen=True)
class Separators:
    component: str = ":"
    element: str = "+"
    decimal: str = "."
    release: str = "?"
    segment: str = "'"

    def describe(self) -> str:
        release = "none" if self.release == NO_RELEASE else repr(self.release)
        return (f"component {self.component!r}, element {self.element!r}, release {release}, "
                f"segment {self.segment!r}")

    def distinct(self) -> bool:
        used = [self.component, self.element, self.segment] + ([self.release] if self.release != NO_RELEASE else [])
        return len(set(used)) == len(used) and not any(c.isalnum() for c in used)


LEVEL_A = Separators()
LEVEL_B = Separators(component="\x1f", element="\x1d", decimal=".", release=NO_RELEASE, segment="\x1c")


@dataclass(frozen=True)
class Syntax:
    separators: Separators
    body_start: int  # where the segments begin in the text (after a UNA, if any)
    notes: tuple[str, ...] = ()  # what was not as declared, for the problem list


def declared_in_una(text: str) -> Separators | None:
    """The separators a UNA service string advice declares, or None when the text has none."""
    if not text.startswith("UNA") or len(text) < 9:
        return None
    c = text[3:9]
    release = NO_RELEASE if c[3] == " " else c[3]
    return Separators(component=c[0], element=c[1], decimal=c[2], release=release, segment=c[5])


def _seen_in_unb(text: str, start: int, release: str) -> Separators | None:
    """The separators UNB and the segment after it are written with, or None when UNB cannot say."""
    at = text.find("UNB", start)
    if at < 0 or at > start + 64 or len(text) < at + 6:
        return None
    element = text[at + 3]
    i = at + 4
    while i < len(text) and i < at + 12 and text[i].isalnum():
        i += 1
    if i >= len(text) or i == at + 4:
        return None
    component = text[i]
    # The segment terminator is the first character after UNB's end that precedes the next tag (UNG or UNH).
    for tag in ("UNG", "UNH"):
        nxt = text.find(tag + element, i)
        if nxt > 0:
            j = nxt - 1
            while j > i and text[j] in "\r\n":
                j -= 1
            segment = text[j]
            found = Separators(component=component, element=element, decimal=".", release=release, segment=segment)
            return found if found.distinct() else None
    return None


def detect(text: str) -> Syntax:
    """How the text is written: the separators to tokenise with and where the segments begin."""
    declared = declared_in_una(text)
    if declared is not None:
        body = 9
        while body < len(text) and text[body] in "\r\n":
            body += 1
        seen = _seen_in_unb(text, body, declared.release)
        if not declared.distinct():
            fallback = seen or LEVEL_A
            return Syntax(fallback, body, (f"UNA declares unusable separators ({declared.describe()}): read with "
                                           f"{fallback.describe()}",))
        if seen is None or (seen.component, seen.element, seen.segment) == (
                declared.component, declared.element, declared.segment):
            return Syntax(declared, body)
        used = Separators(seen.component, seen.element, declared.decimal,
                          declared.release if declared.release not in (seen.component, seen.element, seen.segment)
                          else NO_RELEASE, seen.segment)
        return Syntax(used, body, (f"UNA declares {declared.describe()} but the interchange uses {used.describe()}; "
                                   "read with the ones in use",))
    if text.startswith("UNB\x1d") or "\x1d" in text[:16]:
        return Syntax(LEVEL_B, 0)
    seen = _seen_in_unb(text, 0, LEVEL_A.release)
    if seen is not None and (seen.component, seen.element, seen.segment) != (
            LEVEL_A.component, LEVEL_A.element, LEVEL_A.segment):
        return Syntax(seen, 0, (f"no UNA and not the default separators: read with {seen.describe()}",))
    return Syntax(LEVEL_A, 0)
