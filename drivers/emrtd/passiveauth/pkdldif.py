"""The ICAO PKD's LDIF downloads (RFC 2849): CSCA master lists, Document Signer
certificates, CRLs and deviation lists, each an entry under dc=data,dc=download,dc=pkd,...:

    dn: cn=...,o=ml,c=FR,dc=data,dc=download,dc=pkd,dc=icao,dc=int   pkdMasterListContent:: <CMS>
    dn: cn=...+sn=...,o=dsc,c=FR,dc=data,...                           userCertificate;binary:: <DER>
    dn: cn=...,o=crl,c=FR,dc=data,...                                  certificateRevocationList;binary:: <DER>
    dn: cn=...,o=dl,c=FR,dc=data,...                                   pkdDeviationListContent:: <CMS>

Parsed with the `ldif` package (strict, no URL values fetched). Everything is read
and judged in memory; the caller writes the store only afterwards.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from typing import Iterator

import ldif

from drivers.emrtd.passiveauth.store import DECODE_ERRORS, CscaStore, StoreError, load_certificate

MAX_BYTES = 1 << 30  # 1 GiB: the PKD's largest download (all DSCs) is a few hundred MB
MAX_ENTRIES = 1_000_000
MAX_VALUE = 32 << 20  # one master list is a few MB

MASTER_LIST, DSC, CRL = "pkdMasterListContent", "userCertificate;binary", "certificateRevocationList;binary"
KINDS = {MASTER_LIST.lower(): "master-list", DSC.lower(): "dsc", CRL.lower(): "crl",
         "pkddeviationlistcontent": "deviation-list"}


class LdifError(ValueError):
    """An LDIF file that cannot be read as a whole (too big, malformed, too many entries)."""


@dataclass(frozen=True)
class LdifEntry:
    """What became of one PKD entry."""
    dn: str
    kind: str  # master-list, dsc, crl, deviation-list
    status: str  # accepted, duplicate, refused
    country: str | None = None
    subject: str | None = None
    sha256: str | None = None
    reason: str | None = None
    master_list: dict | None = None  # the per-CSCA report of a master list

    def to_dict(self) -> dict[str, object]:
        return {"dn": self.dn, "kind": self.kind, "status": self.status, "country": self.country,
                "subject": self.subject, "sha256": self.sha256, "reason": self.reason,
                **({"master_list": self.master_list} if self.master_list is not None else {})}


def read(data: bytes) -> Iterator[tuple[str, str, bytes]]:
    """(dn, kind, value) for every PKD value in the file; LdifError when it is not LDIF or too large."""
    if len(data) > MAX_BYTES:
        raise LdifError(f"{len(data)} bytes, more than the {MAX_BYTES} an LDIF download may have")
    parser = ldif.LDIFParser(io.BytesIO(data), strict=True, encoding=None)
    count = 0
    try:
        for dn, attributes in parser.parse():
            count += 1
            if count > MAX_ENTRIES:
                raise LdifError(f"more than {MAX_ENTRIES} entries")
            if not isinstance(attributes, dict):
                continue
            for name, values in attributes.items():
                kind = KINDS.get(str(name).lower())
                if kind is None:
                    continue
                for value in values:
                    if isinstance(value, str):
                        value = value.encode()
                    if len(value) > MAX_VALUE:
                        raise LdifError(f"{dn}: a {kind} value of {len(value)} bytes")
                    yield (dn.decode(errors="replace") if isinstance(dn, bytes) else str(dn)), kind, value
    except LdifError:
        raise
    except Exception as exc:  # ldif raises ValueError, binascii.Error, UnicodeError, ... on bad input
        raise LdifError(f"not a readable LDIF file: {exc}") from exc


def import_into(store: CscaStore, data: bytes, *, at: dt.datetime | None = None,
                strict: bool = False) -> list[LdifEntry]:
    """Add what the file holds to the store: master lists (each verified as `add_master_list` does),
    then DSCs issued by a CSCA of the store, then CRLs the store's CSCAs signed, then deviation lists
    whose signer a CSCA of the store issued. LdifError when the
    file as a whole is unreadable, before anything is added; otherwise one LdifEntry per value."""
    values = list(read(data))  # read it all first: a truncated file adds nothing
    order = {"master-list": 0, "dsc": 1, "crl": 2, "deviation-list": 3}
    entries: list[tuple[int, LdifEntry]] = []
    for index, (dn, kind, value) in sorted(enumerate(values), key=lambda item: (order[item[1][1]], item[0])):
        entries.append((index, _import_one(store, dn, kind, value, at, strict)))
    return [entry for _index, entry in sorted(entries, key=lambda item: item[0])]


def _import_one(store: CscaStore, dn: str, kind: str, value: bytes, at: dt.datetime | None,
                strict: bool) -> LdifEntry:
    sha256 = hashlib.sha256(value).hexdigest()
    try:
        if kind == "deviation-list":
            return LdifEntry(dn, kind, store.add_deviation_list(value, at=at), sha256=sha256)
        if kind == "master-list":
            load = store.add_master_list(value, at=at, strict=strict)
            return LdifEntry(dn, kind, "accepted", sha256=sha256,
                             master_list={"listed": load.listed, "added": load.added, "unusable": load.skipped,
                                          "entries": [e.to_dict() for e in load.entries]})
        if kind == "dsc":
            certificate = load_certificate(value)
            fields = {"country": certificate.country, "subject": certificate.subject.rfc4514_string()}
            if certificate.is_ca:
                return LdifEntry(dn, kind, "refused", **fields, sha256=sha256,
                                 reason="a CA certificate under o=dsc, not a Document Signer")
            added = store.add_dsc(certificate)
            return LdifEntry(dn, kind, "accepted" if added else "duplicate", **fields, sha256=sha256)
        status = store.add_crl(value)
        return LdifEntry(dn, kind, "accepted" if status == "accepted" else "duplicate", sha256=sha256)
    except (StoreError, *DECODE_ERRORS) as exc:
        return LdifEntry(dn, kind, "refused", sha256=sha256, reason=str(exc))
