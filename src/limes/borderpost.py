"""A whole border post on one machine: central, matcher, the simulated devices
of one e-gate, and the gate itself, wired only through their real interfaces.

Used by `limes demo` and the end-to-end tests.
"""
from __future__ import annotations

import datetime as dt
import time
import uuid
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from edge.gate import GateStation
from edge.outbox import Backoff
from edge.runtime import GateConfig, RunningGate, start_gate
from hardware_sim.devices import SETTLE_S, SimulatedGateDevices
from hardware_sim.travellers import SimulatedTraveller, demo_travellers, unmet_because
from limes.stack import (
    DEFAULT_CENTRAL_PORT,
    DEFAULT_MATCHER_PORT,
    DEFAULT_WEB_PORT,
    DEMO_ADMINISTRATOR,
    TRAVELLER_FINGERS,
    TRAVELLERS,
    WATCHLIST,
    Services,
    local_services,
    restart_central,
)
from proto.clients import CentralClient, MatcherClient, central_pb2, matcher_pb2

DOCUMENT_WAIT_S = 5.0
# How often the demo gate refreshes its cached alert lists (a deployed gate: a minute or so).
GATE_ALERT_REFRESH_S = 5.0
# The identity a watchlist traveller is wanted under: not the name on the passport they travel on,
# so only the face finds them.
WANTED_AS = dict(surname="KOVAC", given_names="ALEKSANDAR", birth_date="1974-02-11", nationality="HRV")


@dataclass
class BorderPost:
    services: Services
    devices: SimulatedGateDevices
    running: RunningGate
    travellers: list[SimulatedTraveller]

    @property
    def reader_port(self) -> str:
        return self.devices.reader_port

    @property
    def camera_url(self) -> str:
        return self.devices.camera_url

    def run_travellers(self, progress: Callable[[int, int, dict], None] | None = None) -> list[dict]:
        results = []
        for index, traveller in enumerate(self.travellers, 1):
            result = self.pass_through(traveller)
            results.append(result)
            if progress:
                progress(index, len(self.travellers), result)
        return results

    def wait_for_alert_cache(self, timeout_s: float = 60.0) -> None:
        """Until the gate has loaded central's alert lists once (it does so in the background at start)."""
        deadline = time.monotonic() + timeout_s
        while self.running.alerts.synced_at is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the gate's alert cache did not load from central within {timeout_s:.0f} s")
            time.sleep(0.1)

    def restart_central(self) -> None:
        """Central started again on its address and database, after a scenario or test stopped it."""
        self.services = restart_central(self.services)

    def crossings_at_central(self, crossing_id: str, document_number: str, issuing_state: str) -> int:
        """How many times central holds this crossing (0 when the document has no such crossing)."""
        # Read as an officer would (the demo's open access), the purpose written to central's audit log.
        client = CentralClient(self.services.central_address, timeout=10, tls=self.services.user_tls("limes-sim"),
                               metadata=(("x-limes-purpose", "scenario: did the offline crossing reach central"),))
        try:
            history = client.call("GetTravellerHistory", central_pb2.GetTravellerHistoryRequest(
                document=central_pb2.TravelDocument(number=document_number, issuing_state=issuing_state)))
        finally:
            client.close()
        return sum(crossing.crossing_id == crossing_id for crossing in history.crossings)

    def pass_through(self, traveller: SimulatedTraveller) -> dict:
        """One traveller: step up, the gate reads the document from the serial line and decides."""
        started = time.perf_counter()
        self.devices.step_up(traveller)
        try:
            mrz_text = self.running.reader.wait_for_document(DOCUMENT_WAIT_S)
            if mrz_text is None:
                raise RuntimeError("the gate received no document from the reader")
            outcome = self.running.gate.process(mrz_text)
        finally:
            self.devices.take_back()
        # The case is made by the expected decision with each `because` check ending as declared
        # (failed, unless the traveller declares not_done or offline): a check not done is no failure.
        unmet = unmet_because(traveller, [c.to_dict() for c in outcome.checks])
        as_expected = outcome.decision.value == traveller.expected and not unmet
        name = f"{outcome.traveller['surname']}, {outcome.traveller['given_names']} " \
               f"({outcome.traveller['nationality']})" if outcome.traveller else ""
        return {
            "label": traveller.label,
            "traveller": name,
            "decision": outcome.decision.value,
            "expected": traveller.expected,
            "as_expected": as_expected,
            "because": list(traveller.because),
            "because_status": traveller.because_status,
            "because_unmet": unmet,  # a `because` check -> how it ended instead of as declared
            "reasons": outcome.reasons,
            "message": outcome.display[-1],  # what the gate's screen showed last
            "recorded": outcome.recorded,
            "seconds": round(time.perf_counter() - started, 2),
            "outcome": outcome.to_dict(),
        }


def seed_alerts(services: Services, travellers: list[SimulatedTraveller], faces: Path) -> None:
    """What the authorities already know: a stolen passport on central's document list, a person
    on its person list, and a wanted person whose face is enrolled from a photo into the
    matcher's watchlist through central (which keeps the photo for officers)."""
    from central.access.audit import Caller
    from central.alerts.lists import enrol_alert_face
    from central.alerts.matcher_client import GrpcFaceMatcher
    from central.database.engine import Database
    from drivers.face import default_encoder

    encoder = default_encoder()
    admin = services.user_tls(DEMO_ADMINISTRATOR)
    matcher = MatcherClient(services.matcher_address, tls=admin, timeout=10)
    central = CentralClient(services.central_address, tls=admin)
    # Central's own side of the enrolment: it calls the matcher under the services' certificate.
    enroller = GrpcFaceMatcher(services.matcher_address, WATCHLIST, tls=services.server_tls, timeout=10)
    database = Database(services.database_url, sealer=services.sealer())
    try:
        for gallery in (WATCHLIST, TRAVELLERS):
            matcher.create_gallery(gallery, model=encoder.name, model_version=encoder.version,
                                   dimension=encoder.dimension, threshold=0.5)
        matcher.stub.CreateFingerGallery(matcher_pb2.CreateFingerGalleryRequest(gallery=TRAVELLER_FINGERS),
                                         timeout=matcher.timeout)
        for traveller in travellers:
            if traveller.file_photo:
                file_id = seed_traveller_file(services, traveller, faces / traveller.file_photo)
                if traveller.file_fingers:
                    database.run(lambda session: seed_file_fingers(session, services, file_id, traveller.file_fingers))
            if "watchlist" in traveller.alerts:
                alert = central.call("AddPersonAlert", central_pb2.AddPersonAlertRequest(
                    **WANTED_AS, reason=central_pb2.PersonAlert.ARREST,
                    handling_instruction="European Arrest Warrant: detain discreetly, call the duty officer.",
                    issuing_agency="Limes test authority"))
                photo = (faces / traveller.watchlist_photo).read_bytes()
                database.run(lambda session: enrol_alert_face(
                    session, Caller("demo", DEMO_ADMINISTRATOR), alert.alert_id, photo, enroller))
            if "stolen" in traveller.alerts:
                central.call("AddDocumentAlert", central_pb2.AddDocumentAlertRequest(
                    document_number=traveller.document_number, document_type="P",
                    issuing_state=traveller.nationality, reason=central_pb2.DocumentAlert.STOLEN,
                    handling_instruction="Seize the document; refer to the duty officer.",
                    issuing_agency=f"{traveller.nationality} passport office"))
            if "ring" in traveller.alerts:
                database.run(lambda session: seed_ring(session, traveller, GateStation()))
            if "person" in traveller.alerts:
                central.call("AddPersonAlert", central_pb2.AddPersonAlertRequest(
                    surname=traveller.surname, given_names=traveller.given_names,
                    birth_date=traveller.birth_date.isoformat(), nationality=traveller.nationality,
                    reason=central_pb2.PersonAlert.ENTRY_BAN,
                    handling_instruction="Refuse entry; refer to the duty officer.",
                    issuing_agency="Limes test authority"))
    finally:
        matcher.close()
        central.close()
        enroller.close()
        database.dispose()


def seed_traveller_file(services: Services, traveller: SimulatedTraveller, photo: Path) -> str:
    """A traveller file opened at an earlier crossing, as the post's gate opened it: an entry 40 days
    ago and the exit 30 days ago, recorded, then the file enrolled from the photo; its file id."""
    import datetime as dt
    import uuid

    from central.records.evidence import to_jpeg
    from drivers.face import encode_face, load_image
    from edge.gate import GateStation
    from proto.clients import face_template

    surname, given_names, number = traveller.file_as or (traveller.surname, traveller.given_names,
                                                         traveller.document_number)
    # Another identity is another person: its own birth date too, so no name join links the two.
    born = traveller.birth_date - dt.timedelta(days=400) if traveller.file_as else traveller.birth_date
    station = GateStation()
    gate = CentralClient(services.central_address, tls=services.station_tls(station.station_id))
    now = dt.datetime.now(dt.timezone.utc)
    try:
        crossings = []
        for days_ago, direction in ((40, central_pb2.Crossing.ENTRY), (30, central_pb2.Crossing.EXIT)):
            crossing_id = str(uuid.uuid4())
            gate.call("RecordCrossing", central_pb2.RecordCrossingRequest(
                crossing_id=crossing_id, station_id=station.station_id, border_point=station.border_point,
                direction=direction, occurred_at=(now - dt.timedelta(days=days_ago)).isoformat(),
                document=central_pb2.TravelDocument(number=number, type="P", issuing_state=traveller.nationality,
                                                    expiry_date=traveller.expiry_date.isoformat()),
                traveller=central_pb2.Traveller(surname=surname, given_names=given_names,
                                                nationality=traveller.nationality, sex=traveller.sex,
                                                birth_date=born.isoformat()),
                decision=central_pb2.Crossing.OPEN))
            crossings.append(crossing_id)
        image = load_image(photo)
        template = encode_face(image)
        reply = gate.call("EnrolTraveller", central_pb2.EnrolTravellerRequest(
            crossing_id=crossings[0], face=face_template(template.vector, template.model, template.model_version),
            live_capture_jpeg=to_jpeg(image)))
        if not reply.file_id:
            raise RuntimeError(f"no traveller file seeded for {surname}: {reply.reason}")
        return reply.file_id
    finally:
        gate.close()


def seed_file_fingers(session, services: Services, file_id: str, seeds: tuple[int, ...]) -> None:
    """The fingers a counter desk's officer enrolled in the file at its first crossing (one touch of each
    synthetic finger, at the right and left index positions), through central's own enrolment."""
    from sqlalchemy import select

    from central.access.audit import Caller
    from central.database import models as m
    from central.travellers.fingerprints import CapturedFinger, enrol_fingers
    from drivers.fingerprint import iso19794_2, minutiae, quality, wsq
    from hardware_sim.devices import CHIP_FINGER_POSITIONS
    from hardware_sim.fingerprint_scanner import finger_image
    from limes.stack import demo_stay_rules

    fingers = []
    for position, seed in zip(CHIP_FINGER_POSITIONS, seeds):
        image = finger_image(seed, 1)
        fingers.append(CapturedFinger(position, iso19794_2.encode(minutiae.extract(image, position)),
                                      wsq.encode(image), quality.assess(image).score))
    first_crossing = session.scalar(select(m.Crossing.crossing_id).join(
        m.TravellerFile, m.TravellerFile.first_crossing_id == m.Crossing.id).where(m.TravellerFile.file_id == file_id))
    enrolled = enrol_fingers(session, Caller("", "demo-officer"), first_crossing, fingers, services.finger_gallery,
                             rules=demo_stay_rules())
    if enrolled.file_id != file_id:
        raise RuntimeError(f"the fingers of file {file_id} were not seeded: {enrolled.reason}")


DEMO_WEB_USERS = {"officer": "demo-officer", "supervisor": "demo-supervisor", "analyst": "demo-analyst",
                  "intelligence": "demo-intel", "administrator": DEMO_ADMINISTRATOR}
# The analyst's world the demo seeds: a year of synthetic crossings with planted rings.
DEMO_WORLD_CROSSINGS, DEMO_WORLD_RINGS = 30_000, 5


def seed_web_users(database_url: str, users: dict[str, str] = DEMO_WEB_USERS) -> dict[str, tuple[str, str]]:
    """One web desk user per role with a fresh random password: {role: (user, password)}."""
    import secrets

    from central.access import roles as access
    from central.access.audit import Caller
    from central.database.engine import Database
    from central.database.models import utcnow
    from central.web.accounts import set_password

    database = Database(database_url)
    accounts = {role: (user, secrets.token_urlsafe(12)) for role, user in users.items()}

    def work(session) -> None:
        for role, (user, password) in accounts.items():
            access.grant(session, access.Kind.USER, user, access.Role(role))
            set_password(session, Caller("demo", "demo"), user, password, utcnow())
    try:
        database.run(work)
    finally:
        database.dispose()
    return accounts


RING_TRIPS, RING_WINDOW = 6, dt.timedelta(minutes=10)


def seed_ring(session, facilitator: SimulatedTraveller, station: GateStation,
              now: dt.datetime | None = None) -> str | None:
    """The facilitator's earlier crossings at the station's border point, each time with two of four
    companions; then what an analyst does: co-travel analysis over them and, when it finds the
    facilitator's ring, a risk profile written from it (their route and travel pattern). The profile's
    name, or None when the analysis found no ring (and the gate will have no reason to refer)."""
    from central.access.audit import Caller
    from central.database import models as m
    from central.intelligence import targeting
    from central.intelligence.network import CoTravelQuery, co_travel_groups
    from central.records import gate_calls
    from central.risk.rules import RiskRules
    from drivers.alertmatch.normalize import name_key

    now = now or dt.datetime.now(dt.timezone.utc)
    gate = Caller(station.station_id, "")
    companions = [(f"COMPANION{n}", dt.date(2001 + n, 5, 1)) for n in range(4)]
    for trip in range(RING_TRIPS):
        when = now - dt.timedelta(days=8 * (RING_TRIPS - trip), hours=3)
        party = [(facilitator.surname, facilitator.given_names, facilitator.birth_date, facilitator.document_number,
                  facilitator.nationality)] + [
            (surname, "ANON", born, f"R{surname[-1]}{born.year}", "XXA")
            for surname, born in (companions[(2 * trip) % 4], companions[(2 * trip + 1) % 4])]
        for minute, (surname, given, born, number, nationality) in enumerate(party):
            gate_calls.record_crossing(session, gate, gate_calls.NewCrossing(
                crossing_id=str(uuid.uuid4()), station=station.station_id, border_point=station.border_point,
                direction=m.Direction.ENTRY, occurred_at=when + dt.timedelta(minutes=minute),
                document=gate_calls.DocumentData(number, "P", nationality, None),
                traveller=gate_calls.TravellerData(surname, given, nationality, "M", born),
                decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=0.9), RiskRules.load(None))
    analyst = Caller("demo", DEMO_WEB_USERS["intelligence"])
    key = name_key(facilitator.surname, facilitator.given_names)
    groups = co_travel_groups(session, analyst, CoTravelQuery(window=RING_WINDOW, min_together=3), now)
    ring = next((g for g in groups if any(t.name_key == key for t in g.members)), None)
    if ring is None:
        return None
    profile = targeting.write_profile(session, analyst, f"ring of {facilitator.surname}", {
        "route": [f"{station.border_point} ENTRY"], "nationality": [facilitator.nationality],
        "travel_pattern": {"min_crossings": RING_TRIPS // 2, "within_days": 8 * RING_TRIPS + 7}}, 0.6,
        f"co-travel: {len(ring.members)} travellers crossing together at {station.border_point}")
    return profile.name


def seed_analyst_world(database_url: str, crossings: int = DEMO_WORLD_CROSSINGS, rings: int = DEMO_WORLD_RINGS,
                       now: dt.datetime | None = None) -> dict:
    """A year of synthetic crossings up to now with planted rings, clearances for the demo's intelligence
    analyst and supervisor (unit RAU), a report on the first ring and a profile written from it."""
    from central.access.audit import Caller
    from central.database.engine import Database
    from central.intelligence import clearance, targeting, weekly_counts
    from central.intelligence import reports as intel
    from central.intelligence.grading import grade
    from limes.synthetic_crossings import POINTS, load, world

    now = now or dt.datetime.now(dt.timezone.utc)
    data = world(crossings, rings, start=now - dt.timedelta(days=366))
    analyst = Caller("demo", DEMO_WEB_USERS["intelligence"])
    database = Database(database_url)

    def work(session) -> dict:
        ids = load(session, data).travellers
        weekly_counts.refresh(session, Caller("demo", "demo"), now)
        for role in ("intelligence", "supervisor"):
            clearance.set_clearance(session, Caller("demo", "demo"), DEMO_WEB_USERS[role], "RAU", "SECRET")
        ring = sorted(data.groups[0])
        report = intel.file_report(session, analyst, clearance.reader(session, analyst.user), intel.NewReport(
            "officer", grade("1", "B", "C", "to national police only"), "RESTRICTED",
            "The same man was seen at the gates with different young companions every few weeks; "
            "they paid for each other's tickets in cash.", now.date() + dt.timedelta(days=180),
            sanitised_text="A facilitator is suspected of escorting small groups through one airport.",
            links=tuple(("person", str(ids[t])) for t in ring[:3]) + (("route", "IST-FRA"),)), now.date())
        point = POINTS[data.point[data.traveller == ring[0]][0]]  # the facilitator's (lowest id)
        targeting.write_profile(session, analyst, "escorted groups", {
            "route": [f"{point} ENTRY"], "travel_pattern": {"min_crossings": 3, "within_days": 180}},
            0.6, f"from report {report.reference}")
        return {"crossings": len(data), "rings": len(data.groups), "report": report.reference}
    try:
        return database.run(work)
    finally:
        database.dispose()


@contextmanager
def demo_border_post(state_dir: Path, faces: Path, *, fixed_ports: bool = False,
                     travellers: list[SimulatedTraveller] | None = None,
                     settle_s: float = SETTLE_S, web: bool = False) -> Iterator[BorderPost]:
    """The border post; with `web`, central's web desk too (on DEFAULT_WEB_PORT with fixed_ports)."""
    travellers = travellers if travellers is not None else demo_travellers()
    ports = dict(central_port=DEFAULT_CENTRAL_PORT, matcher_port=DEFAULT_MATCHER_PORT) if fixed_ports else {}
    if web:
        ports["web_port"] = DEFAULT_WEB_PORT if fixed_ports else 0
    with ExitStack() as stack:
        # Devices first: pcscd is a child process, best forked before gRPC starts its threads.
        devices = stack.enter_context(SimulatedGateDevices(faces, state_dir, settle_s=settle_s))
        services = stack.enter_context(local_services(state_dir, **ports))
        seed_alerts(services, travellers, faces)
        for traveller in travellers:  # publish every issuing state's CSCA before the gate loads its trust list
            devices.issuing_pki(traveller.nationality)
        # The gate keeps its outbox and alert cache in the state folder, as a deployed gate does.
        station = GateStation()
        running = start_gate(GateConfig(
            station=station, reader_url=devices.reader_port, camera_source=devices.camera_url,
            chip_reader=devices.chip_reader, csca_paths=(devices.csca_dir,),
            central_address=services.central_address, matcher_address=services.matcher_address,
            tls=services.station_tls(station.station_id),
            state_dir=state_dir / "edge", key_file=state_dir / "keys" / "gate.key",
            alert_refresh_s=GATE_ALERT_REFRESH_S,
            outbox_backoff=Backoff(first_s=0.2, most_s=2.0),
            fingerprint_scanner=devices.scanner_port, eac_terminal=devices.eac_dir))
        post = BorderPost(services, devices, running, travellers)
        # A central restarted by a scenario is the post's to stop (local_services stops the first one).
        stack.callback(lambda: post.services.central_server.stop(grace=1).wait())
        stack.callback(lambda: post.running.close())
        yield post
