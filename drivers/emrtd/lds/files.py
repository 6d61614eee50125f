"""Where each LDS file lives: data group number, file identifier, outer tag.

The reader and the virtual chip exchange files as dict[int, bytes] keyed by
file identifier; EF.COM and EF.SOD name data groups by their outer tag, and
the SOD by number, so all three keys are needed.
"""
from __future__ import annotations

EF_COM = 0x011E
EF_SOD = 0x011D

# data group number -> (file identifier, outer tag), Doc 9303 Part 10 table 34
DATA_GROUPS: dict[int, tuple[int, int]] = {
    1: (0x0101, 0x61),
    2: (0x0102, 0x75),
    3: (0x0103, 0x63),
    4: (0x0104, 0x76),
    5: (0x0105, 0x65),
    6: (0x0106, 0x66),
    7: (0x0107, 0x67),
    8: (0x0108, 0x68),
    9: (0x0109, 0x69),
    10: (0x010A, 0x6A),
    11: (0x010B, 0x6B),
    12: (0x010C, 0x6C),
    13: (0x010D, 0x6D),
    14: (0x010E, 0x6E),
    15: (0x010F, 0x6F),
    16: (0x0110, 0x70),
}

DG_BY_FID = {fid: number for number, (fid, _) in DATA_GROUPS.items()}
DG_BY_TAG = {tag: number for number, (_, tag) in DATA_GROUPS.items()}


def fid(dg: int) -> int:
    return DATA_GROUPS[dg][0]


def tag(dg: int) -> int:
    return DATA_GROUPS[dg][1]


def file_name(file_id: int) -> str:
    """A human name for a file identifier: 'DG2', 'EF.SOD', ..."""
    if file_id == EF_COM:
        return "EF.COM"
    if file_id == EF_SOD:
        return "EF.SOD"
    if file_id in DG_BY_FID:
        return f"DG{DG_BY_FID[file_id]}"
    return f"EF {file_id:04X}"
