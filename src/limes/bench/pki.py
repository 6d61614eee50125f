"""`limes bench pki`: a trust store the size of a busy border's (1,000 CSCAs, 10,000 kept DSCs, a CRL per
CSCA), loaded from its folder, and passive authentication of one document against it.

The certificates are made with the test PKI (hardware_sim.pki) on ECDSA P-256 keys, cheap to make and to
verify: real stores mix RSA (cheaper to verify) and brainpool curves (dearer), so the load time is
indicative. They are written to a temporary folder made and removed by each run.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from common import machine
from common.output import add_json_flag, emit
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.mrz import generate_td3
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import TestPki, issue, key_usage, make_crl, make_test_pki, new_key, subject_name
from limes.bench.summary import summary

TARGET_LOAD_S = 2.0  # a gate restarts within seconds; loading its trust store must not dominate
TARGET_VERIFY_MS_P95 = 5.0  # passive authentication is one step of a chip read of a second or two
STATE = "UTO"


def register(bench: argparse.ArgumentParser) -> None:
    bench.description = (f"Build a trust folder of --cscas CSCAs and --dscs DSCs (ECDSA P-256, test PKI, a CRL per "
                         f"CSCA), time loading it (target <= {TARGET_LOAD_S:.0f} s) and passive authentication of "
                         f"one document against it (target p95 <= {TARGET_VERIFY_MS_P95:.0f} ms).")
    bench.add_argument("--cscas", type=int, default=1000, help="CSCAs in the store (default 1000)")
    bench.add_argument("--dscs", type=int, default=10000, help="Document Signer certificates kept (default 10000)")
    bench.add_argument("--loads", type=int, default=3, help="loads of the folder timed (default 3)")
    bench.add_argument("--repeat", type=int, default=500, help="passive authentications timed (default 500)")
    add_json_flag(bench)
    bench.set_defaults(func=_bench)


def build_folder(folder: Path, cscas: int, dscs: int, now: dt.datetime) -> TestPki:
    """Write `cscas` CSCAs (.pem), `dscs` DSCs (.dsc) spread over them and a CRL per CSCA (.crl) into
    folder; the first CSCA is the returned test PKI's, whose DSC signs the document."""
    pki = make_test_pki(STATE, now=now)
    signers = [pki.csca]
    start, end = now - dt.timedelta(days=365), now + dt.timedelta(days=3650)
    for number in range(1, cscas):
        signers.append(issue(subject_name("UT", f"Bench CSCA {number:05d}"), new_key("ecdsa-p256"), None, start,
                             end, ca=True, usage=key_usage(key_cert_sign=True, crl_sign=True)))
    for number, csca in enumerate(signers):
        (folder / f"csca-{number:05d}.pem").write_bytes(csca.certificate.public_bytes(Encoding.PEM))
        crl = pki.crl if csca is pki.csca else make_crl(csca, [], now)
        (folder / f"crl-{number:05d}.crl").write_bytes(crl.public_bytes(Encoding.DER))
    if dscs:
        (folder / "dsc-00000.dsc").write_bytes(pki.dsc.certificate.public_bytes(Encoding.PEM))
    for number in range(1, dscs):
        csca = signers[number % len(signers)]
        dsc = issue(subject_name("UT", f"Bench DSC {number:06d}"), new_key("ecdsa-p256"), csca, start, end,
                    ca=False, usage=key_usage(digital_signature=True))
        (folder / f"dsc-{number:06d}.dsc").write_bytes(dsc.certificate.public_bytes(Encoding.PEM))
    return pki


def _bench(args: argparse.Namespace) -> int:
    if args.cscas < 1 or args.dscs < 0 or args.loads < 1 or args.repeat < 1:
        print("limes bench pki: --cscas, --loads and --repeat must be at least 1, --dscs at least 0", file=sys.stderr)
        return 2
    now = dt.datetime.now(dt.timezone.utc)
    today = now.date()
    mrz = generate_td3(issuing_state=STATE, surname="BENCH", given_names="PKI", document_number="P0000001",
                       nationality=STATE, birth_date=dt.date(1980, 6, 15), sex="X",
                       expiry_date=today.replace(year=today.year + 5))
    with tempfile.TemporaryDirectory(prefix="limes-bench-pki-") as name:
        folder = Path(name)
        started = time.perf_counter()
        pki = build_folder(folder, args.cscas, args.dscs, now)
        build_s = time.perf_counter() - started
        files = personalise(mrz, synthetic_photo(15), pki)
        load_ms, store = [], None
        for _ in range(args.loads):
            started = time.perf_counter()
            store = CscaStore()
            store.load_dir(folder)
            load_ms.append((time.perf_counter() - started) * 1000)
    assert store is not None
    result = verify(files, store, printed_mrz=mrz, at=now)
    if not result.passed:
        print(f"limes bench pki: the document does not verify: {result.to_dict()}", file=sys.stderr)
        return 1
    verify_ms = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        verify(files, store, printed_mrz=mrz, at=now)
        verify_ms.append((time.perf_counter() - started) * 1000)
    load, verified = summary(load_ms), summary(verify_ms)
    report = {
        "date": today.isoformat(), "machine": machine.describe(), "load_average": machine.load_average(),
        "keys": "ECDSA P-256 (test PKI)", "cscas": len(store.cscas), "dscs": len(store.dscs),
        "crls": len(store.crls), "build_s": round(build_s, 3), "load_ms": load, "verify_ms": verified,
        "target_load_s": TARGET_LOAD_S, "target_verify_ms_p95": TARGET_VERIFY_MS_P95,
        "checks": [check.name for check in result.checks],
    }
    report["meets_target"] = load["p50"] <= TARGET_LOAD_S * 1000 and verified["p95"] <= TARGET_VERIFY_MS_P95
    emit(report, args.json, _render)
    return 0


def _render(report: dict) -> str:
    load, verified = report["load_ms"], report["verify_ms"]
    return (f"{report['cscas']} CSCAs, {report['dscs']} DSCs, {report['crls']} CRLs ({report['keys']}; made in "
            f"{report['build_s']} s): loaded in p50 {load['p50'] / 1000:.2f} s over {load['count']} loads (target "
            f"<= {report['target_load_s']} s); passive authentication p50 {verified['p50']} ms, p95 "
            f"{verified['p95']} ms (target p95 <= {report['target_verify_ms_p95']} ms): "
            f"{'met' if report['meets_target'] else 'NOT met'}")

