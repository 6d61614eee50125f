"""Traveller files under the retention purge: three years after the last crossing, five after an overstay;
the files' faces go with them, statistics stay, and the purged files' ids are reported for the matcher."""
from __future__ import annotations

import datetime as dt
import io
import uuid

from sqlalchemy import func, select, update

from central.access import audit as audit_log
from central.access.retention import RetentionPolicy, purge
from central.alerts.face_matcher import FaceQuery
from central.database import models as m
from central.database.engine import Database
from central.records import gate_calls
from central.risk.rules import RiskRules
from central.stays.regime import StayRules
from central.travellers import files

GATE = audit_log.Caller("FRA-T1-G03", "")
TODAY = dt.date(2026, 12, 6)


class Gallery:
    def search(self, face):
        return []

    def enrol(self, subject_id, face):
        pass


def jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 50), (90, 120, 150)).save(out, format="JPEG")
    return out.getvalue()


def enter(database: Database, surname: str, number: str, days_ago: int) -> str:
    """A third-country national's crossing `days_ago`, and their file opened from it; the file id."""
    crossing_id = str(uuid.uuid4())
    new = gate_calls.NewCrossing(
        crossing_id=crossing_id, station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.ENTRY,
        occurred_at=dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(9), dt.timezone.utc),
        document=gate_calls.DocumentData(number, "P", "USA", None),
        traveller=gate_calls.TravellerData(surname, "JAMES", "USA", "M", dt.date(1975, 3, 14)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)

    def work(session):
        gate_calls.record_crossing(session, GATE, new, RiskRules.load(None))
        return files.enrol(session, GATE, crossing_id, FaceQuery((0.1,) * 128, "m", "1"), jpeg(), Gallery(),
                           StayRules()).file_id
    return database.run(work)


def test_files_go_three_years_after_the_last_crossing_or_five_after_an_overstay(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    database.migrate()
    recent = enter(database, "RECENT", "U1", days_ago=100)
    stale = enter(database, "STALE", "U2", days_ago=1200)
    overstayed = enter(database, "OVERSTAYED", "U3", days_ago=1200)
    database.run(lambda s: s.execute(update(m.TravellerFile).where(m.TravellerFile.file_id == overstayed)
                                     .values(overstay=True)))

    dry = database.run(lambda s: purge(s, TODAY, RetentionPolicy(), dry_run=True))
    assert dry.traveller_files_deleted == 1 and dry.traveller_file_ids == (stale,)
    report = database.run(lambda s: purge(s, TODAY, RetentionPolicy()))
    assert report.traveller_file_ids == (stale,) and report.crossings_deleted == 1 and report.face_images_deleted == 1

    def left(session):
        return (sorted(session.scalars(select(m.TravellerFile.file_id))),
                session.scalar(select(func.count()).select_from(m.FaceImage)),
                session.scalar(select(func.sum(m.CrossingAggregate.count))))
    kept_files, images, aggregated = database.run(left)
    assert kept_files == sorted([recent, overstayed]) and images == 2 and aggregated == 1

    # Five years on from the overstayer's crossing, their file goes too.
    later = database.run(lambda s: purge(s, TODAY + dt.timedelta(days=700), RetentionPolicy()))
    assert later.traveller_file_ids == (overstayed,)  # the recent file: 800 days since its crossing, kept
    database.dispose()


def test_a_file_outlives_its_first_crossing_while_later_ones_are_kept(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    database.migrate()
    file_id = enter(database, "FREQUENT", "U4", days_ago=1200)
    _leave(database, "FREQUENT", "U4", days_ago=1150)  # within the 90 days: no overstay, three years' retention
    # The same traveller comes again last month: the file stays, its first stay's crossings go.
    again = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.ENTRY,
        occurred_at=dt.datetime.combine(TODAY - dt.timedelta(days=30), dt.time(9), dt.timezone.utc),
        document=gate_calls.DocumentData("U4", "P", "USA", None),
        traveller=gate_calls.TravellerData("FREQUENT", "JAMES", "USA", "M", dt.date(1975, 3, 14)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    database.run(lambda s: gate_calls.record_crossing(s, GATE, again, RiskRules.load(None)))
    report = database.run(lambda s: purge(s, TODAY, RetentionPolicy()))
    assert report.crossings_deleted == 2 and report.traveller_file_ids == ()
    file = database.run(lambda s: s.scalar(select(m.TravellerFile)))
    assert file.file_id == file_id and file.first_crossing_id is None
    database.dispose()


def test_file_templates_are_resealed_under_a_new_key(tmp_path):
    from common.sealing import Sealer

    old, new = bytes(range(32)), bytes(range(1, 33))
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    first = Database(url, sealer=Sealer({"k1": old}, "k1"))
    first.migrate()
    enter(first, "SEALED", "U5", days_ago=1)
    before = first.run(lambda s: files.template_of(s, s.scalar(select(m.TravellerFile))))
    first.dispose()
    rotated = Database(url, sealer=Sealer({"k1": old, "k2": new}, "k2"))
    assert rotated.run(lambda s: files.reseal_templates(s)) == 1
    assert rotated.run(lambda s: files.reseal_templates(s)) == 0
    row = rotated.run(lambda s: s.scalar(select(m.TravellerFile)))
    assert rotated.sealer.is_current(row.template)
    after = rotated.run(lambda s: files.template_of(s, s.scalar(select(m.TravellerFile))))
    assert (after == before).all()
    rotated.dispose()


def test_the_purge_command_takes_the_purged_files_faces_out_of_the_matcher(tmp_path, capsys):
    import json

    import grpc

    from limes.cli import main
    from matcher.server import serve
    from proto.limes.v1 import common_pb2, matcher_pb2, matcher_pb2_grpc

    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    database = Database(url)
    database.migrate()
    stale, recent = enter(database, "STALE", "U6", days_ago=1200), enter(database, "RECENT", "U7", days_ago=10)
    database.dispose()
    server, port = serve("127.0.0.1:0", tmp_path / "matcher", plaintext=True, background=False)
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        stub = matcher_pb2_grpc.MatcherStub(channel)
        stub.CreateGallery(matcher_pb2.CreateGalleryRequest(gallery="travellers", model="m", model_version="1",
                                                            dimension=128), timeout=10)
        for n, file_id in enumerate((stale, recent)):
            face = common_pb2.FaceTemplate(vector=[0.01 * n] * 128, model="m", model_version="1")
            stub.Enrol(matcher_pb2.EnrolRequest(gallery="travellers", subject_id=file_id, template=face), timeout=10)
        assert main(["central", "purge", "--today", TODAY.isoformat(), "--database", url, "--matcher",
                     f"127.0.0.1:{port}", "--plaintext", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["traveller_file_ids"] == [stale] and report["removed_from_matcher"]
        assert report["left_in_matcher"] == []
        assert stub.GalleryStats(matcher_pb2.GalleryStatsRequest(gallery="travellers"), timeout=10).size == 1
    finally:
        channel.close()
        server.stop(0).wait()
        server.registry.close()


def _leave(database: Database, surname: str, number: str, days_ago: int) -> None:
    new = gate_calls.NewCrossing(
        crossing_id=str(uuid.uuid4()), station="FRA-T1-G03", border_point="FRA-T1", direction=m.Direction.EXIT,
        occurred_at=dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(9), dt.timezone.utc),
        document=gate_calls.DocumentData(number, "P", "USA", None),
        traveller=gate_calls.TravellerData(surname, "JAMES", "USA", "M", dt.date(1975, 3, 14)),
        decision=m.GateDecision.OPEN, reasons=[], checks=[], face_score=None)
    database.run(lambda s: gate_calls.record_crossing(s, GATE, new, RiskRules.load(None)))


def _flag(database: Database, file_id: str) -> bool:
    return database.run(lambda s: s.scalar(select(m.TravellerFile.overstay).where(m.TravellerFile.file_id == file_id)))


def test_an_overstay_marks_the_travellers_file_for_the_longer_retention(tmp_path):
    """Recorded at the exit (more than 90 days after the entry), or by the alert the day after the authorised
    stay ended without an exit; a traveller still within their stay keeps the three years."""
    from central.records.overstay import raise_alerts

    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    database.migrate()
    left_late = enter(database, "LATE", "U4", days_ago=200)
    still_in = enter(database, "STILL", "U5", days_ago=120)
    within = enter(database, "WITHIN", "U6", days_ago=30)
    assert not any(_flag(database, f) for f in (left_late, still_in, within))

    _leave(database, "LATE", "U4", days_ago=50)  # 151 days of stay: 61 over
    assert _flag(database, left_late) and not _flag(database, still_in)

    alerted = database.run(lambda s: raise_alerts(s, TODAY))
    assert [a.surname for a in alerted] == ["STILL"]
    assert _flag(database, still_in) and not _flag(database, within)
