"""What `limes chip read` and `limes chip fingers` share: the usage error, the MRZ key from the three
fields, the choice of reader, the exit statuses."""
from __future__ import annotations

import sys

from common.output import emit

CARD_WAIT_S = 10.0
EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments or an unusable reader, PKI file or store: exit 2 with this message."""


def usage_error(message: str, as_json: bool) -> int:
    if as_json:
        emit({"error": message}, True)
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


def bac_key(document_number: str, birth_date: str, expiry_date: str, mrz_key) -> str:
    number = document_number.strip().upper()
    if not number or any(not (c.isascii() and (c.isalnum() or c == "<")) for c in number):
        raise UsageError(f"--document-number {document_number!r}: only A-Z, 0-9 and '<' as in the MRZ")
    try:
        return mrz_key(number, birth_date, expiry_date)
    except ValueError as exc:
        raise UsageError(str(exc).replace("date_of_birth", "--birth-date")
                         .replace("date_of_expiry", "--expiry-date")) from exc


def choose_reader(wanted: str | None, readers: list[str]) -> str:
    if not readers:
        raise UsageError("pcscd lists no reader (is the reader plugged in, or `limes sim chip` running?)")
    if wanted is None:
        return readers[0]
    if wanted not in readers:
        raise UsageError(f"no reader named {wanted!r}; readers: {', '.join(readers)}")
    return wanted
