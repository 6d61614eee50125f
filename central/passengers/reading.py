"""One entry point: the bytes an airline sent to a `Message`, leniently, or `Unusable` with the reason.

The interchange may hold several messages (UNH..UNT), e.g. a manifest split in parts; they are read
as one when they are of one type. A message is refused only when nothing usable remains: no
recognisable message type, or no flight and no person (PAXLST), or no PNR (PNRGOV).
"""
from __future__ import annotations

import datetime as dt

from central.passengers import paxlst, pnrgov
from central.passengers.edifact.segments import Problem, tokenise
from central.passengers.parsed import Message

VERSIONS = {"PAXLST": ("D02B", "D05B"), "PNRGOV": ("11.1", "13.1")}


class Unusable(ValueError):
    """Nothing usable in the message; str() is the reason."""


def _decode(data: bytes | str) -> tuple[str, list[Problem]]:
    if isinstance(data, str):
        return data, []
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        # Level A/B interchanges are ASCII; a stray Latin-1 byte is read as Latin-1 rather than lost.
        return data.decode("latin-1"), [Problem(0, "", f"not UTF-8 (byte {exc.start}): read as Latin-1")]


def _version(kind: str, ident: tuple[str, ...]) -> str:
    if kind == "PAXLST":
        return "".join(ident[1:3]).upper()  # D + 02B
    return ".".join(p for p in ident[1:3] if p)  # 11 + 1


def read_message(data: bytes | str, today: dt.date | None = None) -> Message:
    """The flights, persons or PNRs of a PAXLST or PNRGOV interchange, with every problem met on the way."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    text, problems = _decode(data)
    try:
        tokenised = tokenise(text)
    except ValueError as exc:
        raise Unusable(str(exc)) from None
    problems += tokenised.problems
    segments = tokenised.segments
    if not segments:
        raise Unusable("no EDIFACT segment could be read" + (f" ({problems[-1].text})" if problems else ""))
    headers = [s for s in segments if s.tag == "UNH"]
    kinds = [h.get(1, 0).upper() for h in headers]
    kind = next((k for k in kinds if k in VERSIONS), "")
    if not kind:
        found = ", ".join(sorted(set(kinds))) or "no UNH segment"
        raise Unusable(f"not a PAXLST or PNRGOV message ({found})")
    header = headers[kinds.index(kind)]
    message = Message(kind, version=_version(kind, header.components(1)), problems=problems)
    unb = next((s for s in segments if s.tag == "UNB"), None)
    message.sender = unb.get(1, 0) if unb else ""
    if unb is not None and unb.get(0, 0).upper() == "UNOA":
        # Level A's character set has no lower case; carriers send it anyway. Read as sent, say where first.
        lower = next((s for s in segments if any(c != c.upper() for e in s.elements for c in e)), None)
        if lower is not None:
            problems.append(Problem(lower.number, lower.tag, "lower case in a syntax level A (UNOA) interchange: "
                                    "read as sent"))
    if message.version not in VERSIONS[kind]:
        problems.append(Problem(header.number, "UNH", f"version {message.version or '?'} is not one of "
                                f"{', '.join(VERSIONS[kind])}: read as {VERSIONS[kind][-1]}"))
    body = []
    inside = kind  # segments before the first UNH (UNB, UNG) are envelope; those of another message type are skipped
    for seg in segments:
        if seg.tag == "UNH":
            inside = seg.get(1, 0).upper()
            if inside != kind:
                problems.append(Problem(seg.number, "UNH", f"a {inside or '?'} message inside a {kind} interchange: "
                                        "skipped"))
        if inside == kind:
            body.append(seg)
    (paxlst if kind == "PAXLST" else pnrgov).read(body, message, today)
    if kind == "PAXLST" and not message.flights and not message.persons:
        raise Unusable("a PAXLST with no flight and no person that could be read")
    if kind == "PNRGOV" and not message.pnrs:
        raise Unusable("a PNRGOV with no PNR that could be read")
    return message
