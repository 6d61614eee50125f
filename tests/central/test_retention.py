"""Retention purge (aggregates kept, audited, dry run) and the pseudonymised export (keyed, stable, not reversible)."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import uuid

import pytest
from sqlalchemy import func, select

from central.database import models as m
from central.database.engine import Database
from central.statistics import pseudonym
from central.statistics import tables as statistics
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request

KEY = b"k" * 32


def cross(stub, surname: str, number: str, occurred_at: str, refer: bool = False) -> str:
    request = crossing_request(occurred_at=occurred_at)
    request.traveller.surname, request.document.number = surname, number
    if refer:
        request.decision = pb.Crossing.REFER
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    if refer:
        referral_id = str(uuid.uuid4())
        stub.OpenReferral(pb.OpenReferralRequest(referral_id=referral_id, crossing_id=request.crossing_id,
                                                 station_id=request.station_id), metadata=GATE_METADATA)
        stub.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="tester",
                                                     decision=pb.Referral.ADMITTED))
    return request.crossing_id


def counts(database_url: str) -> dict[str, int]:
    database = Database(database_url)
    try:
        return database.run(lambda s: {model.__tablename__: s.scalar(select(func.count()).select_from(model))
                                       for model in (m.Crossing, m.Referral, m.OfficerDecision, m.Traveller,
                                                     m.TravelDocument, m.CrossingAggregate)})
    finally:
        database.dispose()


def table(database_url: str):
    database = Database(database_url)
    try:
        return database.run(lambda s: statistics.statistics(s, ("nationality", "age_band", "decision"), "month",
                                                            dt.date(2019, 1, 1), dt.date(2026, 12, 31)).as_dict())
    finally:
        database.dispose()


@pytest.fixture
def history(stub):
    cross(stub, "OLDONLY", "A1", "2020-03-01T10:00:00Z", refer=True)
    cross(stub, "OLDONLY", "A1", "2020-03-02T10:00:00Z")
    cross(stub, "BOTH", "B1", "2020-03-01T10:00:00Z")
    cross(stub, "BOTH", "B1", "2026-11-01T10:00:00Z")   # recent but past the evidence period
    cross(stub, "RECENT", "C1", "2026-11-24T10:00:00Z")  # within both periods
    return stub


def purge(database_url: str, capsys, *extra: str) -> dict:
    assert main(["central", "purge", "--today", "2026-11-25", "--personal-days", "1095", "--evidence-days", "14",
                 "--database", database_url, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_dry_run_counts_and_deletes_nothing(history, database_url, capsys):
    before = counts(database_url)
    report = purge(database_url, capsys, "--dry-run")
    assert (report["dry_run"], report["crossings_deleted"], report["referrals_deleted"], report["decisions_deleted"],
            report["travellers_deleted"], report["documents_deleted"], report["evidence_cleared"]) == (
        True, 3, 1, 1, 1, 1, 1)
    assert counts(database_url) == before


def test_purge_deletes_personal_data_and_keeps_the_statistics(history, database_url, capsys):
    figures = table(database_url)
    report = purge(database_url, capsys)
    assert (report["crossings_deleted"], report["travellers_deleted"], report["aggregated"]) == (3, 1, 3)
    after = counts(database_url)
    assert (after["crossings"], after["referrals"], after["officer_decisions"], after["travellers"],
            after["travel_documents"]) == (2, 0, 0, 2, 2)
    assert after["crossing_aggregates"] == 3  # 1 March OPEN and REFER, 2 March OPEN
    assert table(database_url) == figures
    # A second purge finds nothing more and leaves the figures alone.
    assert purge(database_url, capsys)["crossings_deleted"] == 0
    assert table(database_url) == figures


def test_evidence_goes_earlier_than_the_crossing(history, database_url, capsys):
    purge(database_url, capsys)
    database = Database(database_url)
    rows = database.run(lambda s: {c.occurred_at.date().isoformat(): (c.face_score, c.checks)
                                   for c in s.scalars(select(m.Crossing))})
    database.dispose()
    assert rows["2026-11-01"] == (None, [])
    assert rows["2026-11-24"][0] == pytest.approx(0.93) and rows["2026-11-24"][1]


def test_every_purge_is_audited(history, database_url, capsys):
    purge(database_url, capsys, "--dry-run")
    purge(database_url, capsys)
    assert main(["central", "audit", "--database", database_url, "--json"]) == 0
    purges = [r for r in json.loads(capsys.readouterr().out) if r["action"] == "Purge"]
    assert [r["outcome"].startswith("dry run") for r in purges] == [False, True]  # newest first
    assert "3 crossing(s)" in purges[0]["outcome"]


def test_a_bad_retention_policy_is_refused(database_url, capsys):
    assert main(["central", "purge", "--personal-days", "10", "--evidence-days", "30",
                 "--database", database_url]) == 2
    assert "personal_days" in capsys.readouterr().err


def test_pseudonyms_are_stable_per_key_and_useless_without_it():
    one = pseudonym.pseudonym(KEY, "ERIKA MUSTERMANN", dt.date(1964, 8, 12), "DEU")
    assert one == pseudonym.pseudonym(KEY, "ERIKA MUSTERMANN", dt.date(1964, 8, 12), "DEU")
    assert one != pseudonym.pseudonym(b"x" * 32, "ERIKA MUSTERMANN", dt.date(1964, 8, 12), "DEU")
    assert one != pseudonym.pseudonym(KEY, "ERIKA MUSTERMANN", dt.date(1964, 8, 13), "DEU")
    # Guessing the person and hashing without the key does not give the pseudonym.
    plain = hashlib.sha256(b"ERIKA MUSTERMANN|1964-08-12|DEU").hexdigest()
    assert not plain.startswith(one) and one not in plain
    with pytest.raises(Exception, match="at least 16 bytes"):
        pseudonym.pseudonym(b"short", "X", None, "")


def test_export_carries_pseudonyms_and_no_identities(history, database_url, capsys, tmp_path, monkeypatch):
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY)
    assert main(["central", "export", "--pseudonymise", "--csv", "--key-file", str(key_file),
                 "--database", database_url]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 5 and list(rows[0]) == list(pseudonym.ExportRow.FIELDS)
    for secret in ("OLDONLY", "BOTH", "RECENT", "ERIKA", "1964", "A1", "C01X"):
        assert secret not in out
    # Oldest first: OLDONLY and BOTH on 1 March 2020, OLDONLY on 2 March, BOTH in November, RECENT.
    people = [r["traveller"] for r in rows]
    assert people[0] == people[2] and people[1] == people[3]
    assert len(set(people)) == 3
    monkeypatch.setenv("LIMES_PSEUDONYM_KEY", KEY.decode())
    assert main(["central", "export", "--pseudonymise", "--json", "--database", database_url]) == 0
    assert [r["traveller"] for r in json.loads(capsys.readouterr().out)] == [r["traveller"] for r in rows]


def test_export_needs_a_key_and_is_audited(history, database_url, capsys, monkeypatch):
    monkeypatch.delenv("LIMES_PSEUDONYM_KEY", raising=False)
    assert main(["central", "export", "--pseudonymise", "--database", database_url]) == 2
    assert "key" in capsys.readouterr().err
    monkeypatch.setenv("LIMES_PSEUDONYM_KEY", KEY.decode())
    assert main(["central", "export", "--pseudonymise", "--from", "2026-11-01", "--database", database_url]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert main(["central", "audit", "--database", database_url, "--json", "--limit", "3"]) == 0
    assert "ExportPseudonymised" in {r["action"] for r in json.loads(capsys.readouterr().out)}
