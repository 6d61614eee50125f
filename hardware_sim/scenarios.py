"""The scenario library: one traveller per gate decision worth proving.

Each scenario is a traveller (with the document, chip and camera faults that
make the case) and what a correct gate must do with them: the decision, and
the checks that must not pass when it refers. `limes sim run` walks them
through a simulated border post, and tests/e2e/test_scenarios.py makes each
one a test.

A scenario the gate cannot pass yet, for want of a capability rather than by
a bug, carries `pending` with the reason: it still runs, and is reported as
pending while it fails in the way the reason says, and as `fixed` (which
fails the run) the day it passes, so that the mark is removed.

Identities are invented; photos are paths in the shared faces folder. Each
scenario has its own document number and name, so that alerts seeded for one
never touch another.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from hardware_sim.chip import ChipFaults
from hardware_sim.travellers import SimulatedTraveller, check_status, unmet_because

# Services the runner can take down before a scenario's traveller steps up. The matcher
# stays down; central comes back after the traveller, and the gate's outbox must then
# deliver the crossing decided offline, exactly once.
STOPPABLE = frozenset({"matcher", "central"})
# How long after the document lands a traveller in the shadow steps into the light.
RECOVERY_S = 1.0


@dataclass(frozen=True)
class Scenario:
    name: str                     # a slug for --scenario
    traveller: SimulatedTraveller          # its label is the title; it holds expected and because
    stops: str | None = None      # a service down for this traveller (one of STOPPABLE)
    pending: str | None = None    # why the gate cannot pass it yet

    @property
    def offline(self) -> bool:
        """The gate must decide this one from its own alert cache (central unreachable)."""
        return self.stops == "central"

    def __post_init__(self) -> None:
        if self.stops is not None and self.stops not in STOPPABLE:
            raise ValueError(f"scenario {self.name}: cannot stop {self.stops!r}; one of {sorted(STOPPABLE)}")
        if self.traveller.expected not in ("open", "refer"):
            raise ValueError(f"scenario {self.name}: expected must be open or refer")

    @property
    def title(self) -> str:
        return self.traveller.label

    @property
    def expected(self) -> str:
        return self.traveller.expected

    @property
    def because(self) -> tuple[str, ...]:
        return self.traveller.because

    @property
    def because_status(self) -> str:
        return self.traveller.because_status


@dataclass(frozen=True)
class Verdict:
    scenario: str
    status: str          # "pass", "fail", "pending" (fails as its reason says), "fixed" (pending yet passes)
    expected: str
    decision: str
    because: tuple[str, ...]
    not_passed: tuple[str, ...]   # checks that failed, could not be done or were answered offline
    reasons: tuple[str, ...]
    note: str = ""
    because_status: str = "fail"  # how each `because` check had to end

    @property
    def ok(self) -> bool:
        """Whether the run may succeed with this verdict."""
        return self.status in ("pass", "pending")

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "status": self.status, "expected": self.expected,
                "decision": self.decision, "because": list(self.because), "because_status": self.because_status,
                "not_passed": list(self.not_passed),
                "reasons": list(self.reasons), "note": self.note}


def judge(scenario: Scenario, outcome: dict) -> Verdict:
    """Compare a gate outcome (Outcome.to_dict()) with what the scenario expects."""
    # A check answered from the gate's own alert cache (its reason starts "offline:", docs/OFFLINE.md)
    # does not open the gate by default: for the verdict it has not passed either.
    not_passed = tuple(c["name"] for c in outcome["checks"] if check_status(c) != "pass")
    # Each `because` check must end as the traveller declares: failed unless not_done or offline is
    # declared; a check that could not be done does not make a case that needs it to fail.
    unmet = unmet_because(scenario.traveller, outcome["checks"])
    expected_file = scenario.traveller.file_status
    found_file = (outcome.get("traveller_file") or {}).get("status", "none")
    if expected_file is not None and found_file != expected_file:
        unmet["traveller file"] = f"{found_file} (expected {expected_file})"
    offline_as_expected = outcome.get("offline", False) == scenario.offline
    matched = outcome["decision"] == scenario.expected and not unmet and offline_as_expected
    if matched:
        status, note = ("fixed", f"passes although marked pending ({scenario.pending}): remove the mark") \
            if scenario.pending else ("pass", "")
    elif scenario.pending:
        status, note = "pending", scenario.pending
    else:
        status = "fail"
        note = (f"decided {outcome['decision']}, expected {scenario.expected}"
                if outcome["decision"] != scenario.expected else "")
        if unmet:
            note = "; ".join(filter(None, [note, f"not {scenario.because_status} as declared: " + ", ".join(
                f"{name} {ended}" for name, ended in unmet.items())]))
        if not offline_as_expected:
            note = "; ".join(filter(None, [note, "decided from the gate's alert cache" if outcome.get("offline")
                                           else "expected a decision from the gate's alert cache (offline)"]))
    return Verdict(scenario.name, status, scenario.expected, outcome["decision"], scenario.because, not_passed,
                   tuple(outcome["reasons"]), note, scenario.because_status)


def scenarios(today: dt.date | None = None) -> list[Scenario]:
    today = today or dt.date.today()
    valid = today + dt.timedelta(days=5 * 365)

    def traveller(
        label: str,
        surname: str,
        given: str,
        state: str,
        number: str,
        document: str,
        live: str | None,
        expected: str = "refer",
        because: tuple[str, ...] = (),
        **more,
    ) -> SimulatedTraveller:
        return SimulatedTraveller(label, surname, given, state, more.pop("sex", "M"), dt.date(1975, 3, 14), number,
                         more.pop("expiry_date", valid), document, live, expected, because, **more)

    genuine = traveller("genuine traveller", "HOLLAND", "JAMES ROBERT", "USA", "S1000001", "obama/01.jpg",
                        "obama/03.jpg", "open")

    def like_genuine(label: str, number: str, surname: str, because: tuple[str, ...], **faults) -> SimulatedTraveller:
        """The genuine traveller's face and document, with one thing wrong."""
        return replace(genuine, label=label, document_number=number, surname=surname, expected="refer",
                       because=because, **faults)

    # Every referral below is made by checks that fail (SimulatedTraveller.because_status "fail", the default),
    # but for the two service stops at the end: central-down's alert checks pass on the gate's offline
    # copy ("offline"), matcher-down's watchlist search cannot be done ("not_done").
    return [
        Scenario("genuine", genuine),
        # A live face well inside the capture's pose limits (hardware_sim.travellers.demo_travellers).
        Scenario("impostor", traveller(
            "impostor with someone else's passport", "BRENNAN", "JOSEPH", "IRL", "S1000002",
            "kit_harington/02.jpg", "obama/03.jpg", because=("face.verification",))),
        Scenario("expired", traveller(
            "expired document", "GARCIA", "LUCIA", "ESP", "S1000003", "rose_leslie/01.jpg", "rose_leslie/02.jpg",
            because=("document.expiry",), sex="F", expiry_date=today - dt.timedelta(days=40))),
        Scenario("stolen", traveller(
            "stolen document on the alert list", "HOLLAND", "MICHAEL", "USA", "S1000004", "obama/07_720p.jpg",
            "obama/01.jpg", because=("alerts.document",), alerts=("stolen",))),
        Scenario("person-alert", traveller(
            "person alert by name", "DUBOIS", "ANTOINE", "FRA", "S1000005", "biden/01.jpg", "biden/02.jpg",
            because=("alerts.person",), alerts=("person",))),
        Scenario("watchlist", traveller(
            "face on the watchlist", "VANCE", "ALEXANDER", "CAN", "S1000006", "alex_lacamoire/02.jpg",
            "alex_lacamoire/03.jpg", because=("watchlist.face",), alerts=("watchlist",),
            watchlist_photo="alex_lacamoire/01.png")),
        Scenario("altered-chip", like_genuine(
            "chip data altered after signing", "S1000007", "HOLT", ("dg2.hash",), personalise_faults=("altered_dg",))),
        Scenario("unknown-signer", like_genuine(
            "signed under a CSCA the gate does not trust", "S1000008", "HOLM", ("dsc.chain",),
            untrusted_issuer=True)),
        Scenario("revoked-signer", like_genuine(
            "signed by a revoked Document Signer", "S1000009", "HOLDEN", ("dsc.revocation",),
            personalise_faults=("revoked_dsc",))),
        Scenario("chip-removed", like_genuine(
            "chip removed mid-read", "S1000010", "HOLBROOK", ("chip.read",),
            chip_faults=ChipFaults(remove_after_reads=4))),
        Scenario("chip-unreadable", like_genuine(
            "unreadable chip (corrupt responses)", "S1000011", "HOLLIS", ("chip.read",),
            chip_faults=ChipFaults(corrupt_after_reads=0))),
        # Same number and dates, other names: BAC (keyed on those) opens the chip, DG1 betrays it.
        Scenario("mrz-chip-mismatch", like_genuine(
            "printed MRZ and chip disagree", "S1000012", "HOLLOWAY", ("dg1.printed_mrz",),
            chip_names=("HARLOW", "JAMES ROBERT"))),
        # The same shadow without the step into the light: what the recovery recovers from.
        Scenario("poor-light", like_genuine(
            "poor face quality throughout", "S1000018", "HOLLIDAY", ("face.capture",), scene="poor_light")),
        # The genuine traveller again, on a second passport of theirs: an open case needs a face that no
        # other identity's traveller file holds, and this one is the genuine traveller's (their file, or
        # a new one when run alone).
        Scenario("poor-light-recovers", replace(
            genuine, label="poor face quality, then recovery", document_number="S1000013",
            scene="poor_light", recovers_after_s=RECOVERY_S)),
        Scenario("print-attack", like_genuine(
            "print attack (a photo held up)", "S1000014", "HOLCOMBE", ("face.liveness",), scene="print_attack")),
        Scenario("replay-attack", like_genuine(
            "replay attack (a face on a screen)", "S1000015", "HOLDER", ("face.liveness",),
            scene="replay_attack")),
        Scenario("two-people", like_genuine(
            "two people in the gate", "S1000016", "HOLMAN", ("face.capture",), scene="two_faces",
            companion_face="biden/02.jpg")),
        # Modern chips: a copy of a PACE passport's data on another chip, without its private keys.
        Scenario("cloned-chip", like_genuine(
            "cloned chip (data copied, keys not)", "S1000022", "HOLTON", ("chip.ca", "chip.aa"),
            chip_profile="passport", chip_faults=ChipFaults(clone=True))),
        Scenario("pace-token-wrong", like_genuine(
            "chip whose PACE token is wrong", "S1000023", "HOLMES", ("chip.access",),
            chip_profile="passport", chip_faults=ChipFaults(wrong_pace_token=True))),
        Scenario("pace-only-id-card", traveller(
            "identity card with PACE only (no BAC)", "LINDQVIST", "EMMA", "SWE", "S1000024", "rose_leslie/01.jpg",
            "rose_leslie/02.jpg", "open", sex="F", chip_profile="id-card", document_format="TD1")),
        # Its state's CSCA and Document Signer give their brainpool curve by explicit parameters.
        Scenario("explicit-curve-signer", replace(
            genuine, label="passport of a state whose certificates spell their curve out", nationality="AUT",
            document_number="S1000025", surname="HUBER", given_names="LUKAS")),
        # Traveller files (docs/CENTRAL.md): a third-country national central opened a file for at an
        # earlier crossing comes back, and the live face is verified against the file's enrolled one too;
        # another passes under a second identity with a face a file already holds.
        Scenario("returning-traveller", traveller(
            "returning traveller: verified against their file", "MARSH", "DAVID", "AUS", "S1000026",
            "biden/01.jpg", "biden/02.jpg", "open", because=("traveller.file",), because_status="pass",
            file_photo="biden/01.jpg", file_status="VERIFIED")),
        Scenario("second-passport-same-face", traveller(
            "second passport, same face: possible multiple identity", "MORENO", "CLARA", "BRA", "S1000027",
            "rose_leslie/01.jpg", "rose_leslie/02.jpg", because=("traveller.file",), sex="F",
            file_photo="rose_leslie/01.jpg", file_as=("SOUZA", "ANA PAULA", "S1000028"), file_status="DUPLICATE")),
        # Fingers in DG3 (docs/FINGERPRINTS.md): the gate passes Terminal Authentication with its test
        # EAC credentials, reads the right index finger and asks for it on the scanner. Seeds chosen so
        # that the mated touch verifies (the matcher's FNMR is not zero; this case is about the flow).
        # German passports: EU citizens have no traveller file, so the genuine face's file plays no part.
        Scenario("fingerprints-verified", replace(
            genuine, label="fingers on the chip: live finger verified", document_number="S1000030",
            surname="HOLBROOK", nationality="DEU", because=("finger.verification",), because_status="pass",
            chip_profile="passport", chip_fingers=(9101, 9102), live_finger=(9101, 2))),
        Scenario("fingerprint-mismatch", like_genuine(
            "live finger does not match the chip's fingers", "S1000031", "HOLBERT", ("finger.verification",),
            chip_profile="passport", chip_fingers=(9101, 9102), live_finger=(9201, 2), nationality="DEU")),
        # Fingers in a traveller file (docs/FINGERPRINTS.md): a counter desk enrolled the right and left index
        # fingers at the first entry; the chip holds none, so the gate asks for the right index and central
        # compares it with the file's. Another finger is laid on the scanner: refer. (lin_manuel_miranda's one
        # photo is the document's, the file's and the live face: a face no other file or alert holds. His
        # head is turned about 20 degrees; at the usual distance the head-model fit reads 26-29 in the camera,
        # over the 25 allowed, and nearer 21-23: he stands close to the camera, the close_up scene.)
        Scenario("file-fingerprint-mismatch", traveller(
            "live finger does not match the traveller file's fingers", "MIRANDA", "LUIS", "AUS", "S1000032",
            "lin_manuel_miranda/01.png", "lin_manuel_miranda/01.png", because=("finger.file_verification",),
            file_photo="lin_manuel_miranda/01.png", file_status="VERIFIED", file_fingers=(9101, 9102),
            live_finger=(9201, 2), scene="close_up")),
        # The same man on his new passport (his file is found by names, birth date and nationality), and this
        # time his own right index finger on the scanner (another touch of the enrolled one): verified, open.
        Scenario("file-fingerprint-verified", traveller(
            "returning traveller's live finger verified against his file", "MIRANDA", "LUIS", "AUS", "S1000033",
            "lin_manuel_miranda/01.png", "lin_manuel_miranda/01.png", "open", because=("finger.file_verification",),
            because_status="pass", file_photo="lin_manuel_miranda/01.png", file_status="VERIFIED",
            file_fingers=(9101, 9102), live_finger=(9101, 2), scene="close_up")),
        # Central holds the facilitator's earlier crossings with changing companions; co-travel analysis
        # finds the ring, an analyst writes a profile from it, and the gate's risk step refers them.
        Scenario("smuggling-ring", like_genuine(
            "smuggling ring's facilitator, profiled from co-travel", "S1000029", "HOLLENBECK", ("risk.score",),
            alerts=("ring",))),
        Scenario("central-down", replace(
            genuine, label="central down: offline, then replayed", document_number="S1000019", surname="HOLLOWELL",
            expected="refer", because=("alerts.document", "alerts.person"), because_status="offline"),
            stops="central"),
        Scenario("matcher-down", replace(
            genuine, label="matcher down", document_number="S1000017", surname="HOLLAR", expected="refer",
            because=("watchlist.face",), because_status="not_done"), stops="matcher"),
    ]


def select(names: list[str] | None, today: dt.date | None = None) -> list[Scenario]:
    """The named scenarios in library order (all when names is empty); ValueError names the unknown ones."""
    library = scenarios(today)
    if not names:
        return library
    known = {s.name for s in library} | {s.name for s in desk_scenarios(today)}  # the desk's: select_desk
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return [s for s in library if s.name in names]


# ---------------------------------------------------------------- the officer desk's scenarios

# The nationality the demo's central treats as visa-required (limes.stack), with no other traveller of it.
DESK_VISA_NATIONALITY = "IND"


@dataclass(frozen=True)
class DeskScenario:
    """A traveller at an officer's counter, what the officer decides, and what must come of it."""

    name: str
    title: str
    traveller: SimulatedTraveller
    decision: str                          # the officer's: admit, refuse or refer
    ground: str = ""                       # refuse: A to J
    stops: str | None = None               # "central": down while the checks run and the officer decides
    visa_days: int | None = None           # a short-stay visa on record at central, this many days of stay
    # What must come of it (None: not judged):
    central_status: str = "ADMITTED"       # the referral holding the officer's decision at central
    form_language: str | None = None       # a refusal form in this language
    stay_regime: str | None = None         # stay.days_left's regime, and with visa_days its last day from the visa
    offline: bool = False                  # the desk must say it works offline, the decision kept and sent later
    # The document: its data page photographed by the reader; the reader's own OCR fails; no chip.
    page_image: bool = False
    reader_reads_mrz: bool = True
    has_chip: bool = True
    fingers_verified: bool = False         # the desk's scanner verified the live finger against the chip's DG3
    visual_zone: str | None = None         # page.visual_zone's status: the printed fields against the MRZ
    pending: str | None = None             # why it cannot pass yet (reported pending while it fails so)

    def __post_init__(self) -> None:
        if self.decision not in ("admit", "refuse", "refer"):
            raise ValueError(f"desk scenario {self.name}: decision must be admit, refuse or refer")
        if self.stops not in (None, "central"):
            raise ValueError(f"desk scenario {self.name}: only central can be stopped")


def desk_scenarios(today: dt.date | None = None) -> list[DeskScenario]:
    today = today or dt.date.today()
    valid = today + dt.timedelta(days=5 * 365)

    def person(surname: str, given: str, state: str, number: str, photo: str, live: str, sex: str = "M"):
        return SimulatedTraveller(f"{given.title()} {surname.title()} at the counter", surname, given, state, sex,
                                  dt.date(1982, 6, 9), number, valid, photo, live, "refer")

    return [
        DeskScenario("desk-refusal", "refused entry with a ground; the form in the traveller's language",
                     person("ROJAS", "MATEO", "MEX", "D2000001", "obama/01.jpg", "obama/03.jpg"), "refuse", "E",
                     central_status="REFUSED", form_language="es"),
        DeskScenario("desk-visa-holder", "visa holder: the authorised stay comes from the visa",
                     person("SHARMA", "PRIYA", DESK_VISA_NATIONALITY, "D2000002", "rose_leslie/01.jpg",
                            "rose_leslie/02.jpg", "F"), "admit", visa_days=15, stay_regime="visa_required"),
        DeskScenario("desk-no-chip", "no chip, MRZ unread by the reader: the MRZ from the page image, admitted",
                     person("OKAFOR", "CHIDI", "NGA", "D2000004", "obama/01.jpg", "obama/03.jpg"), "admit",
                     page_image=True, reader_reads_mrz=False, has_chip=False, visual_zone="pass"),
        # The desk drives its slap scanner as a gate does: Terminal Authentication with its EAC credentials,
        # DG3's right index finger read, the live one verified (fingerprints-verified's seeds: a mated touch).
        DeskScenario("desk-fingerprints", "fingers on the chip: the live finger verified at the counter",
                     replace(person("KRAUSE", "JONAS", "DEU", "D2000005", "obama/01.jpg", "obama/03.jpg"),
                             chip_profile="passport", chip_fingers=(9101, 9102), live_finger=(9101, 2)),
                     "admit", fingers_verified=True),
        DeskScenario("desk-offline", "central down: the desk says so, the decision is kept and sent once back",
                     person("NILSSON", "ERIK", "SWE", "D2000003", "obama/01.jpg", "obama/03.jpg"), "admit",
                     stops="central", offline=True),
    ]


def select_desk(names: list[str] | None, today: dt.date | None = None) -> list[DeskScenario]:
    """The named desk scenarios (all when names is empty); names of the gate's are select()'s."""
    library = desk_scenarios(today)
    return library if not names else [s for s in library if s.name in names]
