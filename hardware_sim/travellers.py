"""The demo's travellers: fictional identities on real face photos.

Each traveller has a document (printed MRZ, chip photo) and a live face the
camera sees. The photos come from the shared faces folder by relative path
(never copied); the names are invented, so no real person's identity is used.
`expected` is what a correct gate decides, `because` the checks that
should decide it, and `because_status` how they must end: the demo prints
them, and the end-to-end test asserts them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from drivers.mrz import generate_td1, generate_td3
from hardware_sim.chip import ChipFaults

# How a `because` check must end for the traveller's case to be made:
#   "fail"      the check ran and failed (the default: the gate found what the case plants);
#   "not_done"  it could not be done, declared only where that is the point (a service down);
#   "offline"   it passed on the gate's offline copy of central's alert lists, which does not
#               open the gate (central down);
#   "pass"      it passed, answered by central (an open case that rests on a check, e.g. the
#               traveller's file verified).
# A check that ends otherwise, a not_done where a failure is declared included, does not make the
# case: an impostor whose face was never captured has not been caught by the face comparison.
BECAUSE_STATUSES = ("fail", "not_done", "offline", "pass")
# The start of the reason of a check answered from the gate's offline copy (edge.policy.OFFLINE_MARK;
# hardware_sim does not import edge).
OFFLINE_MARK = "offline:"


@dataclass(frozen=True)
class SimulatedTraveller:
    label: str
    surname: str
    given_names: str
    nationality: str
    sex: str
    birth_date: dt.date
    document_number: str
    expiry_date: dt.date
    document_photo: str              # relative to the faces folder
    live_face: str | None            # None: nobody in front of the camera
    expected: str                    # "open" or "refer"
    because: tuple[str, ...] = ()    # the checks that decide a referral
    because_status: str = "fail"     # how each of them must end: one of BECAUSE_STATUSES
    # What central knows before they arrive: "stolen", "watchlist", "person"; "ring": they crossed
    # again and again with changing companions, and a risk profile was written from it.
    alerts: tuple[str, ...] = field(default_factory=tuple)
    watchlist_photo: str | None = None
    damage_mrz: bool = False         # a misprinted check digit
    # What else can be wrong with the document or at the gate (the scenario library uses these):
    personalise_faults: tuple[str, ...] = ()    # hardware_sim.chip.personalise.FAULTS, e.g. "altered_dg"
    chip_faults: ChipFaults = ChipFaults()      # how the chip misbehaves in the reader
    untrusted_issuer: bool = False              # signed under a CSCA the gate never received
    chip_names: tuple[str, str] | None = None   # (surname, given names) in DG1 when not the printed ones
    scene: str = "approach"                     # what the camera shows (hardware_sim.camera.SCENES)
    companion_face: str | None = None           # a second person in the gate (scene "two_faces")
    recovers_after_s: float | None = None       # the scene turns to "approach" this long after the document lands
    chip_profile: str = "bac"                   # what the chip offers (hardware_sim.chip.security.PROFILES)
    document_format: str = "TD3"                # "TD3" passport or "TD1" identity card
    # A traveller file central opened at an earlier crossing, from this face photo; `file_as` gives that
    # file's identity (surname, given names, document number) when it is not this traveller's own.
    file_photo: str | None = None
    file_as: tuple[str, str, str] | None = None
    # What central must answer of the traveller's file (the gate's Outcome.traveller_file status), e.g.
    # "VERIFIED": a passed traveller.file check is also a new traveller's, so the status tells them apart.
    file_status: str | None = None
    # Fingers: the seeds of the synthetic fingers DG3 holds (right index, then left index; readable
    # after Terminal Authentication), and (finger seed, touch seed) of the finger laid on the gate's
    # scanner. A live finger whose seed is the chip's first is the same finger, another touch.
    chip_fingers: tuple[int, ...] = ()
    live_finger: tuple[int, int] | None = None
    # The seeds of the fingers a counter desk enrolled in the traveller file (right index, then left index),
    # with `file_photo`: the gate verifies the live finger against them at central when the chip has none.
    file_fingers: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.document_format not in ("TD3", "TD1"):
            raise ValueError(f"{self.label}: document_format must be TD3 or TD1")
        if self.damage_mrz and self.document_format != "TD3":
            raise ValueError(f"{self.label}: damage_mrz is defined for passports (TD3) only")
        if self.because_status not in BECAUSE_STATUSES:
            raise ValueError(f"{self.label}: because_status must be one of {', '.join(BECAUSE_STATUSES)}")

    def mrz(self) -> str:
        text = self._mrz(self.surname, self.given_names)
        if self.damage_mrz:  # flip the document number's check digit (line 2, position 10)
            line1, line2 = text.split("\n")
            wrong = str((int(line2[9]) + 1) % 10)
            text = line1 + "\n" + line2[:9] + wrong + line2[10:]
        return text

    def chip_mrz(self) -> str:
        """The MRZ the chip's DG1 holds: the true one, or one with other names (same number and
        dates, so the BAC key from the printed MRZ still opens the chip)."""
        return self._mrz(*self.chip_names) if self.chip_names else dataclasses.replace(self, damage_mrz=False).mrz()

    def _mrz(self, surname: str, given_names: str) -> str:
        generate, document_type = (generate_td1, "I") if self.document_format == "TD1" else (generate_td3, "P")
        return generate(document_type=document_type, issuing_state=self.nationality, surname=surname,
                        given_names=given_names, document_number=self.document_number,
                        nationality=self.nationality, birth_date=self.birth_date, sex=self.sex,
                        expiry_date=self.expiry_date)


def check_status(check: Mapping[str, str]) -> str:
    """How a check (Check.to_dict()) ended, in the terms of BECAUSE_STATUSES: "offline" for a pass
    answered from the gate's offline copy, else its status ("pass", "fail", "not_done")."""
    if check["status"] == "pass" and check.get("reason", "").startswith(OFFLINE_MARK):
        return "offline"
    return check["status"]


def unmet_because(traveller: SimulatedTraveller, checks: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The traveller's `because` checks that did not end as `because_status` declares, each with how
    it did end ("missing" when the gate never reported it); empty when the case is made."""
    seen = {check["name"]: check_status(check) for check in checks}
    return {name: seen.get(name, "missing") for name in traveller.because
            if seen.get(name) != traveller.because_status}


def demo_travellers(today: dt.date | None = None) -> list[SimulatedTraveller]:
    today = today or dt.date.today()
    valid = (
        today.replace(year=today.year + 5)
        if not (today.month == 2 and today.day == 29)
        else today + dt.timedelta(days=1826)
    )
    # Live faces are photos that pass the gate's quality checks (frontal enough);
    # document photos need only hold a face.
    # Their chips are modern passports (PACE, Chip and Active Authentication); the French one
    # authenticates its chip within PACE (PACE-CAM).
    travellers = [
        SimulatedTraveller("genuine traveller", "HOLLAND", "JAMES ROBERT", "USA", "M", dt.date(1961, 8, 4),
                  "X4829A17", valid, "obama/01.jpg", "obama/03.jpg", "open"),
        SimulatedTraveller("genuine traveller (French)", "MARTIN", "LUC", "FRA", "M", dt.date(1952, 11, 20),
                  "19FR55231", valid, "biden/01.jpg", "biden/02.jpg", "open", chip_profile="pace-cam"),
        # The impostor's face must pass the capture for the comparison to catch them: obama/03.jpg
        # (yaw about 14 degrees), not lin_manuel_miranda/01.png (about 20 of the 25 allowed), whose
        # capture failed on yaw in 3 of 5 demo runs on a loaded machine, leaving the comparison not done.
        SimulatedTraveller("impostor with someone else's passport", "BRENNAN", "JOSEPH", "IRL", "M",
                  dt.date(1986, 12, 26), "PA7731902", valid, "kit_harington/02.jpg",
                  "obama/03.jpg", "refer", ("face.verification",)),
        SimulatedTraveller("expired passport", "GARCIA", "LUCIA", "ESP", "F", dt.date(1987, 2, 9),
                  "PAE118273", today - dt.timedelta(days=40), "rose_leslie/01.jpg", "rose_leslie/02.jpg",
                  "refer", ("document.expiry",)),
        SimulatedTraveller("on the watchlist", "VANCE", "ALEXANDER", "CAN", "M", dt.date(1975, 6, 13),
                  "GC8812345", valid, "alex_lacamoire/02.jpg", "alex_lacamoire/03.jpg", "refer",
                  ("watchlist.face",), alerts=("watchlist",), watchlist_photo="alex_lacamoire/01.png"),
        SimulatedTraveller("passport reported stolen", "HOLLAND", "MICHAEL", "USA", "M", dt.date(1961, 8, 4),
                  "Y5530B21", valid, "obama/07_720p.jpg", "obama/01.jpg", "refer", ("alerts.document",),
                  alerts=("stolen",)),
        SimulatedTraveller("misprinted MRZ check digit", "OKAFOR", "DANIEL", "NGA", "M", dt.date(1950, 3, 2),
                  "A07712345", valid, "kit_harington/01.jpg", "kit_harington/03.jpg", "refer", ("mrz.valid",),
                  damage_mrz=True),
        # The capture runs to its end and fails ("no face"); only the checks that needed a live face
        # (face.liveness, face.verification, watchlist.face) are left not done.
        SimulatedTraveller("nobody in front of the camera", "REYES", "MATEO", "MEX", "M", dt.date(1980, 1, 16),
                  "G33390817", valid, "kit_harington/01.jpg", None, "refer", ("face.capture",),
                  because_status="fail"),
    ]
    return [t if t.chip_profile != "bac" else dataclasses.replace(t, chip_profile="passport") for t in travellers]


# Genuine travellers for timing the gate: different people, each a document photo and another photo
# of the same face live, with invented identities: (document photo, live face, surname, given names,
# sex, birth date). The live faces are the photos of the folder that pass the gate's quality checks
# on their own (drivers.face.quality; obama/03.jpg's pitch, about -21 degrees in the simulated camera,
# is nearest the 25 allowed); no photo of kit_harington does (yaw 27-46 degrees), and
# lin_manuel_miranda has only one.
GENUINE_FACES = (
    ("obama/01.jpg", "obama/03.jpg", "ADLER", "THOMAS", "M", dt.date(1961, 8, 4)),
    ("biden/01.jpg", "biden/02.jpg", "BRUNO", "MARCO", "M", dt.date(1952, 11, 20)),
    ("rose_leslie/01.jpg", "rose_leslie/02.jpg", "CASTELLO", "INES", "F", dt.date(1987, 2, 9)),
    ("alex_lacamoire/02.jpg", "alex_lacamoire/03.jpg", "DUVAL", "PIERRE", "M", dt.date(1975, 6, 13)),
)


def genuine_travellers(count: int, today: dt.date | None = None, **more) -> list[SimulatedTraveller]:
    """`count` genuine travellers, cycling through GENUINE_FACES, each with a document of their own
    (number B0000000, B0000001, ...) and a modern passport chip (PACE, Chip and Active
    Authentication) as the demo's; `more` sets further SimulatedTraveller fields (e.g. the camera's scene)."""
    today = today or dt.date.today()
    valid = today + dt.timedelta(days=5 * 365)
    travellers = []
    for index in range(count):
        document, live, surname, given, sex, born = GENUINE_FACES[index % len(GENUINE_FACES)]
        travellers.append(SimulatedTraveller("genuine traveller", surname, given, "USA", sex, born, f"B{index:07d}",
                                             valid, document, live, "open", chip_profile="passport", **more))
    return travellers
