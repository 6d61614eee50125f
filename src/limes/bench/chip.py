"""`limes bench chip`: a full chip read, timed, through the real PC/SC stack and in process.

One read is what a gate does with a document, on two chips:

* a BAC passport (the top-level figures): select the application, BAC, read
  EF.COM, DG1, DG2 (a face image of --photo-kb), DG11, DG12 and EF.SOD, and
  passively authenticate the lot against the CSCA and its CRL;
* a modern passport (`modern`): EF.CardAccess, PACE ECDH-GM-AES-128 on
  brainpoolP256r1, EF.CardSecurity, DG14 and Chip Authentication
  (ECDH-AES-128), the same data groups, DG15 and Active Authentication
  (RSA-2048), then passive authentication and the chip checks.

Each runs N times through pcscd + vpcd + pyscard (each read connects to the
card afresh, as a gate does per traveller) and N times against the virtual
chip in process, the difference being the cost of the PC/SC path. The first
read of each is a warm-up and not counted. A read that does not pass every
check stops the benchmark: timing a broken read would mean nothing. The
simulated chip's own cryptography (its side of PACE, CA and the RSA
signature, in Python) is inside the figures, as a real chip's time would be.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from typing import Any, Callable

from common import machine
from common.output import add_json_flag, emit
from drivers.devices import pcsc
from drivers.emrtd.checks import chip_checks
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.emrtd.lds import dg2
from drivers.emrtd.lds.files import fid
from drivers.emrtd.passiveauth import CscaStore, verify
from drivers.emrtd.reader import read_chip
from drivers.mrz import generate_td3, parse
from hardware_sim.chip import VirtualChip
from hardware_sim.chip.hosting import NoVpcd, synthetic_photo, vpcd_pcscd
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES
from hardware_sim.chip.vpcd import VpcdCard
from hardware_sim.pki import make_test_pki
from limes.bench.summary import percentile, summary

TARGET_P95_MS = 300.0
MODERN_TARGET_P95_MS = 400.0
MODERN_PROFILE = "passport"  # hardware_sim.chip.security.PROFILES
BENCH_GROUPS = (1, 2, 11, 12)
STATE = "UTO"


class BenchError(RuntimeError):
    """A benchmark read that did not read or verify correctly."""


def bench_document(photo_kb: float, profile: str = "bac"):
    """(PersonalisedChip, BAC key, CSCA store) of a passport personalised with a synthetic photo."""
    today = dt.date.today()
    text = generate_td3(issuing_state=STATE, surname="BENCH", given_names="CHIP READ", document_number="B0000001",
                        nationality=STATE, birth_date=dt.date(1980, 6, 15), sex="X",
                        expiry_date=today.replace(year=today.year + 5))
    pki = make_test_pki(STATE)
    chip = personalise_chip(text, synthetic_photo(photo_kb), pki, profile=PROFILES[profile],
                            dg11={"full_name": "BENCH<<CHIP<READ", "full_date_of_birth": "19800615",
                                  "place_of_birth": "TEST CITY"},
                            dg12={"issuing_authority": "LIMES TEST AUTHORITY",
                                  "date_of_issue": today.strftime("%Y%m%d")})
    store = CscaStore.from_certificates([pki.csca.certificate])
    store.add_crl(pki.crl)
    return chip, parse(text).bac_key_seed_input, store


def timed_read(transceiver, key: str, store, *, modern: bool = False) -> dict[str, float]:
    """One read, passive authentication and (modern chip) the chip checks; milliseconds per step.
    The modern chip must have opened with PACE and passed Chip and Active Authentication."""
    read = read_chip(transceiver, key, files=[fid(n) for n in BENCH_GROUPS], authenticate_chip=modern)
    started = time.perf_counter()
    result = verify(read.files, store)
    verified = time.perf_counter()
    checks = chip_checks(read, store) if modern else []
    checked = time.perf_counter()
    expected_absent = {"read EF.CardAccess"} if not modern else set()
    failed = ([f"{c.name}: {c.reason}" for c in (*result, *checks) if c.status.value == "fail"]
              + [f"{c.name}: {c.reason}" for c in checks
                 if c.name in ("chip.access", "chip.ca", "chip.aa") and not c.ok]
              + [s.name for s in read.steps if s.outcome != "ok" and s.name not in expected_absent])
    if failed or not result.passed:
        raise BenchError(f"the benchmark chip did not read and verify cleanly: {failed}")
    steps = {step.name: step.seconds * 1000 for step in read.steps if step.name not in expected_absent}
    steps["passive authentication"] = (verified - started) * 1000
    if modern:
        steps["chip checks"] = (checked - started - (verified - started)) * 1000
    return steps


def repeat(reads: int, one_read: Callable[[], dict[str, float]], target_ms: float = TARGET_P95_MS) -> dict[str, Any]:
    """A warm-up read, then `reads` timed ones: each step's and the total's percentiles."""
    one_read()
    runs, totals = [], []
    for _ in range(reads):
        started = time.perf_counter()
        runs.append(one_read())
        totals.append((time.perf_counter() - started) * 1000)
    steps = {name: summary([run[name] for run in runs]) for name in runs[0]}
    return {"steps_ms": steps, "total_ms": summary(totals),
            "meets_target": percentile(totals, 95) <= target_ms}


def run(reads: int, photo_kb: float, *, extended_length: bool = True) -> dict[str, Any]:
    bac_chip, key, store = bench_document(photo_kb)
    files = bac_chip.files
    bac = _transports(bac_chip, key, store, reads, extended_length, modern=False, target_ms=TARGET_P95_MS)
    modern_chip, modern_key, modern_store = bench_document(photo_kb, MODERN_PROFILE)
    modern = _transports(modern_chip, modern_key, modern_store, reads, extended_length, modern=True,
                         target_ms=MODERN_TARGET_P95_MS)

    now = dt.datetime.now(dt.timezone.utc)
    return {
        "benchmark": "chip",
        "reads": reads,
        "extended_length": extended_length,
        "files_bytes": {name: len(files[fid(n)]) for name, n in (("DG1", 1), ("DG2", 2), ("DG11", 11), ("DG12", 12))}
        | {"EF.SOD": len(files[0x011D])},
        "photo_bytes": _photo_size(files[fid(2)]),
        "chip": "BAC",
        "target_p95_ms": TARGET_P95_MS,
        "transports": bac,
        "modern": {"chip": modern_chip.profile.describe(), "target_p95_ms": MODERN_TARGET_P95_MS,
                   "files_bytes": {"DG14": len(modern_chip.files[fid(14)]), "DG15": len(modern_chip.files[fid(15)]),
                                   "EF.CardSecurity": len(modern_chip.master_files[0x011D])},
                   "transports": modern},
        "date": now.isoformat(timespec="seconds"),
        "uname": " ".join(os.uname()),
        "machine": machine.describe(),
        "load_average": machine.load_average(),
    }


def _transports(chip, key: str, store, reads: int, extended_length: bool, *, modern: bool,
                target_ms: float) -> dict[str, Any]:
    """The read timed in process and through pcscd + vpcd."""
    in_process_chip = VirtualChip.personalised(chip, key, extended_length=extended_length)

    def in_process_read() -> dict[str, float]:
        in_process_chip.reset()  # a new traveller: the card is powered up afresh, as by a reader
        return timed_read(in_process_chip, key, store, modern=modern)

    in_process = repeat(reads, in_process_read, target_ms)

    def through_pcsc(reader: str) -> dict[str, float]:
        started = time.perf_counter()
        with pcsc.PcscTransceiver(reader) as link:
            connected = time.perf_counter()
            steps = timed_read(link, key, store, modern=modern)
        return {"connect": (connected - started) * 1000, **steps}

    try:
        with vpcd_pcscd() as endpoint, VpcdCard(VirtualChip.personalised(chip, key, extended_length=extended_length),
                                                endpoint.port):
            pcsc.wait_for_card(endpoint.reader, 5.0)
            through = repeat(reads, lambda: through_pcsc(endpoint.reader), target_ms)
            through["reader"] = endpoint.reader
    except (NoVpcd, TransportError) as exc:
        through = {"error": f"no PC/SC path: {exc}"}
    return {"pcsc": through, "in_process": in_process}


def _photo_size(dg2_file: bytes) -> int:
    return len(dg2.parse(dg2_file).faces[0].image)


def render(result: dict[str, Any]) -> str:
    lines = [f"chip read x{result['reads']} (DG2 {result['files_bytes']['DG2']} bytes, "
             f"{'extended' if result['extended_length'] else 'short'} APDUs)"]
    for chip, target, transports in ((result["chip"], result["target_p95_ms"], result["transports"]),
                                     (result["modern"]["chip"], result["modern"]["target_p95_ms"],
                                      result["modern"]["transports"])):
        lines.append(f"{chip}: target p95 <= {target:.0f} ms")
        lines.extend(_render_transports(transports))
    lines.append(f"{result['date']}  {result['uname']}  load {result['load_average']}")
    return "\n".join(lines)


def _render_transports(transports: dict[str, Any]) -> list[str]:
    lines = []
    for transport, figures in transports.items():
        if "error" in figures:
            lines.append(f"{transport}: {figures['error']}")
            continue
        total = figures["total_ms"]
        lines.append(f"{transport}: total p50 {total['p50']:.1f} ms, p95 {total['p95']:.1f} ms, p99 "
                     f"{total['p99']:.1f} ms -- target {'met' if figures['meets_target'] else 'NOT met'}")
        for name, step in figures["steps_ms"].items():
            lines.append(f"  {name:<24} p50 {step['p50']:>7.2f}  p95 {step['p95']:>7.2f}  p99 {step['p99']:>7.2f} ms")
    return lines


# -- limes bench chip -------------------------------------------------------------------------

def register(parser: argparse.ArgumentParser) -> None:
    parser.description = ("Read two simulated chips, N times through pcscd + vpcd + pyscard "
                          "and N times in process; p50/p95/p99 per step and total. A BAC "
                          "passport (EF.COM, DG1, DG2, DG11, DG12, EF.SOD and passive "
                          "authentication; target p95 300 ms) and a modern one (PACE "
                          "ECDH-GM-AES-128, EF.CardSecurity, Chip Authentication ECDH-AES-128, "
                          "Active Authentication RSA-2048, the same files, passive "
                          "authentication and the chip checks; target p95 400 ms).")
    parser.add_argument("--reads", type=int, default=30, help="timed reads per transport (default 30)")
    parser.add_argument("--photo-kb", type=float, default=20.0, help="size of the DG2 face image (default 20)")
    parser.add_argument("--short-apdus", action="store_true",
                        help="a chip without extended length (DG2 read in 223-byte blocks)")
    add_json_flag(parser)
    parser.set_defaults(func=_bench_chip)


def _bench_chip(args: argparse.Namespace) -> int:
    if args.reads < 1 or args.photo_kb <= 0:
        return _usage_error("--reads must be at least 1 and --photo-kb positive", args.json)
    result = run(args.reads, args.photo_kb, extended_length=not args.short_apdus)
    result["command"] = (f"limes bench chip --reads {args.reads} --photo-kb {args.photo_kb:g}"
                         + (" --short-apdus" if args.short_apdus else "") + (" --json" if args.json else ""))
    emit(result, args.json, render)
    no_pcsc = "error" in result["transports"]["pcsc"] or "error" in result["modern"]["transports"]["pcsc"]
    return 1 if no_pcsc else 0


def _usage_error(message: str, as_json: bool) -> int:
    if as_json:
        emit({"error": message}, True)
    print(f"error: {message}", file=sys.stderr)
    return 2
