"""Read an eMRTD chip as an inspection system does (Doc 9303 Part 11):

1. read EF.CardAccess; when it offers PACE, run PACE (the best protocol it
   offers that this reader may use), else, or when PACE fails, BAC;
2. after PACE, read EF.CardSecurity (in the Master File) if the chip has it;
3. select the LDS application, read EF.COM and DG14; when DG14 offers Chip
   Authentication (and PACE-CAM did not already authenticate the chip), run
   it and confirm the new keys with the next protected command; then, for a
   terminal that holds EAC credentials, run Terminal Authentication (which
   opens DG3, the fingers, and DG4 to the rights its certificates carry);
4. read DG15, the requested data groups and EF.SOD;
5. when DG15 is present, run Active Authentication with a fresh challenge.

`read_chip` returns the raw bytes of every file it could read, one
ChipStepResult per step (outcome and timing) and what each protocol gave. A data
group the chip does not have is recorded as 'absent' and the read goes on. A
failed Chip Authentication is recorded and, when it cost the secure channel,
the session is opened again so that the data still reach the officer.
Anything that makes the rest of the read meaningless (link lost, access
refused, a response that fails its MAC, an answer that is not ISO 7816)
raises a ChipReadError subclass that carries the partial result.

Whether the chip passed is for `drivers.emrtd.checks` to judge: it needs the
SOD and the trusted CSCAs, not just the exchange.
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Literal, TypeVar

from drivers.emrtd import tlv
from drivers.emrtd.bac import BacError, perform_bac
from drivers.emrtd.chipauth import aa, ca
from drivers.emrtd.iso7816.apdu import ApduError, CommandApdu, ResponseApdu, StatusError
from drivers.emrtd.iso7816.atr import supports_extended_length
from drivers.emrtd.iso7816.secure_messaging import SecureMessagingError, SecureMessagingTransceiver
from drivers.emrtd.iso7816.transceiver import ResponseChaining, Transceiver, TransportError, send
from drivers.emrtd.lds import dg14 as dg14_file
from drivers.emrtd.lds import efcom
from drivers.emrtd.lds.cardaccess import PaceInfo, SecurityInfo, explicit_domain_parameters, parse_security_infos
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.pace import (
    PASSWORD_CAN,
    PASSWORD_MRZ,
    PaceError,
    PaceProtocol,
    PaceResult,
    can_password,
    mrz_password,
    perform_pace,
)
from drivers.emrtd.pace.groups import Group
from drivers.emrtd.pace.protocol import pace_group
from drivers.emrtd.terminalauth.protocol import (
    EF_CVCA,
    TerminalAuthenticationError,
    TerminalCredentials,
    chip_identifier_after_bac,
    chip_identifier_after_pace,
    parse_ef_cvca,
    perform_ta,
)

EMRTD_AID = bytes.fromhex("A0000002471001")
MASTER_FILE = bytes.fromhex("3F00")
EF_COM = 0x011E
EF_SOD = 0x011D
EF_CARD_ACCESS = 0x011C  # in the Master File, readable without access control
EF_CARD_SECURITY = 0x011D  # in the Master File; the same identifier as EF.SOD in the LDS application
DG1, DG2, DG3 = 0x0101, 0x0102, 0x0103
DG14, DG15 = 0x010E, 0x010F
DEFAULT_FILES = (DG1, DG2)
MAPPING_PREFERENCE = {"CAM": 3, "GM": 2, "IM": 1}  # CAM authenticates the chip on the way
T = TypeVar("T")

# Plain chunk for short APDUs: its protected answer (DO'87' with padding,
# DO'99', DO'8E': 242 bytes) fits Le 00 = 256 with room to spare; 0xE7 would
# be the exact limit, but some chips and readers stumble near it.
SHORT_BLOCK = 0xDF
# Extended reads stay well under 64 KiB so the protected answer fits too.
EXTENDED_BLOCK = 0xF000
HEADER_PROBE = 8  # enough for a two-byte tag and a four-byte length
MAX_OFFSET_B0 = 0x7FFF  # READ BINARY B0 encodes the offset in 15 bits; beyond it B1 is used
ODD_INS_OVERHEAD = 4  # the DO'53' header around B1 content (tag, 82, two length bytes)
MAX_FILE_SIZE = 1 << 20  # a header claiming more is garbage, not a photo


def file_name(file_id: int, master_file: bool = False) -> str:
    if master_file:
        return {EF_CARD_ACCESS: "EF.CardAccess", EF_CARD_SECURITY: "EF.CardSecurity"}.get(file_id, f"EF {file_id:04X}")
    if file_id == EF_COM:
        return "EF.COM"
    if file_id == EF_SOD:
        return "EF.SOD"
    if 0x0101 <= file_id <= 0x0110:
        return f"DG{file_id - 0x0100}"
    return f"EF {file_id:04X}"


@dataclass(frozen=True)
class ChipStepResult:
    name: str
    outcome: Literal["ok", "absent", "failed"]  # absent: the chip has no such file
    seconds: float
    detail: str = ""


@dataclass(frozen=True)
class AccessControl:
    """How the chip was opened, and what happened to PACE on the way."""

    method: Literal["PACE", "BAC"]
    description: str  # "PACE ECDH-GM-AES-128 on brainpoolP256r1 with the MRZ", "BAC"
    offered: tuple[str, ...] = ()  # what EF.CardAccess announced: "ECDH-GM-AES-128 (id 13)", ...
    pace_failure: str | None = None  # PACE was tried and failed; BAC opened the chip instead
    pace_skipped: str | None = None  # PACE offered but not usable by this reader, or EF.CardAccess unreadable
    pace: PaceResult | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class ChipAuthenticationRun:
    """Chip Authentication as run during the read (PACE-CAM is judged from `AccessControl.pace`)."""

    protocol: str  # "ECDH-AES-128", or "" when no protocol could be chosen
    confirmed: bool  # the chip answered correctly under the new keys
    detail: str


@dataclass(frozen=True)
class TerminalAuthenticationRun:
    """Terminal Authentication as run during the read (only when the reader was given credentials)."""

    granted: bool                      # the chip accepted the chain and the signature
    detail: str                        # the rights the chain carries, or why it was refused or not run
    chip_trusts: tuple[str, ...] = ()  # the CVCA references of EF.CVCA, when the chip has the file


@dataclass(frozen=True)
class ActiveAuthenticationRun:
    challenge: bytes
    signature: bytes | None  # None when the chip refused or the exchange broke
    detail: str = ""


@dataclass
class ChipRead:
    files: dict[int, bytes] = field(default_factory=dict)  # the LDS application's files
    steps: list[ChipStepResult] = field(default_factory=list)
    extended_length: bool = False
    master_files: dict[int, bytes] = field(default_factory=dict)  # EF.CardAccess, EF.CardSecurity
    access: AccessControl | None = None
    chip_authentication: ChipAuthenticationRun | None = None
    active_authentication: ActiveAuthenticationRun | None = None
    terminal_authentication: TerminalAuthenticationRun | None = None

    @property
    def ok(self) -> bool:
        return all(step.outcome != "failed" for step in self.steps)

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


class ChipReadError(Exception):
    """The read had to stop; `partial` holds what was read until then."""

    def __init__(self, step: str, reason: str, partial: ChipRead) -> None:
        self.step = step
        self.partial = partial
        super().__init__(f"{step}: {reason}")


class ChipLinkError(ChipReadError):
    """The card or reader went away (card removed, reader unplugged)."""


class AccessControlError(ChipReadError):
    """BAC failed: most often a wrong MRZ key."""


class ChipIntegrityError(ChipReadError):
    """A protected answer failed its MAC or the chip dropped secure messaging."""


class ChipProtocolError(ChipReadError):
    """The chip answered something that is not valid ISO 7816 / ICAO 9303."""


def _classify(error: Exception) -> type[ChipReadError]:
    if isinstance(error, TransportError):
        return ChipLinkError
    if isinstance(error, (BacError, PaceError)):
        return AccessControlError
    if isinstance(error, SecureMessagingError):
        return ChipIntegrityError
    return ChipProtocolError


_EXPECTED_ERRORS = (TransportError, BacError, PaceError, SecureMessagingError, ApduError, StatusError, tlv.TlvError)


class FileReader:
    """READ BINARY of whole files over one (secure) channel."""

    def __init__(self, channel: Transceiver, block: int) -> None:
        self.channel = channel
        self.block = block

    def select(self, file_id: int, name: str | None = None) -> None:
        send(self.channel, CommandApdu(0x00, 0xA4, 0x02, 0x0C, file_id.to_bytes(2, "big"))).check(
            f"SELECT {name or file_name(file_id)}")

    def read_binary(self, offset: int, length: int) -> bytes:
        if offset > MAX_OFFSET_B0:
            return self._read_binary_odd(offset, length)
        response = send(self.channel, CommandApdu(0x00, 0xB0, offset >> 8, offset & 0xFF, ne=length))
        return self._chunk(response, offset, length)

    def _read_binary_odd(self, offset: int, length: int) -> bytes:
        """READ BINARY B1: the offset travels in DO'54', the content comes back in DO'53'."""
        offset_object = tlv.encode(0x54, offset.to_bytes((offset.bit_length() + 7) // 8, "big"))
        asked = length + ODD_INS_OVERHEAD
        response = send(self.channel, CommandApdu(0x00, 0xB1, 0x00, 0x00, offset_object, ne=asked))
        # Ne counts the DO'53' header too, so the chip may fit a few more content bytes than asked.
        content = tlv.decode_one(self._chunk(response, offset, asked), 0x53).value
        if not content:
            raise ApduError(f"READ BINARY B1 at offset {offset} returned no content")
        return content

    @staticmethod
    def _chunk(response: ResponseApdu, offset: int, length: int) -> bytes:
        if response.sw not in (0x9000, 0x6282):  # 6282: end of file before Ne bytes
            raise StatusError(response.sw, f"READ BINARY at offset {offset}")
        if not response.data or len(response.data) > length:
            raise ApduError(f"READ BINARY at offset {offset} returned {len(response.data)} bytes for {length} asked")
        return response.data

    def read_file(self, file_id: int, name: str | None = None) -> bytes:
        self.select(file_id, name)
        content = self.read_binary(0, HEADER_PROBE)
        total = tlv.total_length(content)
        if total > MAX_FILE_SIZE:
            raise ApduError(f"{name or file_name(file_id)} claims {total} bytes, more than any LDS file "
                            f"({MAX_FILE_SIZE})")
        while len(content) < total:
            content += self.read_binary(len(content), min(self.block, total - len(content)))
        return content[:total]



@dataclass(frozen=True)
class PaceChoice:
    info: PaceInfo
    protocol: PaceProtocol
    explicit: Group | None  # the domain parameters, when the chip gave them explicitly


def choose_pace(infos: list[SecurityInfo]) -> PaceChoice | str:
    """The PACEInfo to run, or why none of those offered can be used here.
    Chip Authentication Mapping first (it authenticates the chip on the way),
    then generic, then integrated; ECDH before DH; the strongest cipher."""
    usable, reasons = [], []
    for info in infos:
        if not isinstance(info, PaceInfo):
            continue
        try:
            protocol = PaceProtocol.from_oid(info.protocol)
            explicit = explicit_domain_parameters(info, infos)
            pace_group(protocol, info.parameter_id, explicit)
        except (PaceError, LdsError) as error:
            reasons.append(f"{info.protocol}: {error}")
            continue
        usable.append(PaceChoice(info, protocol, explicit))
    if not usable:
        return "; ".join(reasons) or "EF.CardAccess holds no PACEInfo"
    return max(usable, key=lambda choice: (MAPPING_PREFERENCE[choice.protocol.mapping],
                                           choice.protocol.agreement == "ECDH", choice.protocol.suite.cipher == "AES",
                                           choice.protocol.suite.key_length))


def _offered(infos: list[SecurityInfo]) -> tuple[str, ...]:
    described = []
    for info in infos:
        if isinstance(info, PaceInfo):
            try:
                name = PaceProtocol.from_oid(info.protocol).name
            except PaceError:
                name = info.protocol
            described.append(f"{name} (id {info.parameter_id})" if info.parameter_id is not None else name)
    return tuple(described)


class _Reading:
    """One read: the steps of the module docstring, with their results in `result`."""

    def __init__(self, transceiver: Transceiver, mrz_key: str | None, can: str | None, extended_length: bool,
                 clock: Callable[[], float], random: Callable[[int], bytes],
                 terminal: TerminalCredentials | None = None) -> None:
        self.terminal = terminal
        self.mrz_key = mrz_key
        self.can = can
        self.clock = clock
        self.random = random
        self.result = ChipRead(extended_length=extended_length)
        self.chained = ResponseChaining(transceiver)
        self.block = EXTENDED_BLOCK if extended_length else SHORT_BLOCK
        self.card_access: list[SecurityInfo] = []
        self.card_access_problem: str | None = None
        self.reader = FileReader(self.chained, self.block)

    def step(self, name: str, action: Callable[[], T]) -> T:
        started = self.clock()
        try:
            value = action()
        except _EXPECTED_ERRORS as error:
            self.result.steps.append(ChipStepResult(name, "failed", self.clock() - started, str(error)))
            raise _classify(error)(name, str(error), self.result) from error
        self.result.steps.append(ChipStepResult(name, "ok", self.clock() - started))
        return value

    def optional_file(self, name: str, read: Callable[[], bytes]) -> bytes | None:
        """A file the chip may lack: a protected (or plain) status error is recorded, not raised."""
        started = self.clock()
        try:
            return self.step(name, read)
        except ChipProtocolError as error:
            cause = error.__cause__
            if not isinstance(cause, StatusError):
                raise
            absent = cause.sw in (0x6A82, 0x6982)
            self.result.steps[-1] = ChipStepResult(name, "absent" if absent else "failed", self.clock() - started,
                                               str(cause))
            return None

    # -- access control --------------------------------------------------------------------
    def read_card_access(self) -> None:
        def select_master_file_and_read() -> bytes:
            # A card left in the reader may still have an application selected: start from the
            # Master File. Chips without a selectable MF say so in the status, which changes nothing.
            send(self.chained, CommandApdu(0x00, 0xA4, 0x00, 0x0C, MASTER_FILE))
            return self.reader.read_file(EF_CARD_ACCESS, "EF.CardAccess")

        data = self.optional_file("read EF.CardAccess", select_master_file_and_read)
        if data is None:
            return
        self.result.master_files[EF_CARD_ACCESS] = data
        try:
            self.card_access = parse_security_infos(data)
        except LdsError as error:
            self.card_access_problem = str(error)

    def open_session(self, suffix: str = "") -> None:
        """PACE when EF.CardAccess offers it (BAC when it fails), else BAC; then select the
        LDS application. Leaves self.reader on the secure channel."""
        offered = _offered(self.card_access)
        choice = choose_pace(self.card_access) if self.card_access else None
        skipped = self.card_access_problem
        failure = None
        if isinstance(choice, str):
            skipped, choice = choice, None
        if choice is not None and (self.can or self.mrz_key):
            password, kind = ((can_password(self.can), PASSWORD_CAN) if self.can
                              else (mrz_password(self.mrz_key), PASSWORD_MRZ))
            # Doc 9303 wants the parameter id (DO'84') when the chip offers several; explicit domain
            # parameters are sent by the chip's own proprietary id, so that it knows which we took.
            several = sum(isinstance(i, PaceInfo) for i in self.card_access) > 1
            try:
                pace = self.step("PACE" + suffix, lambda: perform_pace(
                    self.chained, password, choice.protocol, choice.info.parameter_id, kind, self.random,
                    parameter_reference=several or choice.explicit is not None, explicit=choice.explicit))
            except (AccessControlError, ChipProtocolError) as error:
                failure = str(error.__cause__ or error)
            else:
                channel = SecureMessagingTransceiver(self.chained, pace.secure_messaging())
                self.reader = FileReader(channel, self.block)
                self.result.access = AccessControl("PACE", pace.describe(), offered, pace=pace)
                if not suffix:
                    self.read_card_security()
                self.step("select eMRTD application" + suffix, lambda: send(channel, CommandApdu(
                    0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check("SELECT eMRTD application"))
                return
        if self.mrz_key is None:
            raise AccessControlError("PACE" + suffix, failure or skipped or "the chip offers no PACE and BAC needs "
                                     "the MRZ (only a CAN was given)", self.result)
        self.result.access = AccessControl("BAC", "BAC", offered, failure, skipped)
        self.step("select eMRTD application" + suffix, lambda: send(self.chained, CommandApdu(
            0x00, 0xA4, 0x04, 0x0C, EMRTD_AID)).check("SELECT eMRTD application"))
        try:
            keys = self.step("basic access control" + suffix, lambda: perform_bac(self.chained, self.mrz_key))
        except AccessControlError as error:
            # PACE failed or could not be used first: that is the news, BAC was the fallback
            pace = f"PACE failed ({failure})" if failure is not None else skipped and f"PACE not used ({skipped})"
            if pace:
                raise AccessControlError(error.step, f"{pace}; BAC, tried instead, failed too "
                                         f"({error.__cause__ or error})", self.result) from error
            raise
        self.reader = FileReader(SecureMessagingTransceiver(self.chained, keys.secure_messaging()), self.block)

    def read_card_security(self) -> None:
        data = self.optional_file("read EF.CardSecurity",
                                  lambda: self.reader.read_file(EF_CARD_SECURITY, "EF.CardSecurity"))
        if data is not None:
            self.result.master_files[EF_CARD_SECURITY] = data

    # -- files ----------------------------------------------------------------------------------
    def read(self, file_id: int) -> None:
        data = self.optional_file(f"read {file_name(file_id)}", lambda: self.reader.read_file(file_id))
        if data is not None:
            self.result.files[file_id] = data

    # -- chip authentication ---------------------------------------------------------------------
    def chip_authentication(self) -> None:
        pace = self.result.access.pace if self.result.access else None
        if pace is not None and pace.protocol.mapping == "CAM":
            return  # PACE-CAM authenticated the chip already (judged by drivers.emrtd.checks)
        try:
            infos = dg14_file.parse(self.result.files[DG14]).infos
        except LdsError as error:
            self.result.chip_authentication = ChipAuthenticationRun("", False, str(error))
            return
        if not ca.offered(infos):
            return
        started = self.clock()
        try:
            choice = ca.choose(infos)
        except ca.ChipAuthenticationError as error:
            self.record_ca(ChipAuthenticationRun("", False, str(error)), started)
            return
        channel = self.reader.channel
        assert isinstance(channel, SecureMessagingTransceiver)
        try:
            ephemeral_key = ca.perform_ca(channel, choice, self.random)
        except ca.ChipAuthenticationError as error:  # refused under the old keys, which stay in force
            self.record_ca(ChipAuthenticationRun(choice.protocol.name, False, str(error)), started)
            return
        except (ApduError, StatusError, SecureMessagingError, tlv.TlvError) as error:
            self.record_ca(ChipAuthenticationRun(choice.protocol.name, False, str(error)), started)
            self.open_session(" (again)")
            return
        except TransportError as error:
            self.result.steps.append(
                ChipStepResult("chip authentication", "failed", self.clock() - started, str(error))
            )
            raise ChipLinkError("chip authentication", str(error), self.result) from error
        try:  # the proof: a protected answer the chip could only MAC with the new keys
            self.reader.select(EF_COM)
        except StatusError:
            pass  # a protected status word that verified is proof enough
        except (SecureMessagingError, ApduError, tlv.TlvError) as error:
            self.record_ca(
                ChipAuthenticationRun(
                    choice.protocol.name,
                    False,
                    (
                        f"the chip could not go on under the keys agreed with its DG14 key ({error}): it does not hold "
                        "the matching private key"
                    ),
                ),
                started,
            )
            self.open_session(" (again)")
            return
        except TransportError as error:
            self.result.steps.append(
                ChipStepResult("chip authentication", "failed", self.clock() - started, str(error))
            )
            raise ChipLinkError("chip authentication", str(error), self.result) from error
        self.record_ca(ChipAuthenticationRun(choice.protocol.name, True, choice.describe()), started)
        if self.terminal is not None:
            self.terminal_authentication(ephemeral_key)

    def record_ca(self, run: ChipAuthenticationRun, started: float) -> None:
        self.result.chip_authentication = run
        self.result.steps.append(ChipStepResult("chip authentication", "ok" if run.confirmed else "failed",
                                            self.clock() - started, "" if run.confirmed else run.detail))

    # -- terminal authentication -----------------------------------------------------------------
    def terminal_authentication(self, ephemeral_key: bytes) -> None:
        """After a confirmed Chip Authentication: EF.CVCA (what the chip trusts), then TA; not run when
        EF.COM says the chip has neither DG3 nor DG4, which are all TA opens."""
        try:
            listed = efcom.parse(self.result.files[EF_COM]).data_groups if EF_COM in self.result.files else None
        except LdsError:
            listed = None  # unreadable: try, the chip's answers will tell
        if listed is not None and not {3, 4} & set(listed):
            self.result.terminal_authentication = TerminalAuthenticationRun(
                False, "not run: EF.COM lists neither DG3 nor DG4")
            return
        trusted: tuple[str, ...] = ()
        data = self.optional_file("read EF.CVCA", lambda: self.reader.read_file(EF_CVCA, "EF.CVCA"))
        if data is not None:
            try:
                trusted = tuple(parse_ef_cvca(data))
            except TerminalAuthenticationError:
                trusted = ()  # unreadable: the chip's own answer to the chain will tell
        access = self.result.access
        identifier = (chip_identifier_after_pace(access.pace.chip_public_key) if access and access.pace
                      else chip_identifier_after_bac(self.mrz_key or ""))
        started = self.clock()
        try:
            result = perform_ta(self.reader.channel, self.terminal, identifier, ephemeral_key)
        except TerminalAuthenticationError as error:
            self.record_ta(TerminalAuthenticationRun(False, _refusal(error, self.terminal, trusted), trusted), started)
            return
        except (ApduError, SecureMessagingError, tlv.TlvError, TransportError) as error:
            self.result.steps.append(ChipStepResult("terminal authentication", "failed", self.clock() - started,
                                                    str(error)))
            raise _classify(error)("terminal authentication", str(error), self.result) from error
        self.record_ta(TerminalAuthenticationRun(True, f"{result.terminal}: {result.rights}", trusted), started)

    def record_ta(self, run: TerminalAuthenticationRun, started: float) -> None:
        self.result.terminal_authentication = run
        self.result.steps.append(ChipStepResult("terminal authentication", "ok" if run.granted else "failed",
                                                self.clock() - started, "" if run.granted else run.detail))

    # -- active authentication --------------------------------------------------------------------
    def active_authentication(self) -> None:
        challenge = self.random(aa.CHALLENGE_LENGTH)
        started = self.clock()
        try:
            signature = aa.internal_authenticate(self.reader.channel, challenge,
                                                 extended_length=self.result.extended_length)
        except (StatusError, SecureMessagingError, ApduError) as error:
            self.result.active_authentication = ActiveAuthenticationRun(challenge, None, str(error))
            self.result.steps.append(ChipStepResult("active authentication", "failed", self.clock() - started,
                                                str(error)))
            return
        except TransportError as error:
            self.result.steps.append(ChipStepResult("active authentication", "failed", self.clock() - started,
                                                str(error)))
            raise ChipLinkError("active authentication", str(error), self.result) from error
        self.result.active_authentication = ActiveAuthenticationRun(challenge, signature)
        self.result.steps.append(ChipStepResult("active authentication", "ok", self.clock() - started))


def _refusal(error: TerminalAuthenticationError, terminal: TerminalCredentials, trusted: tuple[str, ...]) -> str:
    if trusted and terminal.trust_anchor not in trusted:
        return (f"{error} (the chip trusts {', '.join(trusted)}; "
                f"this terminal's chain starts at {terminal.trust_anchor})")
    return str(error)


def _why_no_ta(result: ChipRead) -> str:
    pace = result.access.pace if result.access else None
    if pace is not None and pace.protocol.mapping == "CAM":
        return "not run: a PACE-CAM chip needs Terminal Authentication version 2, which Limes does not implement"
    if result.chip_authentication is not None and not result.chip_authentication.confirmed:
        return "not run: Chip Authentication, which must come first, failed"
    return "not run: the chip offers no Chip Authentication, which Terminal Authentication version 1 follows"


def read_chip(transceiver: Transceiver, mrz_key: str | None = None, *, can: str | None = None,
              files: Iterable[int] = DEFAULT_FILES, extended_length: bool | None = None,
              authenticate_chip: bool = True, clock: Callable[[], float] = time.perf_counter,
              random: Callable[[int], bytes] = secrets.token_bytes,
              terminal: TerminalCredentials | None = None) -> ChipRead:
    """Read EF.COM, `files` and EF.SOD (and, with authenticate_chip, DG14 and DG15 with
    Chip and Active Authentication). mrz_key is the MRZ information (BAC and the PACE
    MRZ password); can, when given, is PACE's password instead. extended_length None
    means 'as the ATR says'. terminal, an inspection system's EAC credentials, makes the
    read run Terminal Authentication after Chip Authentication, so that DG3 (ask for it
    in files) can be read."""
    if mrz_key is None and can is None:
        raise ValueError("read_chip needs the MRZ information or the CAN")
    if extended_length is None:
        atr = getattr(transceiver, "atr", None)
        try:
            extended_length = bool(atr) and supports_extended_length(atr)
        except ApduError:
            extended_length = False
    reading = _Reading(transceiver, mrz_key, can, extended_length, clock, random, terminal)
    reading.read_card_access()
    reading.open_session()
    wanted = list(dict.fromkeys([*files]))
    if authenticate_chip:
        wanted = [DG14, *[f for f in wanted if f not in (DG14, DG15)], DG15]
    reading.read(EF_COM)
    for file_id in wanted:
        reading.read(file_id)
        if file_id == DG14 and authenticate_chip and DG14 in reading.result.files:
            reading.chip_authentication()
        if file_id == DG14 and terminal is not None and reading.result.terminal_authentication is None:
            reading.result.terminal_authentication = TerminalAuthenticationRun(False, _why_no_ta(reading.result))
    reading.read(EF_SOD)
    if authenticate_chip and DG15 in reading.result.files:
        reading.active_authentication()
    return reading.result
