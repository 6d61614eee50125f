"""Start and stop a private pcscd whose only reader is vsmartcard's vpcd.

pcscd's client socket (/run/pcscd/pcscd.comm) is fixed at build time, so one
machine runs one pcscd. A lock file serialises the users of this module (two
test runs wait for each other instead of fighting), and a pcscd that someone
else started is reported, never killed. The vpcd port is picked free per run
and written to a private reader.conf.d, so nothing depends on port 35963.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from smartcard import scard

PID_FILE = Path("/run/pcscd/pcscd.pid")
LOCK_FILE = Path(tempfile.gettempdir()) / "limes-pcscd.lock"
VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
READER_NAME = "Virtual PCD 00 00"  # the driver's first slot; slot 2 ("00 01") listens on port + 1


class PcscdUnavailable(RuntimeError):
    """pcscd or the vpcd driver is missing, busy, or did not come up."""


def pcscd_binary() -> str:
    found = shutil.which("pcscd") or next(
        (str(path) for path in (Path("/usr/sbin/pcscd"), Path("/sbin/pcscd")) if path.exists()), None)
    if found is None:
        raise PcscdUnavailable("pcscd is not installed (apt-get install pcscd)")
    return found


def running_pid() -> int | None:
    """The pid of a live pcscd according to its pid file."""
    try:
        pid = int(PID_FILE.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    try:
        if "pcscd" not in Path(f"/proc/{pid}/comm").read_text():
            return None  # a recycled pid
    except OSError:
        return None
    return pid


def free_port_pair() -> int:
    """A free port whose successor is free too (vpcd opens one per slot)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise PcscdUnavailable("no two consecutive free TCP ports")


def _readers() -> list[str]:
    code, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if code != scard.SCARD_S_SUCCESS:
        return []
    try:
        code, readers = scard.SCardListReaders(context, [])
        return list(readers) if code == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(context)


class Pcscd:
    """A pcscd run in the foreground by this process: `with Pcscd() as daemon:`
    then put a card in with hardware_sim.chip.vpcd.VpcdCard(chip, daemon.port).

    The daemon is terminated when the thread that started it ends, so start it
    from the main thread (or one that lives as long as it is needed)."""

    # A test module holds the daemon for its whole run (a minute or two of e2e tests), so
    # a second test run on the same machine waits that long rather than failing.
    def __init__(self, port: int | None = None, lock_timeout: float = 900.0) -> None:
        self.port = port
        self.lock_timeout = lock_timeout
        self.reader = READER_NAME
        self._process: subprocess.Popen[bytes] | None = None
        self._lock: int | None = None
        self._config: tempfile.TemporaryDirectory[str] | None = None

    def start(self, timeout: float = 10.0) -> "Pcscd":
        binary = pcscd_binary()
        if not VPCD_DRIVER.exists():
            raise PcscdUnavailable(f"vpcd driver missing at {VPCD_DRIVER} (apt-get install vsmartcard-vpcd)")
        self._acquire_lock()
        try:
            other = running_pid()
            if other is not None:
                raise PcscdUnavailable(f"another pcscd (pid {other}) is running; one machine runs one pcscd")
            self.port = self.port or free_port_pair()
            self._config = tempfile.TemporaryDirectory(prefix="limes-pcscd-")
            # pcscd reads every file of its --config folder as reader configuration, again
            # whenever it rescans: its own log must live elsewhere, or it parses the log,
            # logs the parse errors, parses those... (seen in CI: the reader never came).
            readers = Path(self._config.name, "reader.conf.d")
            readers.mkdir()
            Path(readers, "vpcd").write_text(
                'FRIENDLYNAME "Virtual PCD"\n'
                f"DEVICENAME /dev/null:0x{self.port:04X}\n"
                f"LIBPATH {VPCD_DRIVER}\n"
                f"CHANNELID 0x{self.port:04X}\n")
            self.log_path = Path(self._config.name, "pcscd.log")
            with open(self.log_path, "wb") as log:
                # A test run that is killed must not leave a pcscd behind (the next run could not
                # start its own), so it gets SIGTERM when its parent dies. setpriv sets that, not a
                # preexec_fn: Python code between fork and exec runs gRPC's fork handlers in the
                # child, which aborted it ("epoll_wait error: Bad file descriptor", exit -6).
                self._process = subprocess.Popen(
                    ["setpriv", "--pdeathsig", "TERM", binary, "--foreground", "--config", str(readers)],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            self._wait_for_reader(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _acquire_lock(self) -> None:
        self._lock = os.open(LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o666)
        deadline = time.monotonic() + self.lock_timeout
        while True:
            try:
                fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self._lock)
                    self._lock = None
                    raise PcscdUnavailable(f"{LOCK_FILE} held by another pcscd user for {self.lock_timeout} s")
                time.sleep(0.1)

    def _wait_for_reader(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise PcscdUnavailable(f"pcscd exited with {self._process.returncode}: {self.log()}")
            if self.reader in _readers():
                return
            time.sleep(0.05)
        raise PcscdUnavailable(f"reader {self.reader!r} did not appear within {timeout} s: {self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except (AttributeError, OSError):
            return ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        if self._config is not None:
            self._config.cleanup()
            self._config = None
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            os.close(self._lock)
            self._lock = None

    def __enter__(self) -> "Pcscd":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
