"""The keys of the rows border posts write: UUIDs of version 7 (RFC 9562), made where the row is.

Every post makes its own keys without asking anyone, and headquarters receives them all (docs/SITES.md),
so a key must be unique without a shared sequence: 74 random bits see to that. The first 48 bits are
the Unix time in milliseconds, so keys made later sort later and an index on them grows at its end.
Within one millisecond a 12-bit counter (RFC 9562, section 6.2, method 1) keeps one process's keys in
the order it made them, which the records' "in the order recorded" queries rely on.

Python 3.14's `uuid.uuid7` does the same; Limes runs on 3.11.
"""
from __future__ import annotations

import secrets
import threading
import time
import uuid

_COUNTER_MAX = 0xFFF
_lock = threading.Lock()
_last_ms = 0
_counter = 0


def _fresh_counter() -> int:
    # Its top bit clear, so that a millisecond has at least 2,048 keys before the counter runs out.
    return secrets.randbits(11)


def new_key() -> uuid.UUID:
    """A new version-7 UUID, later than every one this process made before."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, _fresh_counter()
        elif _counter < _COUNTER_MAX:
            _counter += 1
        else:  # 4,096 keys in one millisecond, or the clock went back: borrow the next millisecond
            _last_ms, _counter = _last_ms + 1, _fresh_counter()
        value = ((_last_ms & (2**48 - 1)) << 80) | (0x7 << 76) | (_counter << 64) | (0b10 << 62) \
            | secrets.randbits(62)
    return uuid.UUID(int=value)


def from_integer(old: int) -> uuid.UUID:
    """The key of a row that had integer key `old` before migration 0018: the same at every site that holds
    the row (a post and headquarters migrate their copies apart, and must agree), and unlike any key
    `new_key` makes. A version-8 UUID ("custom", RFC 9562) with 48 zero bits where version 7 has the time,
    so the rows keep their old order, before every row made since. `old` is below 2**63 (a BIGINT)."""
    if not 0 <= old < 2**63:
        raise ValueError(f"{old}: an integer key is 0 to 2**63 - 1")
    return uuid.UUID(int=(0x8 << 76) | ((old >> 62) << 64) | (0b10 << 62) | (old & (2**62 - 1)))


def made_at_ms(key: uuid.UUID) -> int:
    """The Unix time in milliseconds a version-7 key was made at (its first 48 bits)."""
    return key.int >> 80


def parse_key(text: str) -> uuid.UUID | None:
    """The key written in `text` (as a page, a link or a command line carries it); None if it is not one."""
    try:
        return uuid.UUID(text.strip())
    except (ValueError, AttributeError):
        return None
