"""`limes sim run` (scenarios through a simulated border post) and `limes sim chip` (a virtual chip in vpcd)."""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

from common.output import add_json_flag, emit
from common.settings import faces_dir, var_dir
from common.signals import StopSignals
from drivers.devices import pcsc
from drivers.emrtd.iso7816.transceiver import TransportError
from drivers.mrz import MrzError, parse
from hardware_sim.chip import ChipFaults, VirtualChip
from hardware_sim.chip.hosting import NoVpcd, VpcdEndpoint, country_pki, personalise_chip_document, vpcd_pcscd
from hardware_sim.chip.security import PROFILES, ChipProfile
from hardware_sim.chip.vpcd import VpcdCard
from hardware_sim.scenarios import select, select_desk
from limes.borderpost import demo_border_post
from limes.counterdesk import demo_desk, run_desk_scenarios
from limes.scenarios import run_scenarios

RUN_DESCRIPTION = """\
`limes sim run`: the scenario library (hardware_sim.scenarios) through one simulated border post.

Starts the border post once (central, matcher, simulated devices, one e-gate),
walks each chosen scenario's traveller through the gate and prints the
decision beside the expected one, with the gate's reasons. Scenarios that
take a service down run last, so that the others see a whole border post.
Exits 0 when every scenario passes or is pending as declared, 1 otherwise.
"""
CHIP_DESCRIPTION = """\
`limes sim chip` puts a personalised virtual chip into vpcd's reader and keeps
it there, so that `limes chip read` (or any PC/SC application) can read it
from another terminal. It uses the pcscd that is already running when that one
serves vpcd, else starts a private one (hardware_sim.pcscd).
"""
FAULTS = ("altered_dg", "wrong_signer", "expired_dsc", "revoked_dsc")  # hardware_sim.chip.personalise.FAULTS
PROFILE_NAMES = ("bac", "passport", "pace-cam", "id-card", "bac-aa")  # hardware_sim.chip.security.PROFILES
CARD_WAIT_S = 5.0


def register(sim: argparse.ArgumentParser) -> None:
    sim_sub = sim.add_subparsers(dest="sim", metavar="WHAT", required=True)
    parser = sim_sub.add_parser("run", help="run scenarios through a simulated border post",
                                description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help="run this scenario (repeatable; default: all)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--faces", type=Path, default=None,
                        help="folder of real face photos (default: LIMES_FACES_DIR or ../shared/faces)")
    parser.add_argument("--state", type=Path, default=None,
                        help="folder for the border post's databases and PKI (default: var/sim, wiped first)")
    add_json_flag(parser)
    parser.set_defaults(func=run)
    chip = sim_sub.add_parser("chip", help="a virtual ePassport chip in the vpcd reader, until Ctrl-C",
                              description=CHIP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    chip.add_argument("--mrz", required=True,
                      help="the document's MRZ, lines separated by newlines or a literal \\n")
    chip.add_argument("--photo", type=Path, required=True, help="face photo for DG2 (any format OpenCV reads)")
    chip.add_argument("--country-pki", type=Path, default=None, metavar="DIR",
                      help="test PKI signing the chip: loaded when DIR holds one, else made there "
                           "(default: var/sim-chip/pki/STATE)")
    chip.add_argument("--fault", action="append", choices=FAULTS, default=[],
                      help="make passive authentication fail for this reason (repeatable)")
    chip.add_argument("--remove-after", type=int, default=None, metavar="N",
                      help="the card leaves the reader after N READ BINARY commands")
    offers = chip.add_argument_group(
        "what the chip offers", "A named --profile, changed by the options after it: bac (the default), "
        "passport (BAC, PACE ECDH-GM-AES-128, CA ECDH-AES-128, AA RSA-2048), pace-cam (BAC, PACE-CAM and "
        "GM, CA, AA ECDSA), id-card (PACE only, CA, CAN 123456), bac-aa (BAC, AA RSA-1024).")
    offers.add_argument("--profile", choices=PROFILE_NAMES, default="bac", help="start from this chip (default bac)")
    offers.add_argument("--pace", action="append", default=None, metavar="PROTOCOL[:ID][@ID]",
                        help="offer this PACE protocol, e.g. ECDH-GM-AES-128, DH-IM-3DES:0, ECDH-CAM-AES-256:12; "
                             "ECDH-GM-AES-128:13@32 gives id 13's domain parameters explicitly under the "
                             "proprietary id 32, '/other-generator' after it a group that is not standardized "
                             "(repeatable; replaces the profile's)")
    offers.add_argument("--no-bac", action="store_true", help="no BAC: a PACE-only chip")
    offers.add_argument("--ca", default=None, metavar="PROTOCOL[:ID]",
                        help="Chip Authentication, e.g. ECDH-AES-128, DH-3DES:2; 'none' for none")
    offers.add_argument("--aa", default=None, metavar="KEY",
                        help="Active Authentication key, e.g. RSA-2048, RSA-1024-SHA256, ECDSA-P256; 'none'")
    offers.add_argument("--can", default=None, metavar="DIGITS", help="the Card Access Number (six digits)")
    offers.add_argument("--clone", action="store_true",
                        help="a copy: the data groups, but not the private keys (fails Chip and Active "
                             "Authentication)")
    offers.add_argument("--wrong-pace-token", action="store_true", help="the chip's PACE token is wrong")
    chip.add_argument("--fingers", default=None, metavar="SEED[,SEED]",
                      help="DG3 with synthetic fingers of these seeds (right index, left index), readable after "
                           "Terminal Authentication (needs Chip Authentication: e.g. --profile passport)")
    chip.add_argument("--eac", type=Path, default=None, metavar="DIR",
                      help="with --fingers: write a test EAC PKI's inspection-system credentials here (what "
                           "`limes chip fingers --terminal` reads); the chip trusts its CVCA "
                           "(default: var/sim-chip/eac)")
    chip.add_argument("--seconds", type=float, default=None, help="stop after this long (default: at Ctrl-C)")
    add_json_flag(chip)
    chip.set_defaults(func=_sim_chip)


# -- limes sim run ----------------------------------------------------------------------------

def run(args) -> int:
    try:
        chosen = select(args.scenario)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    at_desk = select_desk(args.scenario)
    if args.list:
        listing = [{"scenario": s.name, "title": s.title, "expected": s.expected, "because": list(s.because),
                    "because_status": s.because_status,
                    "stops": s.stops, "pending": s.pending} for s in chosen]
        listing += [{"scenario": s.name, "title": s.title, "expected": s.decision, "because": [],
                     "because_status": "fail", "stops": s.stops, "pending": s.pending, "at": "desk"} for s in at_desk]
        emit(listing, args.json, _render_list)
        return 0
    faces = args.faces or faces_dir()
    if not (faces / "obama").is_dir():
        print(f"error: face photos not found in {faces}; set LIMES_FACES_DIR or pass --faces", file=sys.stderr)
        return 2
    state = args.state or var_dir() / "sim"
    shutil.rmtree(state, ignore_errors=True)

    progress = None if args.json else _print_line
    with demo_border_post(state, faces, travellers=[s.traveller for s in chosen]) as post:
        results = run_scenarios(post, chosen, progress=progress)
        if at_desk:  # an officer's counter beside the gate, at the same border point
            with demo_desk(post, state, faces,
                           nationalities=tuple({s.traveller.nationality for s in at_desk})) as desk:
                results += run_desk_scenarios(post, desk, at_desk, progress=_print_desk_line if progress else None)
    summary = {status: sum(r["status"] == status for r in results) for status in ("pass", "pending", "fixed", "fail")}
    summary["scenarios"] = len(results)
    emit({"scenarios": results, "summary": summary}, args.json, lambda _: _render_summary(summary))
    return 0 if all(r["ok"] for r in results) else 1


_MARKS = {"pass": "ok ", "pending": ".. ", "fixed": "!! ", "fail": "XX "}


def _print_line(result: dict) -> None:
    decision = (result["decision"] or "none").upper()
    seconds = f"{result['seconds']:.1f}s" if result["seconds"] is not None else ""
    print(f"{_MARKS[result['status']]}{result['scenario']:<20} {result['title']:<46} {decision:<5} "
          f"(expected {result['expected']}"
          + (f" because {_because(result)}" if result["because"] else "") + f") {seconds}", flush=True)
    for reason in result["reasons"]:
        print(f"        - {reason}", flush=True)
    if result["note"]:
        print(f"        {result['status']}: {result['note']}", flush=True)


def _print_desk_line(result: dict) -> None:
    seconds = f"{result['seconds']:.1f}s"
    print(f"{_MARKS[result['status']]}{result['scenario']:<20} {result['title'][:46]:<46} officer: "
          f"{result['expected']} {seconds}", flush=True)
    for outcome in result["outcomes"]:
        mark = "=" if outcome["expected"] == outcome["actual"] else "≠"
        print(f"        - {outcome['what']}: {outcome['actual']} {mark} {outcome['expected']}", flush=True)
    if result["note"]:
        print(f"        {result['status']}: {result['note']}", flush=True)


def _because(item: dict) -> str:
    """The deciding checks, with how they must end when that is not failing."""
    status = item["because_status"]
    return ", ".join(item["because"]) + ("" if status == "fail" else f" {status}")


def _render_list(listing: list[dict]) -> str:
    lines = []
    for item in listing:
        line = f"{item['scenario']:<20} {item['expected']:<5} {item['title']}"
        if item["because"]:
            line += f" ({_because(item)})"
        if item.get("at") == "desk":
            line += " [at the officer desk]"
        if item["stops"]:
            line += f" [stops the {item['stops']}]"
        if item["pending"]:
            line += f" [pending: {item['pending']}]"
        lines.append(line)
    return "\n".join(lines)


def _render_summary(summary: dict) -> str:
    return (f"\n{summary['scenarios']} scenarios: {summary['pass']} passed, {summary['pending']} pending, "
            f"{summary['fixed']} pending but passing (remove the mark), {summary['fail']} failed")


# -- limes sim chip ---------------------------------------------------------------------------

def _sim_chip(args: argparse.Namespace) -> int:
    try:
        mrz = parse(args.mrz.replace("\\n", "\n"))
    except MrzError as exc:
        return _usage_error(f"--mrz: {exc}", args.json)
    if args.remove_after is not None and args.remove_after < 0:
        return _usage_error("--remove-after must not be negative", args.json)
    try:
        profile = chip_profile(args)
        photo = args.photo.read_bytes()
        pki_dir, pki = country_pki(args.country_pki, mrz.issuing_state)
        fingers, cvca = _chip_fingers(args)
        personalised = personalise_chip_document(mrz, photo, pki, args.fault, profile, fingers=fingers, cvca=cvca)
    except (OSError, ValueError) as exc:
        return _usage_error(str(exc), args.json)
    chip = VirtualChip.personalised(personalised, mrz.bac_key_seed_input, faults=ChipFaults(
        remove_after_reads=args.remove_after, clone=args.clone, wrong_pace_token=args.wrong_pace_token))

    try:
        with vpcd_pcscd() as endpoint:
            card = VpcdCard(chip, endpoint.port)
            try:
                card.insert()
                pcsc.wait_for_card(endpoint.reader, CARD_WAIT_S)  # pcscd has seen it: ready to read
            except TransportError as exc:
                card.remove()
                return _usage_error(f"could not insert the card into vpcd on port {endpoint.port}: {exc}",
                                    args.json)
            try:
                with StopSignals() as stop:  # before saying "ready": a Ctrl-C right after must not be lost
                    emit(sim_chip_info(endpoint, mrz, pki_dir, pki.country, args, personalised.profile), args.json,
                         _render_sim_chip)
                    sys.stdout.flush()
                    _serve(card, args.seconds, stop)
            finally:
                card.remove()
    except NoVpcd as exc:
        return _usage_error(str(exc), args.json)
    return 0


def chip_profile(args: argparse.Namespace):
    """The named --profile with the options that change it; ValueError when they do not fit."""
    base = PROFILES[args.profile]
    pace = args.pace if args.pace is not None else [str(offer) for offer in base.pace]

    def chosen(value: str | None, default: str | None) -> str | None:
        return default if value is None else None if value.lower() == "none" else value

    return ChipProfile.build(bac=base.bac and not args.no_bac, pace=pace, ca=chosen(args.ca, base.ca),
                             aa=chosen(args.aa, base.aa), can=args.can if args.can is not None else base.can)


def _chip_fingers(args: argparse.Namespace):
    """(DG3's fingers, the CVCA the chip trusts) for --fingers; the terminal's credentials saved."""
    if args.fingers is None:
        return [], None
    try:
        seeds = [int(seed) for seed in args.fingers.split(",")]
    except ValueError:
        raise ValueError(f"--fingers {args.fingers!r}: one or two integer seeds, comma-separated") from None
    if not 1 <= len(seeds) <= 2:
        raise ValueError("--fingers takes one or two seeds (right index, left index)")
    from hardware_sim.eac_pki import make_test_eac_pki
    from hardware_sim.fingerprint_scanner import finger_image

    eac = make_test_eac_pki()
    eac.terminal.credentials().save(args.eac or var_dir() / "sim-chip" / "eac")
    return [(position, finger_image(seed, 1)) for position, seed in zip((2, 7), seeds)], eac.cvca


def sim_chip_info(endpoint: VpcdEndpoint, mrz, pki_dir: Path, pki_country: str,
                  args: argparse.Namespace, profile=None) -> dict[str, Any]:
    csca, crl = pki_dir / "csca.pem", pki_dir / "crl.pem"
    read_command = (f"limes chip read --reader '{endpoint.reader}' --document-number {mrz.document_number} "
                    f"--birth-date {mrz.birth_date_field} --expiry-date {mrz.expiry_date_field} "
                    f"--csca {csca} --csca {crl}")
    return {
        "reader": endpoint.reader,
        "vpcd_port": endpoint.port,
        "pcscd": {"pid": endpoint.pid, "started": endpoint.started},
        "csca": str(csca),
        "crl": str(crl),
        "pki_country": pki_country,
        "document_number": mrz.document_number,
        "birth_date": mrz.birth_date_field,
        "expiry_date": mrz.expiry_date_field,
        "faults": args.fault + (["clone"] if getattr(args, "clone", False) else [])
        + (["wrong_pace_token"] if getattr(args, "wrong_pace_token", False) else []),
        "remove_after": args.remove_after,
        "chip": None if profile is None else profile.describe(),
        "can": None if profile is None else profile.can,
        "read_with": read_command,
        "fingers": getattr(args, "fingers", None),
        "eac_terminal": (str(getattr(args, "eac", None) or var_dir() / "sim-chip" / "eac")
                         if getattr(args, "fingers", None) else None),
    }


def _render_sim_chip(info: dict[str, Any]) -> str:
    pcscd = f"pcscd pid {info['pcscd']['pid']} ({'started' if info['pcscd']['started'] else 'already running'})"
    lines = [f"chip in reader '{info['reader']}' (vpcd port {info['vpcd_port']}, {pcscd})",
             f"trust CSCA       {info['csca']} (CRL {info['crl']}, state {info['pki_country']})",
             f"document number  {info['document_number']}",
             f"birth date       {info['birth_date']}",
             f"expiry date      {info['expiry_date']}"]
    if info.get("chip"):
        lines.append(f"chip offers      {info['chip']}" + (f" (CAN {info['can']})" if info.get("can") else ""))
    if info["faults"]:
        lines.append(f"faults           {', '.join(info['faults'])}")
    if info["remove_after"] is not None:
        lines.append(f"card leaves after {info['remove_after']} READ BINARY commands")
    lines += ["read it with:", f"  {info['read_with']}", "Ctrl-C to take the card out and stop"]
    return "\n".join(lines)


def _serve(card, seconds: float | None, stop: StopSignals) -> None:
    """Keep the card in until Ctrl-C, SIGTERM or `seconds`; say once (on stderr) when it left by itself."""
    told = False

    def report_removal() -> None:
        nonlocal told
        if not card.inserted and not told:
            print(f"the card left the reader: {card.error}", file=sys.stderr, flush=True)
            told = True

    stop.wait(seconds, while_waiting=report_removal)


def _usage_error(message: str, as_json: bool) -> int:
    if as_json:
        emit({"error": message}, True)
    print(f"error: {message}", file=sys.stderr)
    return 2
