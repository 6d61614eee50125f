"""Advance Passenger Information: manifests pre-screened against document and person alerts and risk rules."""
from __future__ import annotations

import csv
import datetime as dt
import json

import grpc
import pytest

from drivers.mrz import generate_td3
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request

SUPERVISOR_AND_ADMIN = (("x-limes-user", "tester"),)


def mrz(surname: str, given: str, number: str, birth: dt.date, expiry: dt.date = dt.date(2031, 8, 1),
        state: str = "D") -> str:
    return generate_td3(issuing_state=state, surname=surname, given_names=given, document_number=number,
                        nationality=state, birth_date=birth, sex="F", expiry_date=expiry)


CLEAN = mrz("MUSTERFRAU", "ANNA", "C11111111", dt.date(1980, 1, 2))
STOLEN = mrz("ROE", "JANE", "C22222222", dt.date(1975, 3, 4))
WANTED = mrz("MUELLER", "HANS", "C33333333", dt.date(1980, 3, 4))
EXPIRING = mrz("KURZ", "KARL", "C44444444", dt.date(1990, 5, 6), expiry=dt.date.today() + dt.timedelta(days=3))


@pytest.fixture
def alerts(stub):
    stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="C22222222", issuing_state="DEU",
                                                     reason=pb.DocumentAlert.STOLEN))
    stub.AddPersonAlert(pb.AddPersonAlertRequest(surname="MÜLLER", given_names="HANS", birth_date="1980-03-04",
                                                 reason=pb.PersonAlert.ENTRY_BAN))
    return stub


def test_import_api_reports_each_passenger(alerts):
    request = pb.ImportApiRequest(flight="LH400", border_point="FRA-T1", passengers=[
        pb.ApiPassenger(mrz=CLEAN, reference="1A"), pb.ApiPassenger(mrz=STOLEN, reference="2B"),
        pb.ApiPassenger(mrz=WANTED.replace("\n", "|"), reference="3C"), pb.ApiPassenger(mrz=EXPIRING),
        pb.ApiPassenger(mrz="P<D<<BROKEN", reference="5E")])
    response = alerts.ImportApi(request, metadata=SUPERVISOR_AND_ADMIN)
    assert response.flight == "LH400" and response.hits == 2
    statuses = [(r.index, r.reference, r.status) for r in response.reports]
    assert statuses == [(1, "1A", "CLEAR"), (2, "2B", "HIT"), (3, "3C", "HIT"), (4, "", "RISK"),
                        (5, "5E", "INVALID")]
    stolen, wanted, expiring, broken = response.reports[1:]
    assert [h.reason for h in stolen.document_hits] == [pb.DocumentAlert.STOLEN] and not stolen.person_hits
    assert (stolen.surname, stolen.issuing_state, stolen.birth_date) == ("ROE", "DEU", "1975-03-04")
    assert [h.reason for h in wanted.person_hits] == [pb.PersonAlert.ENTRY_BAN]
    assert list(expiring.risk_rules_fired) == ["document_expires_soon"]
    assert broken.error.startswith("structure:")


def test_a_known_travellers_history_feeds_the_risk_rules(stub):
    # A refusal on record: the previous_refusal rule fires for the same document in a manifest.
    request = crossing_request(decision=pb.Crossing.REFER)
    request.document.number = "C55555555"
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    stub.OpenReferral(pb.OpenReferralRequest(referral_id=request.crossing_id, crossing_id=request.crossing_id,
                                             station_id=request.station_id), metadata=GATE_METADATA)
    stub.RecordDecision(pb.RecordDecisionRequest(referral_id=request.crossing_id, officer="tester",
                                                 decision=pb.Referral.REFUSED, reason="no visa"))
    passenger = mrz("MUSTERMANN", "ERIKA", "C55555555", dt.date(1964, 8, 12))
    [report] = stub.ImportApi(pb.ImportApiRequest(flight="LH401", passengers=[pb.ApiPassenger(mrz=passenger)]),
                              metadata=SUPERVISOR_AND_ADMIN).reports
    assert report.status == "RISK" and "previous_refusal" in report.risk_rules_fired


def test_import_api_is_refused_to_gates_and_analysts_and_needs_a_flight(stub):
    for metadata in (GATE_METADATA, (("x-limes-user", "analyst-1"),)):
        with pytest.raises(grpc.RpcError) as refused:
            stub.ImportApi(pb.ImportApiRequest(flight="LH400"), metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as bad:
        stub.ImportApi(pb.ImportApiRequest(passengers=[pb.ApiPassenger(mrz=CLEAN)]))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and bad.value.details().startswith("flight:")


def test_the_checks_are_audited_with_the_flight_as_purpose(alerts, database_url, capsys):
    alerts.ImportApi(pb.ImportApiRequest(flight="LH400", passengers=[pb.ApiPassenger(mrz=STOLEN)]))
    assert main(["central", "audit", "--database", database_url, "--json", "--limit", "2"]) == 0
    purposes = {(r["action"], r["purpose"]) for r in json.loads(capsys.readouterr().out)}
    assert ("CheckDocument", "advance passenger information: LH400") in purposes


def test_import_api_command_reads_csv_and_json(alerts, database_url, capsys, tmp_path):
    manifest = tmp_path / "lh400.csv"
    with manifest.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["flight", "reference", "mrz"])
        writer.writerow(["LH400", "1A", CLEAN])
        writer.writerow(["LH400", "2B", STOLEN])
    assert main(["central", "import-api", str(manifest), "--database", database_url, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["flight"], result["hits"]) == ("LH400", 1)
    assert result["reports"][1]["document_hits"][0]["reason"] == "STOLEN"

    as_json = tmp_path / "lh402.json"
    as_json.write_text(json.dumps({"flight": "LH402", "passengers": [{"mrz": WANTED, "reference": "9Z"}]}))
    assert main(["central", "import-api", str(as_json), "--database", database_url]) == 0
    out = capsys.readouterr().out
    assert "flight LH402: 1 passenger(s), 1 hit(s)" in out and "person ENTRY_BAN" in out


@pytest.mark.parametrize(("name", "content", "message"), [
    ("m.csv", "reference\n1\n", "'mrz' column"),
    ("m.json", "[]", "passengers"),
    ("m.json", "{", "not JSON"),
    ("m.txt", "x", ".csv or .json"),
    ("m.csv", "flight,mrz\nA,x\nB,y\n", "one flight per manifest"),
])
def test_bad_manifests_are_refused_with_the_reason(tmp_path, capsys, database_url, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    assert main(["central", "import-api", str(path), "--flight", "X1", "--database", database_url]) == 2
    assert message in capsys.readouterr().err
