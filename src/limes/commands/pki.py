"""`limes pki ...`: trusted CSCAs (import-master-list, import-ldif, list), throw-away ICAO test PKIs
(make-test-pki) and the development CA and certificates for mutual TLS between the
services (dev-certs, see proto/dev_pki.py).

`import_master_list` is the work behind import-master-list, without any printing,
so that tests can use it directly.
"""
from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from asn1crypto import pem
from cryptography.hazmat.primitives import serialization

from common.output import add_json_flag, emit
from common.settings import var_dir
from drivers.emrtd.passiveauth import CscaStore, StoreError, pkdldif
from drivers.emrtd.passiveauth.certificate import Certificate
from drivers.emrtd.passiveauth.countries import iso2
from drivers.emrtd.passiveauth.pkdldif import LdifError
from drivers.emrtd.passiveauth.store import DEVIATING, DEVIATIONS_ACCEPTED_MARK, REFUSED, as_utc, deviations_of
from hardware_sim.pki import make_test_pki
from proto import dev_pki
from proto.dev_pki import DevPkiError, dev_certs

KEY_KINDS = ("ecdsa-p256", "ecdsa-brainpool-explicit", "rsa-2048", "rsa-pss-2048")  # hardware_sim.pki.KeyKind
EXIT_OK, EXIT_CHECK_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A store that does not load: exit 2 with this message."""


def register(pki: argparse.ArgumentParser) -> None:
    pki_commands = pki.add_subparsers(dest="pki_command", metavar="COMMAND", required=True)
    master_list = pki_commands.add_parser(
        "import-master-list", help="verify a CSCA master list and store its CSCAs as PEM files",
        description="Verify a CSCA master list's signature and its signer (issued by a CSCA already in the "
                    "store, or, with --trust-list-issuer, by one in the list itself), then write every CSCA "
                    "new to the store as a PEM file. Exit 1 when the list is refused.")
    master_list.add_argument("file", type=Path, help="the master list (DER CMS, usually .ml)")
    master_list.add_argument("--store", type=Path, default=None, metavar="DIR",
                             help="folder of trusted CSCAs (default: var/csca)")
    master_list.add_argument("--trust-list-issuer", action="store_true",
                             help="accept a signer issued by a CSCA from the list itself: proves the list is "
                                  "intact, not who made it (for a list obtained out of band)")
    master_list.add_argument("--strict", action="store_true",
                             help="refuse listed CSCAs whose basicConstraints, keyUsage or encoding deviate from "
                                  "Doc 9303's profile instead of accepting them with the deviation recorded")
    add_json_flag(master_list)
    master_list.set_defaults(func=_import_master_list)

    ldif_import = pki_commands.add_parser(
        "import-ldif", help="import an ICAO PKD LDIF download: master lists, DSCs and CRLs",
        description="Read an LDIF file of the ICAO PKD and add what it holds to the store: CSCA master lists "
                    "(pkdMasterListContent, verified as import-master-list does), Document Signer certificates "
                    "(userCertificate;binary, issued by a CSCA of the store) and CRLs "
                    "(certificateRevocationList;binary, signed by one). Each entry is reported; nothing is "
                    "written unless the file as a whole reads. Exit 1 when any entry is refused.")
    ldif_import.add_argument("file", type=Path, help="the LDIF file (.ldif)")
    ldif_import.add_argument("--store", type=Path, default=None, metavar="DIR",
                             help="folder of trusted CSCAs (default: var/csca)")
    ldif_import.add_argument("--strict", action="store_true",
                             help="refuse listed CSCAs that deviate from Doc 9303's profile (as import-master-list)")
    add_json_flag(ldif_import)
    ldif_import.set_defaults(func=_import_ldif)

    listing = pki_commands.add_parser("list", help="show the CSCAs the store trusts, with validity and deviations",
                                      description="List the trusted CSCA and link certificates of the store.")
    listing.add_argument("--store", type=Path, default=None, metavar="DIR",
                         help="folder of trusted CSCAs (default: var/csca)")
    listing.add_argument("--country", default=None, metavar="XX",
                         help="only this country (ISO two-letter, or an ICAO three-letter code)")
    listing.add_argument("--dscs", action="store_true",
                         help="also list the Document Signer certificates kept (from the PKD)")
    add_json_flag(listing)
    listing.set_defaults(func=_list)

    make = pki_commands.add_parser("make-test-pki", help="write a throw-away ICAO PKI for test documents",
                          description="Write a test Country Signing CA, Document Signers (valid, expired, "
                                      "revoked), a CRL and a signed CSCA master list into DIR.")
    make.add_argument("directory", type=Path, metavar="DIR", help="where to write it (must be empty or new)")
    make.add_argument("--country", required=True, help="ICAO three-letter state code, e.g. UTO")
    make.add_argument("--key", choices=KEY_KINDS, default="ecdsa-p256", help="key type (default ecdsa-p256)")
    add_json_flag(make)
    make.set_defaults(func=_make_test_pki)

    dev = pki_commands.add_parser(
        "dev-certs", help="make a local CA and certificates for mutual TLS between gates and services",
        description=dev_pki.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    dev.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="folder for the CA and certificates (made when missing; what is there is kept)")
    dev.add_argument("--station", action="append", default=[], metavar="ID",
                     help="a station (gate or desk) to certify; repeatable (default: DEMO-EGATE-01)")
    dev.add_argument("--user", action="append", default=[], metavar="NAME",
                     help="a user (officer tool, administrator) to certify; repeatable (default: demo-admin)")
    dev.add_argument("--host", action="append", default=[], metavar="NAME",
                     help="a further DNS name or IP address of the services, beside the loopback ones; repeatable")
    add_json_flag(dev)
    dev.set_defaults(func=_dev_certs)


# -- limes pki import-master-list ------------------------------------------------------

def _import_master_list(args: argparse.Namespace) -> int:
    store_dir = args.store or var_dir() / "csca"
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        return _usage_error(f"cannot read {args.file}: {exc}", args.json)
    try:
        result = import_master_list(data, store_dir, trust_list_issuer=args.trust_list_issuer, strict=args.strict)
    except UsageError as exc:
        return _usage_error(str(exc), args.json)
    except StoreError as exc:
        hint = "" if args.trust_list_issuer or "not issued by a trusted CSCA" not in str(exc) else (
            f" (put the CSCA that issued the list signer into {store_dir} first, "
            "or pass --trust-list-issuer for a list obtained out of band)")
        emit({"imported": False, "file": str(args.file), "reason": f"{exc}{hint}"}, args.json,
             lambda r: f"master list refused: {r['reason']}")
        return EXIT_CHECK_FAILED
    result = {"imported": True, "file": str(args.file), **result}
    emit(result, args.json, _render_import)
    return EXIT_OK


def _render_import(r: dict[str, Any]) -> str:
    lines = [f"{r['file']}: {r['listed'] + r['unusable']} certificates listed; added {r['added']} to {r['store']}, "
             f"{r['already_present']} already there, {r['deviating']} accepted with deviations, "
             f"{r['unusable']} refused"]
    for entry in r["entries"]:
        if entry["status"] in (REFUSED, DEVIATING):
            what = entry["reason"] if entry["status"] == REFUSED else "; ".join(entry["deviations"])
            lines.append(f"  {entry['status']:<23} {entry['country'] or '??':<2} {entry['subject'] or '(undecodable)'}"
                         f" serial {entry['serial']}: {what}")
    lines += [f"  wrote {path}" for path in r["written"]]
    return "\n".join(lines)


def import_master_list(data: bytes, store_dir: Path, *, trust_list_issuer: bool = False, strict: bool = False,
                       at: dt.datetime | None = None) -> dict[str, Any]:
    """Verify the list against the CSCAs in store_dir (StoreError when refused)
    and write each CSCA new to the store there as <C>-<SHA-256 prefix>.pem.

    Every file is written to a temporary name first and renamed into place only
    when all are written: a refused, truncated or hostile list leaves the store as it was."""
    store = CscaStore()
    if store_dir.exists():
        try:
            store.load_dir(store_dir)
        except (OSError, StoreError) as exc:
            raise UsageError(f"store {store_dir}: {exc}") from exc
    before = {c.der for c in store.cscas}
    load = store.add_master_list(data, at=at, trust_list_issuer=trust_list_issuer, strict=strict)
    files = {}
    for csca in store.cscas:
        if csca.der in before:
            continue
        country = "".join(c for c in (csca.country or "") if c.isalnum()) or "XX"
        files[store_dir / f"{country}-{csca.fingerprint_sha256[:16]}.pem"] = _pem(csca)
    _write_all(store_dir, files)
    entries = [e.to_dict() for e in load.entries]
    return {"store": str(store_dir), "listed": load.listed, "added": load.added,
            "already_present": load.listed - load.added, "unusable": load.skipped,
            "deviating": sum(e["status"] == DEVIATING for e in entries),
            "written": [str(path) for path in files], "entries": entries}


# -- limes pki import-ldif --------------------------------------------------------------------

def _import_ldif(args: argparse.Namespace) -> int:
    store_dir = args.store or var_dir() / "csca"
    try:
        size = args.file.stat().st_size
        if size > pkdldif.MAX_BYTES:
            raise LdifError(f"{size} bytes, more than the {pkdldif.MAX_BYTES} an LDIF download may have")
        data = args.file.read_bytes()
        result = import_ldif(data, store_dir, strict=args.strict)
    except OSError as exc:
        return _usage_error(f"cannot read {args.file}: {exc}", args.json)
    except UsageError as exc:
        return _usage_error(str(exc), args.json)
    except LdifError as exc:
        emit({"imported": False, "file": str(args.file), "reason": str(exc)}, args.json,
             lambda r: f"LDIF refused: {r['reason']}")
        return EXIT_CHECK_FAILED
    result = {"imported": True, "file": str(args.file), **result}
    emit(result, args.json, _render_ldif)
    return EXIT_CHECK_FAILED if result["refused"] else EXIT_OK


def _render_ldif(r: dict[str, Any]) -> str:
    counts = ", ".join(f"{n} {kind}" for kind, n in r["counts"].items())
    lines = [f"{r['file']}: {len(r['entries'])} entries ({counts}); {r['refused']} refused; "
             f"wrote {len(r['written'])} files to {r['store']}"]
    for entry in r["entries"]:
        if entry["status"] == "refused":
            lines.append(f"  {entry['status']:<8} {entry['kind']:<11} {entry['dn']}: {entry['reason']}")
    return "\n".join(lines)


def import_ldif(data: bytes, store_dir: Path, *, strict: bool = False,
                at: dt.datetime | None = None) -> dict[str, Any]:
    """Import a PKD LDIF file into the store in store_dir (LdifError when it does not read as a whole):
    new CSCAs as <C>-<SHA-256 prefix>.pem, DSCs as dsc-<C>-<prefix>.dsc (PEM), CRLs as
    crl-<prefix>.crl (DER), deviation lists as deviations-<prefix>.dvl (DER), all written atomically
    after everything was judged."""
    store = _load_store(store_dir)
    cscas, dscs = {c.der for c in store.cscas}, {c.der for c in store.dscs}
    crls = {crl.public_bytes(serialization.Encoding.DER) for crl in store.crls}
    deviation_lists = set(store.deviation_lists)
    entries = pkdldif.import_into(store, data, at=at, strict=strict)
    files: dict[Path, bytes] = {}
    for csca in store.cscas:
        if csca.der not in cscas:
            files[store_dir / f"{_country(csca)}-{csca.fingerprint_sha256[:16]}.pem"] = _pem(csca)
    for dsc in store.dscs:
        if dsc.der not in dscs:
            files[store_dir / f"dsc-{_country(dsc)}-{dsc.fingerprint_sha256[:16]}.dsc"] = pem.armor(
                "CERTIFICATE", dsc.der)
    for crl in store.crls:
        der = crl.public_bytes(serialization.Encoding.DER)
        if der not in crls:
            files[store_dir / f"crl-{hashlib.sha256(der).hexdigest()[:16]}.crl"] = der
    for listed in store.deviation_lists:
        if listed not in deviation_lists:
            files[store_dir / f"deviations-{hashlib.sha256(listed).hexdigest()[:16]}.dvl"] = listed
    _write_all(store_dir, files)
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.kind] = counts.get(entry.kind, 0) + 1
    return {"store": str(store_dir), "counts": counts, "refused": sum(e.status == "refused" for e in entries),
            "written": [str(path) for path in files], "entries": [e.to_dict() for e in entries]}


def _load_store(store_dir: Path) -> CscaStore:
    store = CscaStore()
    if store_dir.exists():
        try:
            store.load_dir(store_dir)
        except (OSError, StoreError) as exc:
            raise UsageError(f"store {store_dir}: {exc}") from exc
    return store


def _country(certificate: Certificate) -> str:
    return "".join(c for c in (certificate.country or "") if c.isalnum()) or "XX"


def _pem(csca: Certificate) -> bytes:
    """PEM of a CSCA; one accepted with deviations carries them above the block (RFC 7468 allows
    text there), which tells the store loading it again that they were accepted."""
    deviations = deviations_of(csca)
    header = (DEVIATIONS_ACCEPTED_MARK + b" " + "; ".join(deviations).encode() + b"\n") if deviations else b""
    return header + pem.armor("CERTIFICATE", csca.der)


def _write_all(directory: Path, files: dict[Path, bytes]) -> None:
    """Write every file under a temporary name, then rename each into place (atomic per file on
    POSIX); on any error the temporary files are removed and nothing is renamed."""
    if not files:
        return
    directory.mkdir(parents=True, exist_ok=True)
    temporary: list[tuple[Path, Path]] = []
    try:
        for path, content in files.items():
            handle, name = tempfile.mkstemp(dir=directory, prefix=".import-", suffix=".tmp")
            temporary.append((Path(name), path))
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
    except BaseException:
        for name, _path in temporary:
            name.unlink(missing_ok=True)
        raise
    for name, path in temporary:
        os.replace(name, path)


# -- limes pki list ---------------------------------------------------------------------------

def _list(args: argparse.Namespace) -> int:
    store_dir = args.store or var_dir() / "csca"
    store = CscaStore()
    if store_dir.exists():
        try:
            store.load_dir(store_dir)
        except (OSError, StoreError) as exc:
            return _usage_error(f"store {store_dir}: {exc}", args.json)
    result = list_store(store, country=args.country, dscs=args.dscs)
    result["store"] = str(store_dir)
    emit(result, args.json, _render_list)
    return EXIT_OK


def list_store(store: CscaStore, *, country: str | None = None, at: dt.datetime | None = None,
               dscs: bool = False) -> dict[str, Any]:
    """What the store trusts: one row per CSCA (and link certificate), by country then validity, with
    what verified deviation lists say of it; with dscs also the Document Signer certificates kept."""
    at = as_utc(at)
    wanted = country.upper() if country else None
    if wanted and len(wanted) == 3:
        wanted = iso2(wanted) or wanted
    rows = []
    for csca in sorted(store.cscas, key=lambda c: (c.country or "", c.not_valid_before_utc)):
        if wanted and csca.country != wanted:
            continue
        rows.append({"country": csca.country, "subject": csca.subject.rfc4514_string(),
                     "issuer": csca.issuer.rfc4514_string(), "link": not csca.self_signed,
                     "serial": str(csca.serial_number), "sha256": csca.fingerprint_sha256,
                     "not_before": csca.not_valid_before_utc.isoformat(),
                     "not_after": csca.not_valid_after_utc.isoformat(), "valid_now": csca.valid_at(at),
                     "deviations": list(deviations_of(csca)),
                     "listed_deviations": list(store.listed_deviations(csca))})
    result: dict[str, Any] = {"count": len(rows), "cscas": rows, "deviation_lists": len(store.deviation_lists)}
    if dscs:
        result["dscs"] = [_dsc_row(dsc, store, at) for dsc in sorted(
            store.dscs, key=lambda c: (c.country or "", c.issuer.rfc4514_string(), c.serial_number))
            if dsc.decode_problem is None and (not wanted or dsc.country == wanted)]
    return result


def _dsc_row(dsc: Certificate, store: CscaStore, at: dt.datetime) -> dict[str, Any]:
    return {"country": dsc.country, "subject": dsc.subject.rfc4514_string(), "issuer": dsc.issuer.rfc4514_string(),
            "serial": str(dsc.serial_number), "sha256": dsc.fingerprint_sha256,
            "not_before": dsc.not_valid_before_utc.isoformat(), "not_after": dsc.not_valid_after_utc.isoformat(),
            "valid_now": dsc.valid_at(at),
            "issued_by_store_csca": any(dsc.is_issued_by(c) for c in store.issuers_of(dsc)),
            "listed_deviations": list(store.listed_deviations(dsc))}


def _render_list(r: dict[str, Any]) -> str:
    lines = [f"{r['count']} trusted CSCA certificate(s) in {r['store']}"]
    for row in r["cscas"]:
        state = "valid" if row["valid_now"] else "not valid now"
        link = f" link from {row['issuer']}" if row["link"] else ""
        lines.append(f"  {row['country'] or '??':<2} {row['subject']}{link}  {row['not_before'][:10]} to "
                     f"{row['not_after'][:10]} ({state})  sha256 {row['sha256'][:16]}")
        lines += [f"       deviation: {d}" for d in row["deviations"]]
        lines += [f"       on the deviation list: {d}" for d in row["listed_deviations"]]
    if "dscs" in r:
        lines.append(f"{len(r['dscs'])} Document Signer certificate(s) kept")
        for row in r["dscs"]:
            state = "valid" if row["valid_now"] else "not valid now"
            chain = "" if row["issued_by_store_csca"] else ", NOT issued by a CSCA of the store"
            lines.append(f"  {row['country'] or '??':<2} {row['subject']} serial {row['serial']}  "
                         f"{row['not_before'][:10]} to {row['not_after'][:10]} ({state}{chain})")
            lines += [f"       on the deviation list: {d}" for d in row["listed_deviations"]]
    return "\n".join(lines)


# -- limes pki make-test-pki ------------------------------------------------------------------

def _make_test_pki(args: argparse.Namespace) -> int:
    directory: Path = args.directory
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        return _usage_error(f"{directory} exists and is not an empty folder", args.json)
    country = args.country.upper()
    try:
        pki = make_test_pki(country, key=args.key)
    except ValueError as exc:
        return _usage_error(f"--country: {exc}", args.json)
    pki.save(directory)
    result = {"directory": str(directory), "country": country, "key": args.key,
              "csca": str(directory / "csca.pem"), "crl": str(directory / "crl.pem"),
              "master_list": str(directory / "masterlist.ml"),
              "files": sorted(p.name for p in directory.iterdir())}
    emit(result, args.json, lambda r: (
        f"test PKI for {r['country']} ({r['key']}) in {r['directory']}\n"
        f"  trust this CSCA: {r['csca']} (CRL {r['crl']})\n  master list:     {r['master_list']}"))
    return 0


def _usage_error(message: str, as_json: bool) -> int:
    if as_json:
        emit({"error": message}, True)
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USAGE


# -- limes pki dev-certs ---------------------------------------------------------------------

def _dev_certs(args: argparse.Namespace) -> int:
    try:
        issued = dev_certs(args.out, stations=tuple(args.station or ["DEMO-EGATE-01"]),
                           users=tuple(args.user or ["demo-admin"]), hosts=tuple(args.host))
    except (DevPkiError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    emit(issued.as_dict(), args.json, lambda _: _render(issued))
    return 0


def _render(issued) -> str:
    server, ca = issued.server, issued.ca
    lines = [f"development PKI in {issued.folder} ({len(issued.created)} file(s) made, the rest kept)",
             f"  {'CA':<28} {ca}", f"  {'central and matcher':<28} {server.certificate}"]
    lines += [f"  {'station ' + name:<28} {files.certificate}" for name, files in issued.stations.items()]
    lines += [f"  {'user ' + name:<28} {files.certificate}" for name, files in issued.users.items()]
    station = next(iter(issued.stations.items()), None)
    lines += ["", "central and matcher:",
              f"  limes central serve --tls-ca {ca} --tls-cert {server.certificate} --tls-key {server.key}"]
    if station:
        name, files = station
        lines += [f"a gate's configuration (limes edge run --station {name}):",
                  f"  [tls]\n  ca = \"{ca}\"\n  certificate = \"{files.certificate}\"\n  key = \"{files.key}\""]
    lines.append("These keys are for development: a real border post issues certificates from its own CA.")
    return "\n".join(lines)
