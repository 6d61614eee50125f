"""Signed bundles between two centrals' databases (no link), and the delta's checks: replays, expired and
foreign signatures, oversized and malformed deltas are refused with their reason; a delta applies whole or
not at all. RFC 7515's own ES256 example proves the JWS verification on data Limes did not make."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from joserfc.jwk import ECKey

from central.access.audit import Caller
from central.database import models as m
from central.federation import bundle, store, trust
from central.federation.exchange import DeltaRefused, check_delta
from limes.cli import main
from proto.limes.v1 import federation_pb2 as fpb

from .conftest import make_side

NOW = dt.datetime.now(dt.timezone.utc)

# RFC 7515, Appendix A.3: the ES256 example's public key and its JWS (JWS Compact Serialization).
RFC7515_A3_KEY = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                  "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
RFC7515_A3_JWS = ("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNv"
                  "bS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJ"
                  "qPP3-Kg6NU1Q")


def test_the_rfc7515_es256_example_verifies_and_is_refused_as_expired():
    key = ECKey.import_key(RFC7515_A3_KEY)
    claims = bundle.verified_claims(RFC7515_A3_JWS, key)
    assert claims == {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}
    with pytest.raises(bundle.BundleRefused, match="expired at 2011-03-22T18:43:00"):
        bundle.read(RFC7515_A3_JWS, key, issuer="joe", audience="LIMES-A", now=NOW, max_alerts=10)
    tampered = RFC7515_A3_JWS[:-6] + ("AAAAAA" if not RFC7515_A3_JWS.endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(bundle.BundleRefused, match="signature or form refused"):
        bundle.verified_claims(tampered, key)


@pytest.fixture
def pair(tmp_path):
    """A and B (databases, CAs, bundle keys); B shares documents with A, A takes them from B."""
    a, b = make_side(tmp_path, "A"), make_side(tmp_path, "B")
    a.write_trust(b, lists=("documents",), subscribe=("documents",), max_delta_alerts=2)
    b.write_trust(a, lists=("documents",), subscribe=())
    return a, b


def export(b, a, out, *extra) -> int:
    return main(["central", "federation", "export-bundle", str(b.trust), a.name, "documents", "--out", str(out),
                 "--database", b.database_url, "--json", *extra])


def take(a, b, path) -> int:
    return main(["central", "federation", "import-bundle", str(a.trust), b.name, str(path), "--database",
                 a.database_url, "--json"])


def test_a_bundle_goes_over_once_and_its_replay_is_refused(pair, tmp_path, capsys):
    a, b = pair
    shared = b.issue(number="B8000001")
    b.issue(number="B8000002", handling="C")
    out = tmp_path / "b-to-a.jws"
    assert export(b, a, out) == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == 2  # the C alert goes as a withdrawal with no content
    assert take(a, b, out) == 0
    assert json.loads(capsys.readouterr().out)["changes"] == 1
    assert [r["alert_id"] for r in a.rows(m.FederatedAlert)] == [shared]
    assert take(a, b, out) == 2
    assert "refused: replay: bundle" in capsys.readouterr().err
    assert [r["alert_id"] for r in a.rows(m.FederatedAlert)] == [shared]
    refused = a.rows(m.AuditEntry, m.AuditEntry.action == "FederationImportBundle")
    assert refused and refused[-1]["outcome"].startswith("REFUSED: replay")
    assert b.rows(m.AuditEntry, m.AuditEntry.action == "FederationExportBundle")
    [state] = a.rows(m.FederationState)
    assert state["last_error"].endswith(refused[-1]["outcome"][len("REFUSED: "):])


def signed(b, a, delta, *, now=NOW, validity=dt.timedelta(days=1), key_of=None, audience=None) -> bytes:
    key = bundle.load_private_key((key_of or b).bundle_key)
    return bundle.sign(delta, key, b.name, audience or a.name, now, validity).encode()


def one_alert(number: str = "B8000009", version: int = 1, **fields) -> fpb.SharedAlert:
    return fpb.SharedAlert(**{"alert_id": f"id-{number}", "version": version, "handling_code": "P",
                              "handling_instruction": "hold", "document_number": number, **fields})


def delta_of(*alerts, since=0, current=None) -> fpb.SharedDelta:
    return fpb.SharedDelta(list="documents", since_version=since,
                           current_version=current if current is not None else max([a.version for a in alerts] or [0]),
                           alerts=alerts)


@pytest.mark.parametrize("case, refusal", [
    ("expired", "refused: expired at"),
    ("foreign key", "refused: signature or form refused"),
    ("not for us", "refused: audience 'LIMES-C' is not us ('LIMES-A')"),
    ("oversized", "refused: delta refused: oversized: 3 alerts, at most 2 in one delta"),
    ("malformed alert", "refused: delta refused: alert 2: a document alert needs its document number"),
    ("gap", "refused: gap: the delta starts after version 5, we hold 0"),
    ("not a JWS", "refused: not a compact JWS"),
])
def test_bad_bundles_are_refused_with_their_reason_and_change_nothing(pair, tmp_path, capsys, case, refusal):
    a, b = pair
    good = delta_of(one_alert("B8000010", 1))
    token = {
        "expired": lambda: signed(b, a, good, now=NOW - dt.timedelta(days=3)),
        "foreign key": lambda: signed(b, a, good, key_of=a),
        "not for us": lambda: signed(b, a, good, audience="LIMES-C"),
        "oversized": lambda: signed(b, a, delta_of(one_alert("B1", 1), one_alert("B2", 2), one_alert("B3", 3))),
        "malformed alert": lambda: signed(b, a, delta_of(one_alert("B1", 1), fpb.SharedAlert(
            alert_id="id-2", version=2, handling_code="P"))),
        "gap": lambda: signed(b, a, delta_of(one_alert("B1", 7), since=5)),
        "not a JWS": lambda: b"{\"delta\": {}}",
    }[case]()
    path = tmp_path / "bundle.jws"
    path.write_bytes(token)
    assert take(a, b, path) == 2
    assert refusal in capsys.readouterr().err
    assert a.rows(m.FederatedAlert) == []
    assert all(s["version"] == 0 for s in a.rows(m.FederationState))


def test_a_delta_applies_whole_or_not_at_all(pair, monkeypatch):
    a, b = pair
    partner = trust.load(a.trust).partner(b.name)
    delta = delta_of(one_alert("B8000021", 1), one_alert("B8000022", 2))
    calls = []

    def failing_on_the_second(list_name, alert):
        calls.append(alert.alert_id)
        if len(calls) == 2:
            raise OSError("the disk filled up half way")
        return alert.document_number
    monkeypatch.setattr(store, "_match_key", failing_on_the_second)
    database = a.database()
    with pytest.raises(OSError):
        database.run(lambda s: store.apply_delta(s, Caller("cli", "t"), partner, delta, 10, "test"))
    assert calls == ["id-B8000021", "id-B8000022"]  # the first alert was applied before the failure...
    assert a.rows(m.FederatedAlert) == [] and a.rows(m.FederationState) == []  # ...and rolled back with it
    monkeypatch.undo()
    assert database.run(lambda s: store.apply_delta(s, Caller("cli", "t"), partner, delta, 10, "test")) == 2
    database.dispose()
    assert [r["alert_id"] for r in a.rows(m.FederatedAlert)] == ["id-B8000021", "id-B8000022"]


@pytest.mark.parametrize("delta, problem", [
    (delta_of(one_alert("X1", 1), one_alert("X1", 2)), "appears twice"),
    (delta_of(one_alert("X1", 9), current=3), "version 9 is outside (0, 3]"),
    (delta_of(one_alert("X1", 1, handling_code="Z")), "handling code 'Z' is not P or C"),
    (delta_of(one_alert("X1", 1, valid_to="31.12.2030")), "valid_to: '31.12.2030' is not a date"),
    (fpb.SharedDelta(list="documents", since_version=4, current_version=2), "do not make a range"),
    (fpb.SharedDelta(list="vehicles"), "the delta is of 'vehicles'"),
])
def test_malformed_deltas_are_refused_with_the_first_problem(delta, problem):
    with pytest.raises(DeltaRefused, match=problem.replace("(", r"\(").replace(")", r"\)").replace("]", r"\]")):
        check_delta(delta, "documents", 100)


@pytest.mark.parametrize("text, problem", [
    ("[self]\nname='A'\n", "self.listen: is required"),
    ("[partners]\n", "unknown table(s) partners"),
    ("not toml at all ===", "not TOML"),
])
def test_a_trust_file_that_does_not_make_sense_is_refused(tmp_path, text, problem):
    with pytest.raises(trust.TrustError, match=problem.replace("(", r"\(").replace(")", r"\)")):
        trust.parse(text, tmp_path / "trust.toml")


def test_a_partner_with_an_unknown_list_is_refused(pair):
    a, b = pair
    text = a.trust.read_text().replace('lists = ["documents"]', 'lists = ["documents", "vehicles"]')
    with pytest.raises(trust.TrustError, match="partner LIMES-B.lists: 'vehicles' not one of documents, persons"):
        trust.parse(text, a.trust)


def test_add_partner_keeps_the_file_only_when_it_reads(pair, tmp_path, capsys):
    a, b = pair
    before = a.trust.read_text()
    assert main(["central", "federation", "add-partner", str(a.trust), "--name", b.name, "--address", "x:1",
                 "--ca", str(b.pki.ca_path)]) == 2
    assert "named twice" in capsys.readouterr().err and a.trust.read_text() == before
    assert main(["central", "federation", "add-partner", str(a.trust), "--name", "LIMES-D", "--address",
                 "127.0.0.1:1", "--ca", str(b.pki.ca_path), "--lists", "persons", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["lists"] == ["persons"]
    assert trust.load(a.trust).partner("LIMES-D").lists == {"persons"}


def test_status_check_and_notices_commands_say_what_is_held(pair, tmp_path, capsys):
    a, b = pair
    b.issue(number="B8000031")
    out = tmp_path / "b.jws"
    assert export(b, a, out) == 0 and take(a, b, out) == 0
    capsys.readouterr()
    assert main(["central", "federation", "status", "--database", a.database_url, "--json"]) == 0
    [held] = json.loads(capsys.readouterr().out)["lists"]
    assert (held["partner"], held["list"], held["alerts"], held["last_error"]) == (b.name, "documents", 1, "")
    assert main(["central", "federation", "check", str(a.trust), "--json"]) == 0
    [partner] = json.loads(capsys.readouterr().out)["partners"]
    assert (partner["name"], partner["lists"], partner["handling_codes"]) == (b.name, ["documents"], ["P"])
    assert main(["central", "federation", "notices", "--database", b.database_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["central", "identity", "scope", "user", "ana", "customs", "--border-point", "fra-t1",
                 "--database", a.database_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"kind": "user", "name": "ana", "agency": "CUSTOMS",
                                                   "border_points": ["FRA-T1"], "clearance": "OFFICIAL"}


def test_person_alerts_go_both_ways_hit_no_hit_and_our_gates_checks(tmp_path):
    from central.federation import checks
    from drivers.alertmatch.persons import Identity

    a, b = make_side(tmp_path, "A"), make_side(tmp_path, "B")
    a.write_trust(b, lists=("persons",), subscribe=("persons",))
    b.write_trust(a, lists=("persons",), subscribe=())
    alert_id = b.issue(surname="KOWALSKA", instruction="entry ban: refuse and call B")
    # B answers A's hit/no-hit on a person, and its owning agency gets the notice.
    database = b.database()
    partner_a = trust.load(b.trust).partner(a.name)
    query = fpb.HitQuery(query_id="q-1", person=fpb.PersonSubject(surname="KOWALSKA", given_names="ANNA"),
                         place="A-PORT")
    answer = database.run(lambda s: store.answer_query(s, partner_a, query, NOW.date(), NOW))
    assert answer.hit and [h.handling_instruction for h in answer.hits] == ["entry ban: refuse and call B"]
    delta = database.run(lambda s: store.outgoing_delta(s, partner_a, "persons", 0, 100))
    database.dispose()
    assert [n["place"] for n in b.rows(m.HitNotice)] == ["A-PORT"]
    # A takes B's person list and its gates' check finds the person, owner named.
    database = a.database()
    database.run(lambda s: store.apply_delta(s, Caller("cli", "t"), trust.load(a.trust).partner(b.name), delta, 100,
                                             "test"))
    hits = database.run(lambda s: checks.person_hits(s, Identity("KOWALSKA", "ANNA", None, ""), NOW.date()))
    misses = database.run(lambda s: checks.person_hits(s, Identity("NOWAK", "JAN", None, ""), NOW.date()))
    database.dispose()
    assert [(h.alert_id, h.owner) for h in hits] == [(alert_id, "LIMES-B/B-POLICE")] and misses == []
