"""The one error every LDS parser raises."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from drivers.emrtd.tlv import TlvError


class LdsError(ValueError):
    """A chip file that does not follow ICAO Doc 9303 Part 10.

    `file` names the file ('DG2', 'EF.SOD', ...) so that a log line or an
    officer page can say where a bad chip went wrong.
    """

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


@contextmanager
def parsing(file: str) -> Iterator[None]:
    """Turn a TLV framing error inside a file into an LdsError naming the file."""
    try:
        yield
    except TlvError as exc:
        raise LdsError(file, f"bad TLV: {exc}") from exc


def text(file: str, field: str, value: bytes) -> str:
    """Decode a text field; Doc 9303 stores LDS text as UTF-8."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LdsError(file, f"{field} is not UTF-8 text") from exc
