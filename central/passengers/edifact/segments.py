"""Text to segments, leniently: each segment is tokenised on its own, so one bad segment costs only itself.

The text is split at segment terminators (honouring the release character) by this module; pydifact
then splits each segment into data elements and components and removes the release characters.
Line breaks are dropped before splitting unless they are separators: carriers wrap segments at 80
columns, and EDIFACT data never holds a line break. Reading stops at UNZ; anything after it is
reported and ignored.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydifact.control import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser
from pydifact.tokenizer import Tokenizer

from central.passengers.edifact.syntax import Separators, detect

MAX_CHARACTERS = 20_000_000  # a 1,000-passenger manifest is about 160 kB; this is a bound, not a target
# Control characters never belong in the data (level B's separators are consumed before this), and a NUL
# cannot even be stored in PostgreSQL text: they are removed from every value and tag.
_CONTROL = {c: None for c in [*range(0x20), 0x7f]}


@dataclass(frozen=True)
class Problem:
    """Something in a message that could not be read as it should; `segment` counts from 1 (0: the whole message)."""
    segment: int
    tag: str
    text: str

    def as_dict(self) -> dict:
        return {"segment": self.segment, "tag": self.tag, "problem": self.text}


@dataclass(frozen=True)
class Segment:
    number: int
    tag: str
    elements: tuple[tuple[str, ...], ...]  # the data elements after the tag, each a tuple of its components

    def get(self, element: int, component: int = 0) -> str:
        """A component by position from 0 (element 0 is the first after the tag); '' when absent."""
        if element >= len(self.elements):
            return ""
        parts = self.elements[element]
        return parts[component].strip() if component < len(parts) else ""

    def components(self, element: int) -> tuple[str, ...]:
        return self.elements[element] if element < len(self.elements) else ()


@dataclass(frozen=True)
class Tokenised:
    segments: list[Segment]
    problems: list[Problem]
    separators: Separators


def _split(body: str, sep: Separators) -> tuple[list[str], str]:
    """The segment texts (each with its terminator) and what follows the last terminator.

    A terminator preceded by an odd run of release characters is data, kept inside its segment."""
    pieces, start, i = [], 0, 0
    term, release = sep.segment, sep.release
    while True:
        i = body.find(term, i)
        if i < 0:
            break
        run, j = 0, i - 1
        while j >= start and body[j] == release:
            run, j = run + 1, j - 1
        i += 1
        if run % 2 == 0:
            pieces.append(body[start:i])
            start = i
    return pieces, body[start:]


def _elements(text: str, characters: Characters) -> list[str | list[str]]:
    tokens = Tokenizer().get_tokens(text, characters)
    return next(Parser().convert_tokens_to_raw_segments(tokens))


def tokenise(text: str) -> Tokenised:
    """Every readable segment of an interchange, and a problem for each that is not."""
    problems: list[Problem] = []
    if len(text) > MAX_CHARACTERS:
        raise ValueError(f"{len(text)} characters: more than the {MAX_CHARACTERS} a message may have")
    text = text.lstrip("\ufeff \r\n\t")
    syntax = detect(text)
    sep = syntax.separators
    problems += [Problem(0, "UNA", note) for note in syntax.notes]
    body = text[syntax.body_start:]
    if "\n" not in (sep.component, sep.element, sep.segment):
        body = body.replace("\r", "").replace("\n", "")
    characters = Characters(sep.component, sep.element, sep.decimal, sep.release, " ", sep.segment)
    characters.line_terminators = []
    segments: list[Segment] = []
    pieces, tail = _split(body, sep)
    unterminated = 0
    if tail.strip():
        # The last segment lacks its terminator (often a trimmed UNZ): read it as if it had one.
        pieces.append(tail.strip() + sep.segment)
        unterminated = len(pieces)
    for number, piece in enumerate(pieces, 1):
        raw = piece.strip(" \t")
        tag = raw[:3].translate(_CONTROL)
        if number == unterminated:
            problems.append(Problem(number, tag, "no segment terminator at the end: read as if there were one"))
        if len(tag) < 3 or not tag.isalnum() or not tag.isupper() or raw[3:4] not in (sep.element, sep.segment):
            problems.append(Problem(number, tag[:3], f"not a segment: {raw[:20]!r} ignored"))
            continue
        try:
            values = _elements(raw, characters)
        except (EDISyntaxError, StopIteration, IndexError, ValueError) as exc:
            problems.append(Problem(number, tag, f"cannot be tokenised ({exc}): ignored"))
            continue
        elements = tuple(tuple(c.translate(_CONTROL) for c in v) if isinstance(v, list) else (v.translate(_CONTROL),)
                         for v in values[1:])
        segments.append(Segment(number, tag, elements))
        if tag == "UNZ":
            rest = "".join(pieces[number:]).strip()
            if rest:
                problems.append(Problem(number, tag, f"{len(rest)} characters after the interchange trailer: ignored"))
            break
    return Tokenised(segments, problems, sep)
