"""Roles checked on every call: allowed, refused (PERMISSION_DENIED, audited), open access, bootstrap."""
from __future__ import annotations

import json
import uuid

import grpc
import pytest
from sqlalchemy import create_engine, select

from central.access.roles import AccessPolicy, Kind, Role
from central.database import models as m
from limes.cli import main
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import open_channel

from .conftest import GATE_METADATA, TEST_ACCESS, crossing_request, serve_central

OFFICER = (("x-limes-user", "officer-17"),)
ANALYST = (("x-limes-user", "analyst-1"),)
ADMIN = (("x-limes-user", "admin-1"),)


def audit_rows(database_url: str) -> list[m.AuditEntry]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(m.AuditEntry).order_by(m.AuditEntry.id)).all())
    finally:
        engine.dispose()


def denied(call, request, metadata) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as refused:
        call(request, metadata=metadata)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    return refused.value


def test_a_gate_records_but_may_not_decide_or_read_history(stub, database_url):
    request = crossing_request()
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    stub.CheckDocument(pb.CheckDocumentRequest(document_number="X1"), metadata=GATE_METADATA)
    error = denied(stub.GetTravellerHistory, pb.GetTravellerHistoryRequest(document=request.document),
                   GATE_METADATA)
    assert "GetTravellerHistory is not permitted" in error.details() and "gate" in error.details()
    denied(stub.AddDocumentAlert, pb.AddDocumentAlertRequest(document_number="X1", reason=pb.DocumentAlert.LOST),
           GATE_METADATA)
    last = audit_rows(database_url)[-1]
    assert (last.station, last.action) == ("FRA-T1-G03", "AddDocumentAlert")
    assert last.outcome.startswith("PERMISSION_DENIED")


def test_an_officer_reads_history_but_records_no_crossing(stub):
    request = crossing_request()
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(document=request.document), metadata=OFFICER)
    assert len(history.crossings) == 1
    # The officer's role does not record crossings.
    denied(stub.RecordCrossing, crossing_request(station_id="FRA-T1-DESK1"), OFFICER)


def test_an_analyst_sees_no_personal_data_and_an_administrator_issues_alerts(stub):
    request = crossing_request()
    stub.RecordCrossing(request, metadata=GATE_METADATA)
    denied(stub.GetTravellerHistory, pb.GetTravellerHistoryRequest(document=request.document), ANALYST)
    denied(stub.CheckPerson, pb.CheckPersonRequest(surname="ROE"), ANALYST)
    alert = stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="X1", reason=pb.DocumentAlert.LOST),
                                  metadata=ADMIN)
    assert alert.version == 1
    denied(stub.GetTravellerHistory, pb.GetTravellerHistoryRequest(document=request.document), ADMIN)


def test_an_unknown_user_is_refused_without_open_access(stub, database_url):
    error = denied(stub.ListReferrals, pb.ListReferralsRequest(), (("x-limes-user", "mallory"),))
    assert "not registered" in error.details()
    [row] = audit_rows(database_url)
    assert (row.user_name, row.action, row.purpose) == ("mallory", "ListReferrals", "access control")


def test_open_access_lets_unknown_users_only_read(database_url, dev_pki):
    server, central = serve_central(database_url, dev_pki,
                                    access=AccessPolicy(bootstrap=TEST_ACCESS.bootstrap, open_access=True))
    try:
        stub = central.stub()
        visitor = (("x-limes-user", "visitor"),)
        assert not stub.ListReferrals(pb.ListReferralsRequest(), metadata=visitor).referrals
        denied(stub.RecordCrossing, crossing_request(), visitor)
        denied(stub.CheckDocument, pb.CheckDocumentRequest(document_number="X1"), visitor)
        # A certificate naming no station or user (the services' own) gets nothing, even with open access.
        with open_channel(central.address, dev_pki.server()) as channel:
            denied(central_pb2_grpc.CentralStub(channel).ListReferrals, pb.ListReferralsRequest(), ())
    finally:
        central.close()
        server.stop(None)


def test_the_default_is_closed_on_sqlite_too(tmp_path, dev_pki):
    """No access policy given, an SQLite file: nobody is registered and nobody unregistered reads."""
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    server, central = serve_central(url, dev_pki)  # the default policy
    try:
        stub = central.stub()
        denied(stub.AddDocumentAlert, pb.AddDocumentAlertRequest(document_number="X1", reason=pb.DocumentAlert.LOST),
               (("x-limes-user", "demo-admin"),))
        denied(stub.RecordCrossing, crossing_request(station_id="DEMO-EGATE-01"),
               (("x-limes-station", "DEMO-EGATE-01"),))
        error = denied(stub.GetTravellerHistory, pb.GetTravellerHistoryRequest(document=crossing_request().document),
                       (("x-limes-user", "visitor"),))
        assert "not registered" in error.details() and "open access" not in error.details()
        for method in ("ListReferrals", "GetCrossing", "GetReferral"):
            request = getattr(pb, f"{method}Request")()
            if method != "ListReferrals":
                setattr(request, "crossing_id" if method == "GetCrossing" else "referral_id",
                        "9d5c6f0e-2f55-4b7e-9a55-2a0f4f7a1c11")
            denied(getattr(stub, method), request, (("x-limes-user", "visitor"),))
    finally:
        central.close()
        server.stop(None)


def test_the_demo_policy_opens_access_when_asked_for(tmp_path, dev_pki):
    url = f"sqlite:///{tmp_path / 'central.sqlite'}"
    server, central = serve_central(url, dev_pki, access=AccessPolicy.demo())  # what `limes demo` asks for
    try:
        stub = central.stub()
        stub.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="X1", reason=pb.DocumentAlert.LOST),
                              metadata=(("x-limes-user", "demo-admin"),))
        stub.RecordCrossing(crossing_request(station_id="DEMO-EGATE-01"),
                            metadata=(("x-limes-station", "DEMO-EGATE-01"),))
        history = stub.GetTravellerHistory(pb.GetTravellerHistoryRequest(
            document=crossing_request().document), metadata=(("x-limes-user", "test"),))
        assert len(history.crossings) == 1
    finally:
        central.close()
        server.stop(None)


def test_no_policy_is_inferred_from_the_database_kind():
    assert not hasattr(AccessPolicy, "for_database")
    assert AccessPolicy() == AccessPolicy(bootstrap={}, open_access=False)


def test_identity_commands_grant_revoke_and_are_audited(capsys, database_url):
    assert main(["central", "identity", "grant", "user", "alice", "supervisor", "--database", database_url]) == 0
    assert main(["central", "identity", "grant", "user", "alice", "supervisor", "--database", database_url,
                 "--json"]) == 0
    capsys.readouterr()
    assert main(["central", "identity", "list", "--database", database_url, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["principals"]
    assert {"kind": "user", "name": "alice", "role": "supervisor"} in listed
    assert main(["central", "identity", "revoke", "user", "alice", "--database", database_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["changed"] == 1
    actions = [(r.action, r.outcome) for r in audit_rows(database_url)]
    assert ("ManageIdentities", "grant supervisor: 1 change(s)") in actions
    assert ("ManageIdentities", "grant supervisor: 0 change(s)") in actions
    assert ("ManageIdentities", "revoke all roles: 1 change(s)") in actions


def test_every_role_has_permissions_and_gates_cannot_administer():
    from central.access.roles import PERMISSIONS

    assert set(PERMISSIONS) == set(Role)
    assert "AddDocumentAlert" not in PERMISSIONS[Role.GATE]
    assert not PERMISSIONS[Role.ANALYST] & {"GetTravellerHistory", "CheckPerson", "GetCrossing"}
    assert Kind("station") is Kind.STATION


def test_an_administrator_grants_and_revokes_roles_over_grpc(stub, database_url):
    bob = (("x-limes-user", "bob"),)
    denied(stub.ListReferrals, pb.ListReferralsRequest(), bob)
    grant = pb.RoleRequest(principal=pb.Principal(kind="user", name="bob", role="officer"))
    assert stub.GrantRole(grant, metadata=ADMIN).changed
    assert not stub.GrantRole(grant, metadata=ADMIN).changed
    assert not stub.ListReferrals(pb.ListReferralsRequest(), metadata=bob).referrals
    listed = stub.ListPrincipals(pb.ListPrincipalsRequest(), metadata=ADMIN).principals
    assert ("user", "bob", "officer") in {(p.kind, p.name, p.role) for p in listed}
    assert stub.RevokeRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="bob")), metadata=ADMIN).changed
    denied(stub.ListReferrals, pb.ListReferralsRequest(), bob)
    # Officers cannot make themselves administrators.
    denied(stub.GrantRole, pb.RoleRequest(principal=pb.Principal(kind="user", name="officer-17",
                                                                 role="administrator")), OFFICER)
    with pytest.raises(grpc.RpcError) as bad:
        stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="bob", role="king")), metadata=ADMIN)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and bad.value.details().startswith("role:")
    assert "GrantRole" in {r.action for r in audit_rows(database_url)}


def test_a_gate_reports_only_for_itself(stub, database_url):
    error = denied(stub.RecordCrossing, crossing_request(station_id="FRA-T1-G04"), GATE_METADATA)
    assert error.details() == "station_id: station 'FRA-T1-G03' may not report for station 'FRA-T1-G04'"
    last = audit_rows(database_url)[-1]
    assert (last.action, last.subject) == ("RecordCrossing", "station FRA-T1-G04")


def test_a_user_with_a_gates_role_cannot_report_for_a_station(stub, database_url):
    """Only the station itself, or an administrator importing records, names the station of a crossing."""
    grant = pb.RoleRequest(principal=pb.Principal(kind="user", name="mallory", role="gate"))
    assert stub.GrantRole(grant, metadata=ADMIN).changed
    mallory = (("x-limes-user", "mallory"),)
    error = denied(stub.RecordCrossing, crossing_request(station_id="FRA-T1-G03"), mallory)
    assert error.details().startswith("station_id: user 'mallory' may not report for station 'FRA-T1-G03'")
    denied(stub.AssessRisk, pb.AssessRiskRequest(crossing_id=str(uuid.uuid4()), station_id="FRA-T1-G03"), mallory)
    last = audit_rows(database_url)[-1]
    assert (last.user_name, last.action, last.subject) == ("mallory", "AssessRisk", "station FRA-T1-G03")
    # An administrator who also holds the gate's role may import a station's records.
    assert stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="mallory", role="administrator")),
                          metadata=ADMIN).changed
    assert not stub.RecordCrossing(crossing_request(station_id="FRA-T1-G03"), metadata=mallory).already_recorded


def test_serve_is_closed_by_default_on_sqlite(database_url, dev_pki, tmp_path):
    """`limes central serve` without --open-access: the demo identities and unregistered users get nothing."""
    import subprocess
    import sys
    import warnings

    tls = dev_pki.server()
    stderr = open(tmp_path / "serve.stderr", "w+")  # a file: a pipe nobody reads could stall the server
    process = subprocess.Popen([sys.executable, "-m", "limes", "central", "serve", "--listen", "127.0.0.1:0",
                                "--database", database_url, "--json", "--tls-ca", str(tls.ca),
                                "--tls-cert", str(tls.certificate), "--tls-key", str(tls.key)],
                               stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        lines = []
        while not lines or lines[-1].strip() != "}":
            line = process.stdout.readline()
            assert line, "serve exited before printing its address"
            lines.append(line)
        address = json.loads("".join(lines))["address"]
        with open_channel(address, dev_pki.user("demo-admin")) as channel:
            stub = central_pb2_grpc.CentralStub(channel)
            denied(stub.AddDocumentAlert, pb.AddDocumentAlertRequest(document_number="X1",
                                                                     reason=pb.DocumentAlert.LOST), ())
        with open_channel(address, dev_pki.user("visitor")) as channel:
            denied(central_pb2_grpc.CentralStub(channel).ListReferrals, pb.ListReferralsRequest(), ())
    finally:
        process.terminate()
        process.wait(timeout=30)  # the server's own stop limit (central.commands.STOP_LIMIT_S) ends it sooner
        process.stdout.close()
        stderr.seek(0)
        if process.returncode != 0:  # its stop watchdog fired: say where it was stuck, loudly
            warnings.warn(f"central serve did not stop cleanly (exit {process.returncode}):\n{stderr.read()}")
        stderr.close()
