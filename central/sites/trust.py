"""Trust data written at headquarters and replicated down to the posts (docs/SITES.md, Trust data).

Gates authenticate chips against a folder of trust files (CscaStore.load_dir at start, its CRLs re-read
while running: edge.runtime.CrlRefresher). Headquarters is the one writer of that trust: its folder is
filled by `limes pki import-ldif` and `import-master-list` (and CSCA or CRL files put there), and
`publish` loads the folder as a gate would, so that only what verifies goes out, and mirrors it into
the DOWN table trust_objects: one row per CSCA, DSC, CRL and deviation list, as DER, keyed by its
SHA-256; what left the folder is marked removed. Replication carries the rows to every post, whose
guard refuses local writes to them. At a post, `materialise` writes the rows into the folder its
gates use, as files of its own (`hq-...`), and removes those headquarters removed; files put there
by hand are left alone.

A master list is published as the CSCAs it vouched for (with the deviations headquarters accepted),
not as the list: the post's store then needs no list signer of its own.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import pem
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session

from central.database.models import TrustObject, utcnow
from drivers.emrtd.passiveauth import CscaStore, StoreError
from drivers.emrtd.passiveauth.store import DEVIATIONS_ACCEPTED_MARK, deviations_of

CSCA, DSC, CRL, DEVIATION_LIST = "csca", "dsc", "crl", "deviation_list"
KINDS = (CSCA, DSC, CRL, DEVIATION_LIST)
# The files a post's materialise owns in the trust folder: written, replaced and removed only by it.
FILE_PREFIX = "hq-"
_FILE_NAMES = {CSCA: ("csca", ".pem"), DSC: ("dsc", ".dsc"), CRL: ("crl", ".crl"),
               DEVIATION_LIST: ("deviations", ".dvl")}


class TrustError(Exception):
    """A trust folder that cannot be read or published, and why."""


@dataclass(frozen=True)
class Anchor:
    """One trust object as headquarters publishes it."""

    kind: str
    der: bytes
    deviations_accepted: bool = False
    description: str = ""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


@dataclass(frozen=True)
class Published:
    added: list[str]  # sha256 of rows added or brought back
    removed: list[str]  # sha256 of rows marked removed
    unchanged: int

    def to_dict(self) -> dict:
        return {"added": self.added, "removed": self.removed, "unchanged": self.unchanged}


@dataclass(frozen=True)
class Materialised:
    written: list[str]  # file names
    removed: list[str]
    unchanged: int

    def to_dict(self) -> dict:
        return {"written": self.written, "removed": self.removed, "unchanged": self.unchanged}


def load_folder(folder: Path) -> CscaStore:
    """The trust store in `folder`, loaded and checked as a gate loads it; TrustError when it does not load."""
    if not folder.is_dir():
        raise TrustError(f"trust folder {folder} does not exist")
    store = CscaStore()
    try:
        store.load_dir(folder)
    except (OSError, StoreError) as exc:
        raise TrustError(f"trust folder {folder}: {exc}") from exc
    return store


def anchors_of(store: CscaStore) -> list[Anchor]:
    """Everything the store trusts: its CSCAs, the DSCs it keeps, the newest CRL of each issuer, its deviation lists."""
    anchors = [Anchor(CSCA, c.der, bool(deviations_of(c)), c.subject.rfc4514_string()[:400]) for c in store.cscas]
    anchors += [Anchor(DSC, c.der, False, c.subject.rfc4514_string()[:400]) for c in store.dscs]
    anchors += [Anchor(CRL, crl.public_bytes(serialization.Encoding.DER), False,
                       f"CRL of {crl.issuer.rfc4514_string()}"[:400]) for crl in store.crls]
    anchors += [Anchor(DEVIATION_LIST, listed, False, "deviation list") for listed in store.deviation_lists]
    return anchors


def publish(session: Session, folder: Path, published_by: str, at: dt.datetime | None = None) -> Published:
    """Mirror headquarters' trust folder into trust_objects: new objects added (or a removed one brought back),
    objects no longer trusted there marked removed. Run at headquarters; a post's guard refuses it."""
    at = at or utcnow()
    wanted = {anchor.sha256: anchor for anchor in anchors_of(load_folder(folder))}
    rows = {row.sha256: row for row in session.scalars(select(TrustObject))}
    added, removed, unchanged = [], [], 0
    for digest, anchor in wanted.items():
        row = rows.get(digest)
        if row is None:
            session.add(TrustObject(kind=anchor.kind, sha256=digest, der=anchor.der,
                                    deviations_accepted=anchor.deviations_accepted, description=anchor.description,
                                    added_at=at, added_by=published_by[:64]))
            added.append(digest)
        elif row.removed_at is not None:
            row.removed_at, row.added_at, row.added_by = None, at, published_by[:64]
            added.append(digest)
        else:
            unchanged += 1
    for digest, row in rows.items():
        if digest not in wanted and row.removed_at is None:
            row.removed_at = at
            removed.append(digest)
    session.flush()
    return Published(added, removed, unchanged)


def file_of(row: TrustObject) -> tuple[str, bytes]:
    """The name and content of the file a post keeps for a trust object, as its gates' store loads it."""
    if row.kind not in _FILE_NAMES:  # from a newer headquarters: this build cannot say what the gates make of it
        raise TrustError(f"trust object {row.sha256[:16]} is of kind {row.kind!r}, none of {', '.join(KINDS)}")
    stem, suffix = _FILE_NAMES[row.kind]
    name = f"{FILE_PREFIX}{stem}-{row.sha256[:24]}{suffix}"
    if row.kind == CSCA:
        # The line `limes pki import-master-list` writes above a CSCA accepted with deviations, so that the
        # post's store accepts it as headquarters' did.
        mark = DEVIATIONS_ACCEPTED_MARK + b" accepted at headquarters\n" if row.deviations_accepted else b""
        return name, mark + pem.armor("CERTIFICATE", row.der)
    if row.kind == DSC:
        return name, pem.armor("CERTIFICATE", row.der)
    return name, row.der  # CRLs and deviation lists: DER, as the PKD publishes them


def materialise(session: Session, folder: Path) -> Materialised:
    """Write the trust objects in force into `folder` (each file atomically), remove the files of those no
    longer in force; files not made here are not touched."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = dict(file_of(row) for row in session.scalars(
        select(TrustObject).where(TrustObject.removed_at.is_(None)).order_by(TrustObject.id)))
    present = {path.name for path in folder.iterdir() if path.is_file() and path.name.startswith(FILE_PREFIX)}
    written, unchanged = [], 0
    for name, content in wanted.items():
        path = folder / name
        if name in present and path.read_bytes() == content:
            unchanged += 1
            continue
        _write_atomically(path, content)
        written.append(name)
    removed = sorted(present - set(wanted))
    for name in removed:
        (folder / name).unlink(missing_ok=True)
    return Materialised(written, removed, unchanged)


def _write_atomically(path: Path, content: bytes) -> None:
    """A gate re-reading the folder sees the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".hq-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
