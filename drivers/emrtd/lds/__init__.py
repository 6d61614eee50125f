"""Parsers (and encoders, for test chips) of the ICAO Doc 9303 LDS files.

One module per file: efcom, dg1, dg2, dg3, dg11, dg12, dg14, dg15, sod, cardaccess
(SecurityInfos of EF.CardAccess, DG14 and EF.CardSecurity), cardsecurity, and
raw for the data groups kept as bytes. Every parser raises LdsError, naming
the file and the reason, on malformed input.
"""
from __future__ import annotations

from typing import Any

from drivers.emrtd.lds import dg1, dg2, dg3, dg11, dg12, dg14, dg15, efcom, raw, sod
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.files import DG_BY_FID, EF_COM, EF_SOD, file_name

__all__ = ["LdsError", "parse_file", "EF_COM", "EF_SOD", "file_name"]

_PARSERS = {
    EF_COM: efcom.parse,
    EF_SOD: sod.parse,
    0x0101: dg1.parse,
    0x0102: dg2.parse,
    0x0103: dg3.parse,
    0x010B: dg11.parse,
    0x010C: dg12.parse,
    0x010E: dg14.parse,
    0x010F: dg15.parse,
}


def parse_file(file_id: int, data: bytes) -> Any:
    """Parse a file by its identifier; data groups without a parser come back raw."""
    if file_id in _PARSERS:
        return _PARSERS[file_id](data)
    if file_id in DG_BY_FID:
        return raw.parse(DG_BY_FID[file_id], data)
    raise LdsError(file_name(file_id), "not an LDS file identifier")
