"""A virtual chip hosted where PC/SC applications read it: vpcd's reader in a pcscd.

vpcd_pcscd() finds the running pcscd when it serves vpcd (its reader.conf.d names
libifdvpcd), else starts a private one (hardware_sim.pcscd), and yields the vpcd
port of an empty slot and that slot's reader name; a VpcdCard on that port is then a
card in that reader. country_pki and personalise_chip_document make the test
document such a chip holds (`limes sim chip`, `limes bench chip`, the tests).
"""
from __future__ import annotations

import re
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from common.settings import var_dir
from drivers.devices import pcsc
from hardware_sim.chip.personalise import personalise_chip
from hardware_sim.chip.security import PROFILES
from hardware_sim.devices import chip_photo
from hardware_sim.pcscd import Pcscd, PcscdUnavailable, running_pid
from hardware_sim.pki import TestPki, make_test_pki

DEFAULT_READER_CONF = Path("/etc/reader.conf.d")
VPCD_LIBRARY = "libifdvpcd"


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
    try:
        pcsc.wait_for_removal(reader, 0)
    except pcsc.CardAbsent:
        return False
    return True


# -- the test document on the chip ----------------------------------------------------------

def country_pki(directory: Path | None, state: str):
    """The test PKI in directory (made there first when there is none)."""
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


def personalise_document(mrz, photo: bytes, pki, faults: list[str]) -> dict[int, bytes]:
    """The files of a BAC chip (see personalise_chip_document)."""
    return personalise_chip_document(mrz, photo, pki, faults).files


def personalise_chip_document(mrz, photo: bytes, pki, faults: list[str], profile=None, **fingers):
    """The chip: DG1 from the MRZ, DG2 from the photo (as a chip stores it), DG11
    and DG12 with the name, birth date and a test issuing authority, and what
    the profile offers (PersonalisedChip: files, keys, profile); `fingers` and `cvca` as
    personalise_chip takes them (DG3 behind Terminal Authentication)."""
    full_name = f"{mrz.surname}<<{mrz.given_names}".replace(" ", "<")
    dg11 = {"full_name": full_name, "place_of_birth": "TEST CITY"}
    if mrz.birth_date is not None:
        dg11["full_date_of_birth"] = mrz.birth_date.strftime("%Y%m%d")
    dg12 = {"issuing_authority": f"LIMES TEST AUTHORITY {mrz.issuing_state}",
            "date_of_issue": time.strftime("%Y%m%d")}
    return personalise_chip(str(mrz), chip_photo(photo), pki, dg11=dg11, dg12=dg12, faults=faults,
                            profile=profile or PROFILES["bac"], **fingers)


def synthetic_photo(kb: float, seed: int = 0) -> bytes:
    """A JPEG of about `kb` kilobytes (within ~10 %), smooth like a face photo with
    sensor noise, 3:4 like a passport photo. Its size is steered by its dimensions."""
    rng = np.random.default_rng(seed)
    target = kb * 1000

    def encode(height: int) -> bytes:
        width = max(8, height * 3 // 4)
        shape = (height, width, 3)
        smooth = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), max(1.0, height / 60))
        smooth = (smooth - smooth.min()) / max(float(np.ptp(smooth)), 1e-6) * 200 + 20
        pixels = np.clip(smooth + rng.normal(0, 4, shape), 0, 255).astype(np.uint8)
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise RuntimeError("cannot encode the synthetic photo")
        return data.tobytes()

    height = 320
    best = encode(height)
    for _ in range(6):
        if abs(len(best) - target) <= 0.05 * target:
            break
        height = max(16, round(height * (target / len(best)) ** 0.5))
        candidate = encode(height)
        if abs(len(candidate) - target) < abs(len(best) - target):
            best = candidate
    return best
