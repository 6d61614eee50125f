"""Legacy 5x5x5 intelligence records, read from a file (docs/INTELLIGENCE.md, Importing legacy records).

Pure: bytes in, `LegacyRecord`s out, or `LegacyFormatError` listing every bad row with its line and why
("line 7: intelligence '6' is not 1 to 5"). Nothing is read from the database here; what only the
database can say (a link to nothing, a reference imported before) is checked by
central.intelligence.legacy_import before anything is written, so that a file imports whole or not at all.

Two encodings of the same fields, told apart by the first character: JSON lines (one object per line) or
CSV with a header row (RFC 4180, UTF-8). The fields:

    reference        required  the legacy system's reference, 1-64 characters, once per file
    source           required  5x5x5 source evaluation A-E
    intelligence     required  5x5x5 intelligence evaluation 1-5
    handling         required  5x5x5 handling code 1-5
    source_kind      required  human, officer, open, partner or system
    text             required  the report's text
    handling_conditions        a restriction written beside the handling code (kept; makes the report C)
    classification             OFFICIAL (default), RESTRICTED, CONFIDENTIAL or SECRET
    review_by                  YYYY-MM-DD (default: a year after the import)
    sanitised_text             the version that names nobody
    links                      JSON: a list of "kind: target"; CSV: the same separated by " | "
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass

from central.intelligence.clearance import LEVELS
from central.intelligence.grading import Grading, GradingError, from_legacy
from central.intelligence.reports import LINK_KINDS, MAX_LINKS, MAX_SANITISED, MAX_TEXT, SOURCE_KINDS

MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_RECORDS = 100_000
MAX_PROBLEMS_LISTED = 50
REQUIRED = ("reference", "source", "intelligence", "handling", "source_kind", "text")
OPTIONAL = ("handling_conditions", "classification", "review_by", "sanitised_text", "links")
FIELDS = REQUIRED + OPTIONAL
CSV_LINK_SEPARATOR = " | "


class LegacyFormatError(ValueError):
    """The file is refused; `problems` says where and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_LISTED]
        more = len(problems) - len(shown)
        super().__init__("legacy records refused: " + "; ".join(shown) + (f"; and {more} more" if more else ""))


@dataclass(frozen=True)
class LegacyRecord:
    line: int
    reference: str
    grading: Grading
    source_kind: str
    text: str
    classification: str = LEVELS[0]
    review_by: dt.date | None = None
    sanitised_text: str = ""
    links: tuple[tuple[str, str], ...] = ()


class _Bad(ValueError):
    """One row's problem, in words."""


def _text(row: dict, key: str, limit: int, required: bool = False) -> str:
    value = row.get(key)
    if value is None or value == "":
        if required:
            raise _Bad(f"{key} is required")
        return ""
    if not isinstance(value, str):
        raise _Bad(f"{key} must be text")
    if "\x00" in value:
        raise _Bad(f"{key} holds a NUL character")
    if len(value) > limit:
        raise _Bad(f"{key} is longer than {limit} characters")
    if required and not value.strip():
        raise _Bad(f"{key} is required")
    return value.strip()


def _links(value, from_csv: bool) -> tuple[tuple[str, str], ...]:
    if value in (None, "", []):
        return ()
    if from_csv:
        if not isinstance(value, str):
            raise _Bad("links must be text")
        items = [item for item in value.split(CSV_LINK_SEPARATOR.strip()) if item.strip()]
    else:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Bad('links must be a list of "kind: target" texts')
        items = value
    if len(items) > MAX_LINKS:
        raise _Bad(f"at most {MAX_LINKS} links")
    links = []
    for item in items:
        kind, colon, target = item.partition(":")
        kind, target = kind.strip().lower(), target.strip()
        if not colon or kind not in LINK_KINDS:
            raise _Bad(f"link {item[:40]!r}: write it as 'kind: target', kind one of {', '.join(LINK_KINDS)}")
        if not target or len(target) > 200 or "\x00" in target:
            raise _Bad(f"link {item[:40]!r}: a target of 1 to 200 characters is required")
        links.append((kind, target))
    return tuple(links)


def _record(line: int, row: dict, from_csv: bool) -> LegacyRecord:
    unknown = sorted(str(key) for key in row if key not in FIELDS)
    if unknown:
        raise _Bad(f"unknown field(s) {', '.join(unknown)[:80]} (known: {', '.join(FIELDS)})")
    reference = _text(row, "reference", 64, required=True)
    source, intelligence, handling = (_text(row, key, 3, required=True) for key in ("source", "intelligence",
                                                                                        "handling"))
    source = source.upper()
    if len(source) != 1 or source not in "ABCDE":
        raise _Bad(f"source {source!r} is not A to E")
    if len(intelligence) != 1 or intelligence not in "12345":
        raise _Bad(f"intelligence {intelligence!r} is not 1 to 5")
    if len(handling) != 1 or handling not in "12345":
        raise _Bad(f"handling {handling!r} is not 1 to 5")
    try:
        grading = from_legacy(source + intelligence + handling, _text(row, "handling_conditions", 1500))
    except GradingError as exc:
        raise _Bad(str(exc)) from None
    source_kind = _text(row, "source_kind", 16, required=True).lower()
    if source_kind not in SOURCE_KINDS:
        raise _Bad(f"source_kind {source_kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    classification = _text(row, "classification", 16).upper() or LEVELS[0]
    if classification not in LEVELS:
        raise _Bad(f"classification {classification!r} is not one of {', '.join(LEVELS)}")
    review_text = _text(row, "review_by", 10)
    try:
        review_by = dt.date.fromisoformat(review_text) if review_text else None
    except ValueError:
        raise _Bad(f"review_by {review_text!r} is not a date YYYY-MM-DD") from None
    return LegacyRecord(line, reference, grading, source_kind, _text(row, "text", MAX_TEXT, required=True),
                        classification, review_by, _text(row, "sanitised_text", MAX_SANITISED),
                        _links(row.get("links"), from_csv))


def _json_rows(text: str):
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            yield number, _Bad(f"not JSON: {getattr(exc, 'msg', exc)}")
            continue
        yield number, row if isinstance(row, dict) else _Bad("not a JSON object")


def _csv_rows(text: str):
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield 1, _Bad(f"not CSV: {exc}")
        return
    header = [name.strip().lower() for name in header]
    missing = [name for name in REQUIRED if name not in header]
    if missing or len(set(header)) != len(header):
        yield 1, _Bad(f"the header must name each field once; missing: {', '.join(missing) or 'none'}")
        return
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, _Bad(f"not CSV: {exc}")
            return
        if any(cell.strip() for cell in cells):
            yield start, (dict(zip(header, cells)) if len(cells) == len(header)
                          else _Bad(f"{len(cells)} cells, the header has {len(header)}"))
        start = reader.line_num + 1


def read_records(data: bytes) -> list[LegacyRecord]:
    """Every record of the file, or LegacyFormatError naming every bad row."""
    if len(data) > MAX_FILE_BYTES:
        raise LegacyFormatError([f"file: {len(data)} bytes, at most {MAX_FILE_BYTES}"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LegacyFormatError([f"file: not UTF-8 (byte {exc.start})"]) from None
    if not text.strip():
        raise LegacyFormatError(["file: no record in it"])
    from_csv = not text.lstrip().startswith("{")
    records, problems, seen = [], [], {}
    for line, row in (_csv_rows(text) if from_csv else _json_rows(text)):
        try:
            if isinstance(row, _Bad):
                raise row
            record = _record(line, row, from_csv)
            if record.reference in seen:
                raise _Bad(f"reference {record.reference!r} is also on line {seen[record.reference]}")
            seen[record.reference] = line
            records.append(record)
        except _Bad as exc:
            problems.append(f"line {line}: {exc}")
        if len(records) + len(problems) > MAX_RECORDS:
            problems.append(f"line {line}: more than {MAX_RECORDS} records in one file")
            break
    if problems:
        raise LegacyFormatError(problems)
    if not records:
        raise LegacyFormatError(["file: no record in it"])
    return records
