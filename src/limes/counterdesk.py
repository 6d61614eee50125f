"""An officer desk beside the demo's border post: its own simulated devices (a second reader, chip
reader, camera and fingerprint scanner), the station registered at central with the role desk, an
officer account; and the desk scenarios of `limes sim run` (hardware_sim.scenarios.desk_scenarios)
judged against what happened."""
from __future__ import annotations

import datetime as dt
import secrets
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from edge.desk.counter import Presented
from edge.desk.station import RunningDesk, start_desk
from edge.gate import GateStation
from edge.outbox import Backoff
from edge.runtime import GateConfig
from hardware_sim.devices import SimulatedGateDevices
from hardware_sim.scenarios import DeskScenario
from hardware_sim.travellers import SimulatedTraveller
from limes.stack import Services
from proto.clients import CentralClient, central_pb2

DESK_STATION = GateStation("DEMO-DESK-01", "DEMO-AIRPORT", "ENTRY")
DESK_OFFICER = "desk-officer"
CHECKS_WAIT_S = 30.0
# Reading the MRZ and the visual zone from a page image takes OCR tens of seconds on a loaded machine.
PAGE_IMAGE_WAIT_S = 120.0
REPLAY_TIMEOUT_S = 120.0


@dataclass
class DemoDesk:
    devices: SimulatedGateDevices
    running: RunningDesk
    officer: tuple[str, str]          # user name, password (random, printed by the demo)

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def counter(self):
        return self.running.counter

    def serve(self, traveller: SimulatedTraveller, timeout_s: float = CHECKS_WAIT_S, **document) -> Presented:
        """The traveller hands the document over: the reader reads it, every check is shown. `document`:
        SimulatedGateDevices.step_up's page_image, reader_reads_mrz and has_chip."""
        before = self.counter.current
        self.devices.step_up(traveller, **document)
        deadline = time.monotonic() + timeout_s
        try:
            while True:
                current = self.counter.current
                if current is not before and current is not None and current.complete.wait(0.05):
                    return current
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the desk showed no complete checks within {timeout_s:.0f} s")
        finally:
            self.devices.take_back()


def register_desk(database_url: str, station: str = DESK_STATION.station_id, officer: str = DESK_OFFICER
                  ) -> tuple[str, str]:
    """The desk station's role and an officer's account (a fresh random password): (user, password)."""
    from central.access import roles as access
    from central.access.audit import Caller
    from central.database.engine import Database
    from central.database.models import utcnow
    from central.web.accounts import set_password

    password = secrets.token_urlsafe(12)

    def work(session) -> None:
        access.grant(session, access.Kind.STATION, station, access.Role.DESK)
        access.grant(session, access.Kind.USER, officer, access.Role.OFFICER)
        set_password(session, Caller("demo", "demo"), officer, password, utcnow())
    database = Database(database_url)
    try:
        database.run(work)
    finally:
        database.dispose()
    return officer, password


@contextmanager
def demo_desk(post, state_dir: Path, faces: Path, *, screen: str = "127.0.0.1:0",
              nationalities: tuple[str, ...] = (), sign_in: bool = True) -> Iterator[DemoDesk]:
    """The desk beside the border post's gate (limes.borderpost.BorderPost), with devices of its own (the
    chip reader: the second slot of the gate's pcscd) and an officer; with sign_in, the officer signed in
    already (scenarios, bench)."""
    services: Services = post.services
    officer = register_desk(services.database_url)
    with SimulatedGateDevices(faces, state_dir / "desk", settle_s=0.0, beside=post.devices) as devices:
        for state in nationalities:  # every issuing state's CSCA in the desk's trust folder before it loads it
            devices.issuing_pki(state)
        running = start_desk(GateConfig(
            station=DESK_STATION, reader_url=devices.reader_port, camera_source=devices.camera_url,
            chip_reader=devices.chip_reader, csca_paths=(devices.csca_dir,),
            central_address=services.central_address, matcher_address=services.matcher_address,
            tls=services.station_tls(DESK_STATION.station_id), state_dir=state_dir / "desk-edge",
            key_file=state_dir / "keys" / "desk.key", alert_refresh_s=5.0,
            outbox_backoff=Backoff(first_s=0.2, most_s=2.0),
            # The desk's own simulated slap scanner, as the gate's: fingers verified against the chip's DG3
            # (with the post's EAC terminal) or the traveller file's, and enrolled at the counter.
            fingerprint_scanner=devices.scanner_port, eac_terminal=devices.eac_dir), screen)
        try:
            desk = DemoDesk(devices, running, officer)
            if sign_in:
                desk.counter.sign_in(*officer)
            yield desk
        finally:
            running.close()


# ---------------------------------------------------------------- the desk scenarios

def run_desk_scenarios(post, desk: DemoDesk, chosen: list[DeskScenario],
                       progress: Callable[[dict], None] | None = None) -> list[dict]:
    results = []
    for scenario in sorted(chosen, key=lambda s: s.stops is not None):
        result = run_desk_scenario(post, desk, scenario)
        results.append(result)
        if progress:
            progress(result)
    return results


def run_desk_scenario(post, desk: DemoDesk, scenario: DeskScenario) -> dict:
    """The traveller at the counter, the officer's decision, each expected outcome against the actual one."""
    started = time.perf_counter()
    found: list[tuple[str, object, object]] = []  # (what, expected, actual)
    try:
        if scenario.visa_days is not None:
            _seed_visa(post.services.database_url, scenario.traveller, scenario.visa_days)
        if scenario.stops == "central":
            _wait_for_alert_cache(desk)
            post.services.central_server.stop(grace=0).wait()
        presented = desk.serve(scenario.traveller, PAGE_IMAGE_WAIT_S if scenario.page_image else CHECKS_WAIT_S,
                               page_image=scenario.page_image, reader_reads_mrz=scenario.reader_reads_mrz,
                               has_chip=scenario.has_chip)
        summary = desk.counter.summary(presented)
        if not scenario.has_chip:
            found.append(("chip shown absent", True, summary["no_chip"]))
        if not scenario.reader_reads_mrz:
            found.append(("MRZ read from the page image", True, summary["mrz_from_image"]))
            if not summary["mrz_from_image"]:
                page = next((c for c in presented.checks if c.name == "page.mrz"), None)
                raise RuntimeError(f"no MRZ to decide on: {page.reason if page else 'no page image read'}")
        decided = desk.counter.decide(scenario.decision, ground=scenario.ground)
        if scenario.stops == "central":
            found.append(("desk says offline", True, summary["offline"]))
            found.append(("decision kept at the desk", "pending", decided["state"]))
            found.append(("not checked listed", True, bool(summary["not_checked"])))
            post.restart_central()
            desk.running.running.outbox.wake()
            delivered = desk.running.running.outbox.wait_until_delivered(timeout=REPLAY_TIMEOUT_S)
            found.append(("outbox drained once central is back", True, delivered))
            traveller = scenario.traveller
            found.append(("crossings recorded at central", 1, post.crossings_at_central(
                presented.transaction_id, traveller.document_number, traveller.nationality)))
        else:
            found.append(("decision sent", "delivered", decided["state"]))
        found.append(("decision at central", scenario.central_status, _status_at_central(post, presented)))
        if scenario.form_language is not None:
            found.append(("refusal form", f"PDF in {scenario.form_language}",
                          f"PDF in {decided.get('form_language')}" if (presented.refusal_pdf or b"")
                          .startswith(b"%PDF") else "none"))
        if scenario.visual_zone is not None:
            printed = next((c for c in presented.checks if c.name == "page.visual_zone"), None)
            compared = ("no page.visual_zone check" if printed is None else printed.status.value
                        if printed.status.value == scenario.visual_zone
                        else f"{printed.status.value}: {printed.reason}")
            found.append(("visual zone against the MRZ", scenario.visual_zone, compared))
        if scenario.fingers_verified:
            finger = next((c for c in presented.checks if c.name == "finger.verification"), None)
            verified = ("no finger.verification check" if finger is None else finger.status.value
                        if finger.status.value == "pass" else f"{finger.status.value}: {finger.reason}")
            found.append(("live finger against the chip's", "pass", verified))
        if scenario.stay_regime is not None:
            stay = next((c for c in presented.checks if c.name == "stay.days_left"), None)
            regime = scenario.stay_regime if stay is not None and scenario.stay_regime in stay.reason else (
                stay.reason if stay is not None else "no stay check")
            found.append(("stay regime", scenario.stay_regime, regime))
            if scenario.visa_days is not None:
                last = (dt.date.today() + dt.timedelta(days=scenario.visa_days - 1)).isoformat()
                found.append(("last day from the visa", last, last if stay is not None and last in stay.reason
                              else (stay.reason if stay is not None else "none")))
        note = ""
    except Exception as exc:  # the run broke: this scenario's failure
        note = f"the run broke: {type(exc).__name__}: {exc}"
    unmet = [f"{what}: expected {expected}, got {actual}" for what, expected, actual in found if expected != actual]
    passed = not note and not unmet
    # A pending scenario fails as its reason says (reported, the run not failed) until it passes ("fixed").
    status = ("fixed" if passed else "pending") if scenario.pending else ("pass" if passed else "fail")
    ok = status in ("pass", "pending")
    if scenario.pending and not passed:
        note = scenario.pending + (f"; {note}" if note else "")
    return {"scenario": scenario.name, "title": scenario.title, "status": status, "ok": ok,
            "expected": scenario.decision, "decision": scenario.decision if not note else None,
            "outcomes": [{"what": w, "expected": str(e), "actual": str(a)} for w, e, a in found],
            "unmet": unmet, "note": note, "seconds": round(time.perf_counter() - started, 2)}


def _status_at_central(post, presented: Presented) -> str:
    client = CentralClient(post.services.central_address, timeout=10, tls=post.services.user_tls("limes-sim"),
                           metadata=(("x-limes-purpose", "scenario: the desk's decision at central"),))
    try:
        referral = client.call("GetReferral", central_pb2.GetReferralRequest(referral_id=presented.transaction_id))
    finally:
        client.close()
    return central_pb2.Referral.Status.Name(referral.status)


def _seed_visa(database_url: str, traveller: SimulatedTraveller, duration_days: int) -> None:
    from central.database.engine import Database
    from central.database.models import PermitKind
    from central.records import overstay

    today = dt.date.today()
    database = Database(database_url)
    try:
        database.run(lambda session: overstay.add_permitted_stay(
            session, traveller.nationality, traveller.document_number, today - dt.timedelta(days=1),
            today + dt.timedelta(days=90), "scenario desk-visa-holder", PermitKind.SHORT_STAY_VISA,
            entries=None, duration_days=duration_days))
    finally:
        database.dispose()


def _wait_for_alert_cache(desk: DemoDesk, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while desk.running.running.alerts.synced_at is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the desk's alert cache did not load from central")
        time.sleep(0.1)
