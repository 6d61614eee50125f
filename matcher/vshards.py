"""Virtual shards of a clustered gallery, and which set of matcher processes serves which (pure).

A subject belongs to one of VSHARDS virtual shards for ever (a hash of its id), so adding
a set of processes moves whole vshards, about 1/(sets+1) of them, never re-hashes subjects.
The assignment says, for each vshard set (a name), the vshards it serves and the vshards it is
still loading (`warming`). Both sets hold a moving vshard until the flip, so at every moment some
set serves it: the router merges answers by subject, so a subject held twice counts once.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

VSHARDS = 1024  # fixed for the life of a cluster: a vshard is the unit of placement, not of hashing
SUBJECT_PREFIX = "limes.gallery"  # stream subjects: limes.gallery.<gallery>.<vshard>


def vshard_of(subject_id: str) -> int:
    """Stable across processes and Python versions (not hash(), which is salted per process)."""
    digest = hashlib.blake2b(subject_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % VSHARDS


def stream_subject(gallery: str, vshard: int) -> str:
    return f"{SUBJECT_PREFIX}.{gallery}.{vshard}"


def parse_stream_subject(subject: str) -> tuple[str, int]:
    """(gallery, vshard) of a stream subject; ValueError if it is not one."""
    prefix, _, rest = subject.partition(SUBJECT_PREFIX + ".")
    gallery, _, vshard = rest.rpartition(".")
    if prefix or not gallery or not vshard.isdigit() or not 0 <= int(vshard) < VSHARDS:
        raise ValueError(f"not a gallery stream subject: {subject!r}")
    return gallery, int(vshard)


@dataclass(frozen=True)
class Assignment:
    """Version `version` of the table: set name -> vshards served, and -> vshards being loaded."""
    version: int
    serving: dict[str, frozenset[int]]
    warming: dict[str, frozenset[int]] = field(default_factory=dict)

    def owner(self, vshard: int) -> str:
        """The set that serves `vshard` (exactly one does in a valid table)."""
        for name, vshards in self.serving.items():
            if vshard in vshards:
                return name
        raise KeyError(f"vshard {vshard} is served by no set")

    def held_by(self, name: str) -> frozenset[int]:
        """What a set's processes must have loaded: what it serves and what it is warming."""
        return self.serving.get(name, frozenset()) | self.warming.get(name, frozenset())

    def check(self) -> None:
        """ValueError unless every vshard is served by exactly one set."""
        seen: dict[int, str] = {}
        for name, vshards in self.serving.items():
            for v in vshards:
                if v in seen:
                    raise ValueError(f"vshard {v} served by both {seen[v]!r} and {name!r}")
                seen[v] = name
        if len(seen) != VSHARDS:
            raise ValueError(f"{VSHARDS - len(seen)} vshards are served by no set")

    def to_json(self) -> bytes:
        return json.dumps({"version": self.version,
                           "serving": {n: sorted(v) for n, v in sorted(self.serving.items())},
                           "warming": {n: sorted(v) for n, v in sorted(self.warming.items()) if v}}).encode()

    @classmethod
    def from_json(cls, data: bytes) -> "Assignment":
        raw = json.loads(data)
        return cls(raw["version"], {n: frozenset(v) for n, v in raw["serving"].items()},
                   {n: frozenset(v) for n, v in raw.get("warming", {}).items()})


def initial(names: list[str]) -> Assignment:
    """Vshards dealt round-robin over the sets."""
    if not names or len(set(names)) != len(names):
        raise ValueError(f"set names: {names!r} must be distinct and at least one")
    return Assignment(1, {name: frozenset(range(i, VSHARDS, len(names))) for i, name in enumerate(names)})


def balanced(current: Assignment, names: list[str]) -> dict[str, frozenset[int]]:
    """The serving table for sets `names` that moves the fewest vshards from `current`.

    Every set ends with VSHARDS // len(names) or one more; a set that stays keeps what it can.
    """
    if not names or len(set(names)) != len(names):
        raise ValueError(f"set names: {names!r} must be distinct and at least one")
    quota = {name: VSHARDS // len(names) + (1 if i < VSHARDS % len(names) else 0) for i, name in enumerate(names)}
    kept: dict[str, set[int]] = {name: set() for name in names}
    loose: list[int] = []
    for name, vshards in sorted(current.serving.items()):
        ordered = sorted(vshards)
        if name in kept:
            kept[name].update(ordered[:quota[name]])
            loose.extend(ordered[quota[name]:])
        else:
            loose.extend(ordered)
    loose.sort()
    for name in names:
        while len(kept[name]) < quota[name]:
            kept[name].add(loose.pop())
    return {name: frozenset(v) for name, v in kept.items()}


def start_move(current: Assignment, names: list[str]) -> Assignment:
    """Step 1 of a rebalance: the target's newcomers warm up while the old owners keep serving."""
    target = balanced(current, names)
    warming = {name: frozenset(v - current.serving.get(name, frozenset())) for name, v in target.items()}
    serving = dict(current.serving)
    for name in names:
        serving.setdefault(name, frozenset())
    return Assignment(current.version + 1, serving, {n: v for n, v in warming.items() if v})


def finish_move(moving: Assignment) -> Assignment:
    """Step 2, once every warming set has loaded its vshards: they serve them, the old owners let go."""
    serving = {name: set(v) for name, v in moving.serving.items()}
    for name, vshards in moving.warming.items():
        for other in serving.values():
            other.difference_update(vshards)
        serving[name].update(vshards)
    return Assignment(moving.version + 1, {n: frozenset(v) for n, v in serving.items() if v})
