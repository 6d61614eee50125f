"""`limes pki make-test-pki`, `limes sim chip` and `limes bench chip`: the
simulated side of the chip commands.

`limes sim chip` puts a personalised virtual chip into vpcd's reader and keeps
it there, so that `limes chip read` (or any PC/SC application) can read it
from another terminal. It uses the pcscd that is already running when that one
serves vpcd, else starts a private one (hardware_sim.pcscd).

Registration imports only argparse and the standard library; the handlers
import the chip, PKI and PC/SC code.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from drivers.chip_commands import command_group
from common.output import add_json_flag, emit
from common.signals import StopSignals

FAULTS = ("altered_dg", "wrong_signer", "expired_dsc", "revoked_dsc")  # hardware_sim.chip.personalise.FAULTS
PROFILE_NAMES = ("bac", "passport", "pace-cam", "id-card", "bac-aa")  # hardware_sim.chip.security.PROFILES
KEY_KINDS = ("ecdsa-p256", "ecdsa-brainpool-explicit", "rsa-2048", "rsa-pss-2048")  # hardware_sim.pki.KeyKind
DEFAULT_READER_CONF = Path("/etc/reader.conf.d")
VPCD_LIBRARY = "libifdvpcd"
CARD_WAIT_S = 5.0


def register(sub) -> None:
    pki = command_group(sub, "pki", "trusted CSCAs and test PKIs", "pki_command")
    make = pki.add_parser("make-test-pki", help="write a throw-away ICAO PKI for test documents",
                          description="Write a test Country Signing CA, Document Signers (valid, expired, "
                                      "revoked), a CRL and a signed CSCA master list into DIR.")
    make.add_argument("directory", type=Path, metavar="DIR", help="where to write it (must be empty or new)")
    make.add_argument("--country", required=True, help="ICAO three-letter state code, e.g. UTO")
    make.add_argument("--key", choices=KEY_KINDS, default="ecdsa-p256", help="key type (default ecdsa-p256)")
    add_json_flag(make)
    make.set_defaults(func=_make_test_pki)

    sim = command_group(sub, "sim", "simulated devices", "sim")
    chip = sim.add_parser("chip", help="a virtual ePassport chip in the vpcd reader, until Ctrl-C",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
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
    chip.add_argument("--seconds", type=float, default=None, help="stop after this long (default: at Ctrl-C)")
    add_json_flag(chip)
    chip.set_defaults(func=_sim_chip)


def register_bench(bench_sub) -> None:
    parser = bench_sub.add_parser("chip", help="full chip read through pcscd + vpcd and in process, p50/p95/p99",
                                  description="Read two simulated chips, N times through pcscd + vpcd + pyscard "
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


# -- a pcscd with vpcd ------------------------------------------------------------------

class NoVpcd(RuntimeError):
    """No pcscd serving vpcd is running, and none could be started."""


@dataclass(frozen=True)
class VpcdEndpoint:
    port: int  # vpcd's TCP port for the reader's first slot
    reader: str  # the PC/SC name of that slot
    pid: int  # the pcscd process
    started: bool  # by us (stopped when we are done) or found running


def running_pcscd_vpcd_port(pid: int) -> tuple[int, str] | None:
    """vpcd's port and friendly name in the configuration of the running pcscd `pid`,
    or None when it has no vpcd reader."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    config = DEFAULT_READER_CONF
    for index, arg in enumerate(argv):
        if arg in ("-c", "--config") and index + 1 < len(argv):
            config = Path(argv[index + 1])
        elif arg.startswith("--config="):
            config = Path(arg.split("=", 1)[1])
    try:
        paths = sorted(config.iterdir()) if config.is_dir() else [config]
        texts = [path.read_text(errors="replace") for path in paths if path.is_file()]
    except OSError:
        return None
    for text in texts:
        entries = dict(re.findall(r"^\s*(FRIENDLYNAME|LIBPATH|CHANNELID)\s+(.+?)\s*$", text, re.MULTILINE))
        if VPCD_LIBRARY in entries.get("LIBPATH", "") and "CHANNELID" in entries:
            try:
                port = int(entries["CHANNELID"], 0)
            except ValueError:
                continue
            return port, entries.get("FRIENDLYNAME", "Virtual PCD").strip('"')
    return None


@contextmanager
def vpcd_pcscd() -> Iterator[VpcdEndpoint]:
    """The running pcscd when it serves vpcd, else a private one for the duration."""
    from drivers.devices import pcsc
    from hardware_sim.pcscd import Pcscd, PcscdUnavailable, running_pid

    pid = running_pid()
    if pid is not None:
        found = running_pcscd_vpcd_port(pid)
        if found is None:
            raise NoVpcd(f"pcscd (pid {pid}) is running without the vpcd reader; stop it, or configure "
                         "vsmartcard-vpcd in its reader.conf.d")
        port, friendly = found
        slots = sorted(r for r in pcsc.list_readers() if r.startswith(friendly + " "))
        if not slots:
            raise NoVpcd(f"pcscd (pid {pid}) has vpcd on port {port} but lists no {friendly!r} reader")
        reader = next((r for r in slots if _is_empty(r)), None)
        if reader is None:
            raise NoVpcd(f"every vpcd reader of pcscd (pid {pid}) holds a card already: {', '.join(slots)}")
        # vpcd slot n listens on the configured port + n; the slot is the reader name's last number
        yield VpcdEndpoint(port + int(reader.rsplit(" ", 1)[1], 16), reader, pid, started=False)
        return
    try:
        daemon = Pcscd().start()
    except PcscdUnavailable as exc:
        raise NoVpcd(str(exc)) from exc
    try:
        yield VpcdEndpoint(daemon.port or 0, daemon.reader, running_pid() or 0, started=True)
    finally:
        daemon.stop()


def _is_empty(reader: str) -> bool:
    """No card in the reader: a second virtual card on a busy vpcd slot would
    wait unserved while readers talk to the first one."""
    from drivers.devices import pcsc

    try:
        pcsc.wait_for_removal(reader, 0)
    except pcsc.CardAbsent:
        return False
    return True


# -- limes pki make-test-pki ---------------------------------------------------------------

def _make_test_pki(args: argparse.Namespace) -> int:
    from hardware_sim.pki import make_test_pki

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
    return 2


# -- limes sim chip ---------------------------------------------------------------------------

def _sim_chip(args: argparse.Namespace) -> int:
    from drivers.devices import pcsc
    from drivers.emrtd.iso7816.transceiver import TransportError
    from drivers.mrz import MrzError, parse
    from hardware_sim.chip import ChipFaults, VirtualChip
    from hardware_sim.chip.vpcd import VpcdCard

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
        personalised = personalise_chip_document(mrz, photo, pki, args.fault, profile)
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


def country_pki(directory: Path | None, state: str):
    """The test PKI in directory (made there first when there is none)."""
    from hardware_sim.pki import TestPki, make_test_pki
    from common.settings import var_dir

    directory = directory or var_dir() / "sim-chip" / "pki" / state
    if (directory / "pki.json").exists():
        return directory, TestPki.load(directory)
    if directory.exists() and any(directory.iterdir()):
        raise ValueError(f"--country-pki {directory}: holds files but no test PKI (pki.json)")
    try:
        pki = make_test_pki(state)
    except ValueError as exc:
        raise ValueError(f"no test PKI for issuing state {state!r}: {exc}") from exc
    pki.save(directory)
    return directory, pki


def chip_profile(args: argparse.Namespace):
    """The named --profile with the options that change it; ValueError when they do not fit."""
    from hardware_sim.chip.security import PROFILES, ChipProfile

    base = PROFILES[args.profile]
    pace = args.pace if args.pace is not None else [str(offer) for offer in base.pace]

    def chosen(value: str | None, default: str | None) -> str | None:
        return default if value is None else None if value.lower() == "none" else value

    return ChipProfile.build(bac=base.bac and not args.no_bac, pace=pace, ca=chosen(args.ca, base.ca),
                             aa=chosen(args.aa, base.aa), can=args.can if args.can is not None else base.can)


def personalise_document(mrz, photo: bytes, pki, faults: list[str]) -> dict[int, bytes]:
    """The files of a BAC chip (see personalise_chip_document)."""
    return personalise_chip_document(mrz, photo, pki, faults).files


def personalise_chip_document(mrz, photo: bytes, pki, faults: list[str], profile=None):
    """The chip: DG1 from the MRZ, DG2 from the photo (as a chip stores it), DG11
    and DG12 with the name, birth date and a test issuing authority, and what
    the profile offers (PersonalisedChip: files, keys, profile)."""
    from hardware_sim.chip.personalise import personalise_chip
    from hardware_sim.chip.security import PROFILES
    from hardware_sim.devices import chip_photo

    full_name = f"{mrz.surname}<<{mrz.given_names}".replace(" ", "<")
    dg11 = {"full_name": full_name, "place_of_birth": "TEST CITY"}
    if mrz.birth_date is not None:
        dg11["full_date_of_birth"] = mrz.birth_date.strftime("%Y%m%d")
    dg12 = {"issuing_authority": f"LIMES TEST AUTHORITY {mrz.issuing_state}",
            "date_of_issue": time.strftime("%Y%m%d")}
    return personalise_chip(str(mrz), chip_photo(photo), pki, dg11=dg11, dg12=dg12, faults=faults,
                            profile=profile or PROFILES["bac"])


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


# -- limes bench chip --------------------------------------------------------------------------

def _bench_chip(args: argparse.Namespace) -> int:
    from hardware_sim import chip_bench

    if args.reads < 1 or args.photo_kb <= 0:
        return _usage_error("--reads must be at least 1 and --photo-kb positive", args.json)
    result = chip_bench.run(args.reads, args.photo_kb, extended_length=not args.short_apdus)
    result["command"] = (f"limes bench chip --reads {args.reads} --photo-kb {args.photo_kb:g}"
                         + (" --short-apdus" if args.short_apdus else "") + (" --json" if args.json else ""))
    emit(result, args.json, chip_bench.render)
    no_pcsc = "error" in result["transports"]["pcsc"] or "error" in result["modern"]["transports"]["pcsc"]
    return 1 if no_pcsc else 0
