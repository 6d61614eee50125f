"""Cases of the stay rule as JSON lines, one traveller a line, and their answers (docs/STAYS.md).

A case: {"id": "...", "stays": [["YYYY-MM-DD", "YYYY-MM-DD" or null], ...], "on": "YYYY-MM-DD"}.
Its answer: {"id", "days_used", "latest_exit", "days_remaining", "overstay_days"}, or {"id", "error"}
with the reason when the case cannot be read or judged (id null when there is none to read). Whatever a
line holds, check_line answers it rather than raising, so one bad line never stops a batch.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from typing import BinaryIO, Iterator

from central.stays.rule import MAX_STAYS, Stay, StayError, authorise

# Bounds of a batch, stated in `limes stay check --help`: a line holds MAX_STAYS stays with room to spare,
# and reading stops, with BatchTooLong, rather than run on through an endless input.
MAX_LINE_BYTES = 64 * 1024
MAX_LINES = 100_000
MAX_BATCH_BYTES = 1024 * 1024 * 1024  # so that an endless line (/dev/zero) ends too
MAX_ID_CHARS = 200

_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits: \d would take any script's


class BatchTooLong(Exception):
    """More than MAX_LINES cases, or MAX_BATCH_BYTES, in one batch."""


class _CaseError(Exception):
    def __init__(self, case_id: str | None, reason: str) -> None:
        super().__init__(reason)
        self.case_id = case_id


def check_line(line: bytes | str) -> dict:
    """The answer to one line of a batch."""
    try:
        text = line.decode("utf-8") if isinstance(line, bytes) else line
    except UnicodeDecodeError:
        return error(None, "not UTF-8")
    try:
        case = json.loads(text)
    except (ValueError, RecursionError):  # ValueError: bad JSON, or an integer of thousands of digits
        return error(None, "not JSON")
    return check_case(case)


def check_case(case: object) -> dict:
    """The answer to one case, already read from JSON."""
    try:
        case_id, stays, on = _read_case(case)
    except _CaseError as exc:
        return error(exc.case_id, str(exc))
    try:
        return {"id": case_id, **authorise(stays, on).as_dict()}
    except StayError as exc:
        return error(case_id, str(exc))


def error(case_id: str | None, reason: str) -> dict:
    return {"id": case_id, "error": reason}


def check_file(binary: BinaryIO) -> Iterator[dict]:
    """The answers to a batch read from a binary file, in its order; blank lines are skipped.

    A line longer than MAX_LINE_BYTES is answered with an error without being held in memory; after
    MAX_LINES cases or MAX_BATCH_BYTES BatchTooLong is raised instead of reading on.
    """
    cases = read = 0

    def read_line(limit: int) -> bytes:
        nonlocal read
        chunk = binary.readline(limit)
        read += len(chunk)
        if read > MAX_BATCH_BYTES:
            raise BatchTooLong(f"more than {MAX_BATCH_BYTES} bytes: the rest of the batch was not read")
        return chunk

    while line := read_line(MAX_LINE_BYTES + 1):
        too_long = len(line) > MAX_LINE_BYTES and not line.endswith(b"\n")
        while too_long and line and not line.endswith(b"\n"):
            line = read_line(MAX_LINE_BYTES)
        if not too_long and not line.strip():
            continue
        cases += 1
        if cases > MAX_LINES:
            raise BatchTooLong(f"more than {MAX_LINES} lines: the rest of the batch was not read")
        yield error(None, f"line longer than {MAX_LINE_BYTES} bytes") if too_long else check_line(line)


def parse_date(value: object, what: str, case_id: str | None) -> dt.date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise _CaseError(case_id, f"{what} is not a date written YYYY-MM-DD")
    try:
        return dt.date(int(value[:4]), int(value[5:7]), int(value[8:]))
    except ValueError:
        raise _CaseError(case_id, f"{what} is not a date: {value}") from None


def _read_case(case: object) -> tuple[str, list[Stay], dt.date]:
    if not isinstance(case, dict):
        raise _CaseError(None, "not a JSON object")
    if "id" not in case:
        raise _CaseError(None, "missing field: id")
    case_id = case["id"]
    if not isinstance(case_id, str) or len(case_id) > MAX_ID_CHARS:
        raise _CaseError(None, f"id is not a string of at most {MAX_ID_CHARS} characters")
    for field in ("stays", "on"):
        if field not in case:
            raise _CaseError(case_id, f"missing field: {field}")
    on = parse_date(case["on"], "on", case_id)
    rows = case["stays"]
    if not isinstance(rows, list):
        raise _CaseError(case_id, "stays is not a list")
    if len(rows) > MAX_STAYS:
        raise _CaseError(case_id, f"{len(rows)} stays, more than the {MAX_STAYS} accepted")
    stays = []
    for number, row in enumerate(rows, 1):
        if not isinstance(row, list) or len(row) != 2:
            raise _CaseError(case_id, f"stay {number} is not [entry, exit]")
        entry = parse_date(row[0], f"stay {number} entry", case_id)
        exit_ = None if row[1] is None else parse_date(row[1], f"stay {number} exit", case_id)
        stays.append(Stay(entry, exit_))
    return case_id, stays, on
