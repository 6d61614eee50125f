"""Parsing of request fields into Python values, raising InvalidArgument naming the field."""
from __future__ import annotations

import datetime as dt
import uuid

from central.errors import InvalidArgument
from drivers.alertmatch.normalize import document_number, state_code


def bounded(field: str, value: str, max_length: int) -> str:
    """The value stripped; refused when longer than its column (PostgreSQL would fail the whole call)."""
    value = value.strip()
    if len(value) > max_length:
        raise InvalidArgument(field, f"too long ({len(value)} characters, at most {max_length})")
    return value


def required(field: str, value: str, max_length: int = 200) -> str:
    value = bounded(field, value, max_length)
    if not value:
        raise InvalidArgument(field, "is required")
    return value


def state(field: str, value: str, *, is_required: bool) -> str:
    """An ICAO state code (1 to 3 letters, MRZ fillers ignored), normalised; "" when optional and absent."""
    code = state_code(value)
    if not code:
        if is_required:
            raise InvalidArgument(field, "is required")
        return ""
    if len(code) > 3 or not code.isalpha():
        raise InvalidArgument(field, f"not an ICAO state code: {value!r}")
    return code


def document_no(field: str, value: str) -> str:
    """A document number as given, refused when empty or longer than 40 characters once normalised."""
    norm = document_number(value)
    if not norm:
        raise InvalidArgument(field, "is required")
    if len(norm) > 40:
        raise InvalidArgument(field, f"too long ({len(norm)} characters, at most 40)")
    return bounded(field, value, 40)


def client_uuid(field: str, value: str) -> str:
    """A client-chosen UUID in canonical lower-case form."""
    value = required(field, value)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidArgument(field, f"not a UUID: {value!r}") from None


def optional_date(field: str, value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument(field, f"not a date YYYY-MM-DD: {value!r}") from None


def required_date(field: str, value: str) -> dt.date:
    date = optional_date(field, value)
    if date is None:
        raise InvalidArgument(field, "is required (YYYY-MM-DD)")
    return date


def instant(field: str, value: str) -> dt.datetime:
    """An RFC 3339 instant with an explicit offset, returned in UTC."""
    value = required(field, value)
    try:
        parsed = dt.datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise InvalidArgument(field, f"not an RFC 3339 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise InvalidArgument(field, f"needs a UTC offset (e.g. 'Z'): {value!r}")
    return parsed.astimezone(dt.timezone.utc)


def format_instant(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a 'Z', as every response writes instants."""
    if value.tzinfo is None:  # SQLite returns naive datetimes; everything stored is UTC
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def format_date(value: dt.date | None) -> str:
    return value.isoformat() if value is not None else ""


def validity(from_field: str, from_value: str, to_field: str, to_value: str) -> tuple[dt.date | None, dt.date | None]:
    start = optional_date(from_field, from_value)
    end = optional_date(to_field, to_value)
    if start and end and end < start:
        raise InvalidArgument(to_field, f"{end} is before {from_field} {start}")
    return start, end
