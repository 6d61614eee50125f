"""Mutual TLS between gates and central: the certificate is the caller's identity.

A gate with its station certificate records crossings; a client without a
certificate, or with one from another CA, does not get a connection; a
station certificate cannot speak for another station or claim a user; and
plaintext happens only when chosen explicitly.
"""
from __future__ import annotations

import json
import subprocess
import sys

import grpc
import pytest

from central.rpc.server import serve
from limes.cli import main
from proto.clients import CentralClient
from proto.dev_pki import DevPki
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import TlsError, TlsFiles, open_channel

from .conftest import TEST_ACCESS, crossing_request
from .test_access import audit_rows

GATE = "FRA-T1-G03"  # a registered gate in TEST_ACCESS


def stub_with(address: str, tls: TlsFiles) -> central_pb2_grpc.CentralStub:
    return central_pb2_grpc.CentralStub(open_channel(address, tls))


def refused_at_handshake(stub: central_pb2_grpc.CentralStub) -> None:
    with pytest.raises(grpc.RpcError) as error:
        stub.RecordCrossing(crossing_request(), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAVAILABLE  # no connection, so no call at all


def test_a_gate_with_its_certificate_records_a_crossing(central, dev_pki, database_url):
    gate = CentralClient(central.address, tls=dev_pki.station(GATE), timeout=10)
    try:
        request = crossing_request()
        reply = gate.call("RecordCrossing", request)
        assert reply.crossing_id == request.crossing_id and not reply.already_recorded
    finally:
        gate.close()
    [row] = audit_rows(database_url)
    # The station in the audit log is the certificate's: the call sent no metadata at all.
    assert (row.station, row.user_name, row.action) == (GATE, "", "RecordCrossing")


def test_a_client_without_a_certificate_gets_no_connection(central, dev_pki, database_url):
    credentials = grpc.ssl_channel_credentials(root_certificates=dev_pki.server().ca.read_bytes())
    with grpc.secure_channel(central.address, credentials) as channel:
        refused_at_handshake(central_pb2_grpc.CentralStub(channel))
    assert audit_rows(database_url) == []


def test_a_certificate_from_another_ca_gets_no_connection(central, dev_pki, tmp_path, database_url):
    stranger = DevPki(tmp_path / "other-ca").station(GATE)  # the same name, issued by another CA
    # It trusts our server (so the refusal is the server's), but presents the other CA's certificate.
    tls = TlsFiles(dev_pki.server().ca, stranger.certificate, stranger.key)
    refused_at_handshake(stub_with(central.address, tls))
    assert audit_rows(database_url) == []


def test_a_gate_does_not_talk_to_a_server_from_another_ca(central, tmp_path):
    # The gate's own CA did not issue central's certificate: the gate refuses the server.
    refused_at_handshake(stub_with(central.address, DevPki(tmp_path / "other-ca").station(GATE)))


def test_a_station_certificate_cannot_record_for_another_station(central, dev_pki, database_url):
    gate = stub_with(central.address, dev_pki.station(GATE))
    with pytest.raises(grpc.RpcError) as error:
        gate.RecordCrossing(crossing_request(station_id="FRA-T1-G04"), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert error.value.details() == f"station_id: station '{GATE}' may not report for station 'FRA-T1-G04'"
    last = audit_rows(database_url)[-1]
    assert (last.station, last.subject) == (GATE, "station FRA-T1-G04")


@pytest.mark.parametrize("claim", [(("x-limes-station", "FRA-T1-G04"),), (("x-limes-user", "admin-1"),)],
                         ids=["another station", "an administrator"])
def test_a_station_certificate_cannot_claim_another_identity_in_metadata(central, dev_pki, database_url, claim):
    gate = stub_with(central.address, dev_pki.station(GATE))
    with pytest.raises(grpc.RpcError) as error:
        gate.RecordCrossing(crossing_request(), metadata=claim, timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"is not who the client certificate names (station '{GATE}')" in error.value.details()
    [row] = audit_rows(database_url)  # the refusal is audited under the certificate's name; nothing recorded
    assert (row.station, row.user_name, row.action, row.purpose) == (GATE, "", "RecordCrossing", "access control")
    assert row.outcome.startswith("PERMISSION_DENIED")


def test_metadata_that_repeats_the_certificate_is_accepted(central, dev_pki):
    gate = stub_with(central.address, dev_pki.station(GATE))
    reply = gate.RecordCrossing(crossing_request(), metadata=(("x-limes-station", GATE),), timeout=10)
    assert not reply.already_recorded


def test_a_user_certificate_carries_that_users_roles_only(central, dev_pki):
    admin = stub_with(central.address, dev_pki.user("admin-1"))
    alert = admin.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="X1", reason=pb.DocumentAlert.LOST),
                                   timeout=10)
    assert alert.version == 1
    analyst = stub_with(central.address, dev_pki.user("analyst-1"))
    with pytest.raises(grpc.RpcError) as error:
        analyst.AddDocumentAlert(pb.AddDocumentAlertRequest(document_number="X2", reason=pb.DocumentAlert.LOST),
                                 timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_a_decision_is_recorded_under_the_calling_officers_certificate(central, dev_pki, database_url):
    """The repro: an officer's certificate sending officer="demo-supervisor" must not decide as that user."""
    import uuid

    gate = stub_with(central.address, dev_pki.station(GATE))
    crossing = crossing_request(decision=pb.Crossing.REFER)
    gate.RecordCrossing(crossing, timeout=10)
    referral_id = str(uuid.uuid4())
    gate.OpenReferral(pb.OpenReferralRequest(referral_id=referral_id, crossing_id=crossing.crossing_id,
                                             station_id=GATE), timeout=10)
    officer = stub_with(central.address, dev_pki.user("officer-17"))
    with pytest.raises(grpc.RpcError) as error:
        officer.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="demo-supervisor",
                                                        decision=pb.Referral.ESCALATED, note="unsure"), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED and "demo-supervisor" in error.value.details()
    refused = audit_rows(database_url)[-1]
    assert (refused.user_name, refused.action, refused.purpose) == ("officer-17", "RecordDecision", "access control")
    untouched = officer.GetReferral(pb.GetReferralRequest(referral_id=referral_id), timeout=10)
    assert untouched.status == pb.Referral.OPEN and not untouched.decisions
    # Without the field (or repeating the caller's own name) the author is the certificate's user.
    escalated = officer.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id,
                                                                decision=pb.Referral.ESCALATED, note="unsure"),
                                       timeout=10)
    assert [(d.officer, d.decision) for d in escalated.decisions] == [("officer-17", pb.Referral.ESCALATED)]
    # A station cannot decide even if given the officer role: a decision is a person's.
    admin = stub_with(central.address, dev_pki.user("admin-1"))
    admin.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="station", name="FRA-T1-DESK1", role="supervisor")),
                    timeout=10)
    desk = stub_with(central.address, dev_pki.station("FRA-T1-DESK1"))
    with pytest.raises(grpc.RpcError) as error:
        desk.RecordDecision(pb.RecordDecisionRequest(referral_id=referral_id, officer="officer-17",
                                                     decision=pb.Referral.ADMITTED), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert officer.GetReferral(pb.GetReferralRequest(referral_id=referral_id), timeout=10).decisions[-1].officer \
        == "officer-17"


def test_an_officer_cannot_open_a_referral_in_another_stations_name(central, dev_pki, database_url):
    import uuid

    gate = stub_with(central.address, dev_pki.station(GATE))
    crossing = crossing_request(decision=pb.Crossing.REFER)
    gate.RecordCrossing(crossing, timeout=10)
    officer = stub_with(central.address, dev_pki.user("officer-17"))
    with pytest.raises(grpc.RpcError) as error:
        officer.OpenReferral(pb.OpenReferralRequest(referral_id=str(uuid.uuid4()), crossing_id=crossing.crossing_id,
                                                    station_id="FRA-T1-G99"), timeout=10)
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED and GATE in error.value.details()
    refused = audit_rows(database_url)[-1]
    assert (refused.user_name, refused.action, refused.purpose) == ("officer-17", "OpenReferral", "access control")
    opened = officer.OpenReferral(pb.OpenReferralRequest(referral_id=str(uuid.uuid4()),
                                                         crossing_id=crossing.crossing_id, station_id=GATE), timeout=10)
    assert opened.station_id == GATE


# ---------------------------------------------------------------- plaintext only when chosen

def test_serve_without_tls_or_plaintext_is_refused(database_url):
    with pytest.raises(TlsError, match="plaintext explicitly"):
        serve("127.0.0.1:0", database_url, access=TEST_ACCESS)


def test_clients_without_tls_or_plaintext_are_refused():
    with pytest.raises(TlsError):
        CentralClient("127.0.0.1:1")
    with pytest.raises(TlsError):
        open_channel("127.0.0.1:1")


def test_a_plaintext_client_gets_no_connection_to_a_tls_server(central):
    with grpc.insecure_channel(central.address) as channel:
        refused_at_handshake(central_pb2_grpc.CentralStub(channel))


def test_plaintext_when_chosen_trusts_metadata(database_url):
    server, port = serve("127.0.0.1:0", database_url, plaintext=True, access=TEST_ACCESS)
    gate = CentralClient(f"127.0.0.1:{port}", plaintext=True, timeout=10, metadata=(("x-limes-station", GATE),))
    try:
        assert not gate.call("RecordCrossing", crossing_request()).already_recorded
    finally:
        gate.close()
        server.stop(None)
    assert audit_rows(database_url)[-1].station == GATE


def test_serve_command_needs_tls_files_or_plaintext(capsys, database_url, dev_pki):
    assert main(["central", "serve", "--listen", "127.0.0.1:0", "--database", database_url]) == 2
    assert "plaintext chosen explicitly" in capsys.readouterr().err
    tls = dev_pki.server()
    assert main(["central", "serve", "--database", database_url, "--plaintext", "--tls-ca", str(tls.ca)]) == 2
    assert "exclude each other" in capsys.readouterr().err
    assert main(["central", "serve", "--database", database_url, "--tls-ca", str(tls.ca), "--tls-cert",
                 str(tls.certificate), "--tls-key", str(dev_pki.user("tester").key)]) == 2
    assert "does not belong to certificate" in capsys.readouterr().err


def test_serve_command_in_plaintext_says_so(database_url):
    process = subprocess.Popen([sys.executable, "-m", "limes", "central", "serve", "--listen", "127.0.0.1:0",
                                "--database", database_url, "--plaintext", "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not lines or lines[-1].strip() != "}":
            line = process.stdout.readline()
            assert line, "serve exited before printing its address: " + process.stderr.read()
            lines.append(line)
        assert json.loads("".join(lines))["transport"] == "plaintext"
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "PLAINTEXT" in process.stderr.read()
    process.stdout.close()
    process.stderr.close()
