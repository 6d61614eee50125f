"""The gate's alert cache: paged deltas, withdrawals, persistence, and the same
answers as central's CheckDocument (the OCR-variant rule included) and CheckPerson."""
from __future__ import annotations

import datetime as dt

import pytest

from edge.alert_cache import AlertCache, NeverSynced
from proto.clients import CentralClient, central_pb2

TODAY = dt.date(2026, 11, 25)
NOW = dt.datetime(2026, 11, 25, 8, 0, tzinfo=dt.timezone.utc)
STOLEN, LOST = central_pb2.DocumentAlert.STOLEN, central_pb2.DocumentAlert.LOST


class FakeCentral:
    """AlertDelta over a list of changes, paged like central's (one version per change)."""

    def __init__(self):
        self.changes: list[central_pb2.DocumentAlert] = []
        self.calls: list[tuple[int, int]] = []

    def add(self, alert_id, number, *, state="UTO", doc_type="P", reason=STOLEN, withdrawn=False, **more):
        version = len(self.changes) + 1
        self.changes.append(central_pb2.DocumentAlert(
            alert_id=alert_id, document_number=number, issuing_state=state, document_type=doc_type,
            reason=reason, withdrawn=withdrawn, version=version, **more))

    def fetch(self, since: int, limit: int) -> central_pb2.AlertDeltaResponse:
        self.calls.append((since, limit))
        after = [c for c in self.changes if c.version > since]
        page = after[:limit]
        more = len(after) > limit
        return central_pb2.AlertDeltaResponse(
            current_version=page[-1].version if more else len(self.changes), more=more,
            document_alerts=[c for c in page if isinstance(c, central_pb2.DocumentAlert)],
            person_alerts=[c for c in page if isinstance(c, central_pb2.PersonAlert)])

    def add_person(self, alert_id, surname, given_names, birth_date, *, withdrawn=False, **more):
        version = len(self.changes) + 1
        self.changes.append(central_pb2.PersonAlert(
            alert_id=alert_id, surname=surname, given_names=given_names, birth_date=birth_date,
            reason=central_pb2.PersonAlert.ARREST, withdrawn=withdrawn, version=version, **more))


def cache(tmp_path, central, **options) -> AlertCache:
    return AlertCache(tmp_path / "edge.sqlite", central.fetch, clock=lambda: NOW, **options)


def numbers(hits):
    return [(h.alert_id, h.match) for h in hits]


def test_pages_through_the_delta_and_remembers_the_version(tmp_path):
    central = FakeCentral()
    for n in range(5):
        central.add(f"a{n}", f"L0000{n}")
    alerts = cache(tmp_path, central, page=2)
    assert alerts.refresh() == 5
    assert central.calls == [(0, 2), (2, 2), (4, 2)]
    assert alerts.version == 5 and len(alerts) == 5
    central.add("a5", "L00005")
    assert alerts.refresh() == 1 and central.calls[-1] == (5, 2)
    assert alerts.refresh() == 0
    alerts.close()


def test_withdrawn_alert_leaves_the_cache(tmp_path):
    central = FakeCentral()
    central.add("a1", "X4829A17")
    alerts = cache(tmp_path, central)
    alerts.refresh()
    assert numbers(alerts.check_document("X4829A17", "P", "UTO", TODAY)) == [("a1", "exact")]
    central.add("a1", "X4829A17", withdrawn=True)
    alerts.refresh()
    assert alerts.check_document("X4829A17", "P", "UTO", TODAY) == [] and len(alerts) == 0
    alerts.close()


def test_matching_rule(tmp_path):
    central = FakeCentral()
    central.add("exact", "L898902C3", handling_instruction="Seize it.")
    central.add("ocr", "L8989O2C3", reason=LOST)  # typed with the letter O
    central.add("other-state", "L898902C3", state="DEU")
    central.add("visa-only", "L898902C3", doc_type="V")
    central.add("expired", "L898902C3", valid_to="2026-11-24")
    central.add("future", "L898902C3", valid_from="2026-11-26")
    central.add("any-state", "L898902C3", state="", doc_type="")
    alerts = cache(tmp_path, central)
    alerts.refresh()
    hits = alerts.check_document("L898902C3", "P<", "UTO", TODAY)
    assert numbers(hits) == [("exact", "exact"), ("any-state", "exact"), ("ocr", "ocr_variant")]
    assert hits[0].describe() == "stolen (exact, alert exact): Seize it."
    assert hits[2].describe() == "lost (ocr_variant, alert ocr)"
    assert numbers(alerts.check_document("L 898902-C3", "", "", TODAY))[:2] == [("exact", "exact"),
                                                                                ("other-state", "exact")]
    assert numbers(alerts.check_document("L898902C3", "P", "D<<", TODAY)) == [("other-state", "exact"),
                                                                              ("any-state", "exact")]
    with pytest.raises(ValueError, match="document_number"):
        alerts.check_document("<<<", "P", "UTO", TODAY)
    alerts.close()


def test_person_alerts_are_kept_and_matched_as_central_matches(tmp_path):
    central = FakeCentral()
    central.add("d1", "L00001")
    central.add_person("p1", "MÜLLER", "HANS PETER", "1970-03-04", nationality="DEU",
                       handling_instruction="Detain.")
    central.add_person("p2", "DUBOIS", "ANTOINE", "", valid_to="2026-01-31")  # expired
    central.add_person("p3", "NOVAK", "JAN", "1990-12-24")
    alerts = cache(tmp_path, central, page=2)
    alerts.refresh()
    assert len(alerts) == 4
    hits = alerts.check_person("MUELLER", "HANS", dt.date(1970, 4, 3), "D", TODAY)  # day and month swapped
    assert [(h.alert_id, h.reason) for h in hits] == [("p1", "arrest")]
    assert "birth date with day and month swapped" in hits[0].explanation
    assert hits[0].describe().endswith(": Detain.") and 0.8 <= hits[0].score < 1.0
    assert alerts.check_person("DUBOIS", "ANTOINE", dt.date(1985, 1, 1), "FRA", TODAY) == []  # out of force
    assert alerts.check_person("MUELLER", "HANS", dt.date(1971, 3, 4), "DEU", TODAY) == []  # another person
    central.add_person("p3", "NOVAK", "JAN", "1990-12-24", withdrawn=True)
    alerts.refresh()
    assert alerts.check_person("NOVAK", "JAN", dt.date(1990, 12, 24), "CZE", TODAY) == [] and len(alerts) == 3
    alerts.close()


def test_never_loaded_cache_does_not_answer(tmp_path):
    alerts = cache(tmp_path, FakeCentral())
    with pytest.raises(NeverSynced):
        alerts.check_document("X4829A17", "P", "UTO", TODAY)
    with pytest.raises(NeverSynced):
        alerts.age()
    alerts.refresh()  # an empty list, once loaded, is an answer: no alert
    assert alerts.check_document("X4829A17", "P", "UTO", TODAY) == []
    assert alerts.age() == dt.timedelta(0)
    alerts.close()


def test_survives_a_restart_and_resumes_from_its_version(tmp_path):
    central = FakeCentral()
    central.add("a1", "X4829A17")
    first = cache(tmp_path, central)
    first.refresh()
    first.close()
    central.add("a2", "Y5530B21")
    again = cache(tmp_path, central)
    assert again.version == 1 and again.synced_at == NOW
    assert again.refresh() == 1 and central.calls[-1] == (1, 1000)
    assert len(again) == 2
    again.close()


def test_central_behind_the_cache_means_a_full_reload(tmp_path):
    central = FakeCentral()
    central.add("a1", "X4829A17")
    central.add("a2", "Y5530B21")
    alerts = cache(tmp_path, central)
    alerts.refresh()
    central.changes = central.changes[:1]  # central restored from a backup that predates a2
    alerts.refresh()
    assert alerts.version == 1 and numbers(alerts.check_document("Y5530B21", "P", "UTO", TODAY)) == []
    alerts.close()


def test_refresh_cut_short_keeps_what_arrived_and_the_old_sync_time(tmp_path):
    central = FakeCentral()
    for n in range(3):
        central.add(f"a{n}", f"L0000{n}")
    alerts = cache(tmp_path, central, page=2)
    fetch = central.fetch
    pages = []

    def flaky(since, limit):
        if pages:
            raise ConnectionError("central went away")
        pages.append(since)
        return fetch(since, limit)

    alerts.fetch = flaky
    with pytest.raises(ConnectionError):
        alerts.refresh()
    assert alerts.version == 2 and alerts.synced_at is None
    alerts.fetch = fetch
    alerts.refresh()
    assert alerts.version == 3 and alerts.synced_at == NOW
    alerts.close()


def test_same_answers_as_central(tmp_path, dev_pki):
    """The cache loaded from a real central answers CheckDocument and CheckPerson as central does."""
    from central.access.roles import AccessPolicy
    from central.rpc.server import serve

    server, port = serve("127.0.0.1:0", f"sqlite:///{tmp_path / 'central.sqlite'}", tls=dev_pki.server(),
                         access=AccessPolicy.demo())
    # Central's demo identities (the demo policy, asked for): an administrator issues, the gate asks.
    admin = CentralClient(f"127.0.0.1:{port}", timeout=10, tls=dev_pki.user("demo-admin"))
    client = CentralClient(f"127.0.0.1:{port}", timeout=10, tls=dev_pki.station("DEMO-EGATE-01"))
    try:
        for number, state, doc_type, window in [("L898902C3", "UTO", "P", {}), ("Z8B1S05", "DEU", "", {}),
                                                ("AB12345", "", "I", {}), ("OLD0001", "UTO", "P",
                                                                          {"valid_to": "2020-01-01"})]:
            admin.call("AddDocumentAlert", central_pb2.AddDocumentAlertRequest(
                document_number=number, issuing_state=state, document_type=doc_type, reason=STOLEN,
                handling_instruction="Seize it.", **window))
        withdrawn = admin.call("AddDocumentAlert", central_pb2.AddDocumentAlertRequest(
            document_number="W1THDRAWN", reason=LOST))
        admin.call("WithdrawAlert", central_pb2.WithdrawAlertRequest(alert_id=withdrawn.alert_id, reason="found"))
        alerts = AlertCache(tmp_path / "edge.sqlite",
                            lambda since, limit: client.call("AlertDelta", central_pb2.AlertDeltaRequest(
                                since_version=since, limit=limit)), page=2)
        alerts.refresh()
        today = dt.date.today()
        matches = set()
        for number, doc_type, state in [("L898902C3", "P", "UTO"), ("L8989O2C3", "P<", "UTO"),
                                        ("L898902C3", "V", "UTO"), ("L898902C3", "P", "FRA"),
                                        ("28815O5", "P", "D"), ("Z8B1S05", "P", ""), ("A812345", "ID", "FRA"),
                                        ("AB12345", "P", "FRA"), ("OLD0001", "P", "UTO"), ("W1THDRAWN", "P", ""),
                                        ("NOPE1234", "P", "UTO")]:
            reply = client.call("CheckDocument", central_pb2.CheckDocumentRequest(
                document_number=number, document_type=doc_type, issuing_state=state))
            expected = [(hit.alert_id, hit.match) for hit in reply.hits]
            assert numbers(alerts.check_document(number, doc_type, state, today)) == expected, number
            matches.update(match for _, match in expected)
        assert matches == {"exact", "ocr_variant"}

        for surname, given, birth, nationality in [("MUELLER", "HANS PETER", "1970-03-04", "DEU"),
                                                   ("DUBOIS", "ANTOINE", "1985-07-01", "")]:
            admin.call("AddPersonAlert", central_pb2.AddPersonAlertRequest(
                surname=surname, given_names=given, birth_date=birth, nationality=nationality,
                reason=central_pb2.PersonAlert.ENTRY_BAN, handling_instruction="Refuse entry."))
        alerts.refresh()
        found = set()
        for surname, given, birth, nationality in [
                ("MULLER", "HANS", "1970-03-04", "DEU"),      # umlaut spelling, missing middle name
                ("HANS PETER", "MUELLER", "1970-04-03", "D"),  # names swapped, day and month swapped
                ("MUELLER", "HANS PETER", "1971-03-04", "DEU"),  # another birth date: another person
                ("DUBOIS", "ANTOINE", "1985-07-01", "FRA"), ("DUPONT", "ANTOINE", "1985-07-01", "FRA")]:
            reply = client.call("CheckPerson", central_pb2.CheckPersonRequest(
                surname=surname, given_names=given, birth_date=birth, nationality=nationality))
            expected = [(hit.alert_id, round(hit.score, 3)) for hit in reply.hits]
            cached = alerts.check_person(surname, given, dt.date.fromisoformat(birth), nationality, today)
            assert [(hit.alert_id, round(hit.score, 3)) for hit in cached] == expected, (surname, given)
            found.update(alert_id for alert_id, _ in expected)
        assert len(found) == 2
        alerts.close()
    finally:
        admin.close()
        client.close()
        server.stop(grace=0).wait()
