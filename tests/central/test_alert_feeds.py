"""Alert feeds: read strictly, applied whole or not at all, written back to the same values, fuzzed."""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from central.access.audit import Caller
from central.alerts import feeds, lists
from central.alerts.feed_format import FeedError, read_feed, write_feed
from central.database import models as m
from central.database.engine import Database
from limes.cli import build_parser

SAMPLE = Path(__file__).parent / "fixtures" / "alert_feed.json"
CLERK = Caller("cli", "clerk")
NOW = dt.datetime(2026, 12, 6, 16, 0, tzinfo=dt.timezone.utc)


def sample() -> dict:
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


def text(document: dict) -> str:
    return json.dumps(document, ensure_ascii=False)


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


def imported(database: Database, document: dict) -> feeds.ImportSummary:
    feed = read_feed(text(document))
    return database.run(lambda s: feeds.import_feed(s, CLERK, feed))


def counts(database: Database) -> tuple[int, int]:
    return database.run(lambda s: (s.scalar(select(func.count(m.DocumentAlert.id))),
                                   s.scalar(select(func.count(m.PersonAlert.id)))))


# ---------------------------------------------------------------- applying

def test_the_sample_feed_is_applied_and_its_alerts_are_checked(database):
    summary = imported(database, sample())
    assert summary.as_dict() == {"issuer": "UTO-NCB", "documents": {"added": 2}, "persons": {"added": 2}}
    gagarin = database.run(lambda s: s.scalar(select(m.PersonAlert).where(m.PersonAlert.surname == "Гагарин")))
    assert (gagarin.notice, gagarin.notice_kind, gagarin.reason) == (
        m.PersonNotice.RED, m.NoticeKind.DIFFUSION, m.PersonAlertReason.ARREST)
    greek = database.run(lambda s: s.scalar(select(m.PersonAlert).where(m.PersonAlert.notice == m.PersonNotice.GREEN)))
    assert greek.notice_kind is m.NoticeKind.NOTICE and greek.issuing_agency == "UTO-NCB"  # the feed's issuer
    from drivers.alertmatch.persons import Identity

    hits = database.run(lambda s: lists.check_person(s, CLERK, Identity("GAGARIN", "IURII", dt.date(1980, 3, 4),
                                                                        "UTO"), dt.date(2026, 12, 6)))
    assert [h.alert.alert_id for h in hits] == ["9a4c2e18-7b5d-4e0f-a3c6-1d8b2f7e6a90"]
    blank = database.run(lambda s: s.scalar(select(m.DocumentAlert).where(m.DocumentAlert.number == "C01X00T47")))
    assert (blank.category, blank.reason) == (m.DocumentAlertCategory.STOLEN_BLANK, m.DocumentAlertReason.STOLEN)
    actions = database.run(lambda s: list(s.scalars(select(m.AuditEntry.action))))
    assert actions.count("ImportAlertFeed") == 1 and actions.count("AddPersonAlert") == 2


def test_importing_the_same_feed_again_changes_nothing(database):
    imported(database, sample())
    version = database.run(lambda s: s.get(m.AlertVersion, 1).value)
    again = imported(database, sample())
    assert again.documents == {"unchanged": 2} and again.persons == {"unchanged": 2}
    assert database.run(lambda s: s.get(m.AlertVersion, 1).value) == version  # gates fetch nothing new


def test_a_later_feed_updates_and_withdraws(database):
    imported(database, sample())
    later = sample()
    later["persons"][0]["handling_instruction"] = "Detain at once"
    later["documents"][1]["withdrawn"] = True
    later["documents"].append({**later["documents"][1], "alert_id": "7c1d5e93-4b2a-4f08-9e6d-3a5b8c0f1d27",
                               "document_number": "Z9", "withdrawn": True})
    summary = imported(database, later)
    assert summary.documents == {"unchanged": 1, "withdrawn": 1, "withdrawn_unknown": 1}
    assert summary.persons == {"unchanged": 1, "updated": 1}
    lost = database.run(lambda s: s.scalar(select(m.DocumentAlert).where(m.DocumentAlert.number == "L898902C3")))
    assert lost.withdrawn


def test_an_entry_refused_when_applied_leaves_nothing_of_the_feed(database):
    imported(database, {**sample(), "documents": sample()["documents"][:1], "persons": []})
    database.run(lambda s: lists.withdraw_alert(s, CLERK, "0b0e7a51-6f0b-4b7e-9c57-0d2a1c3e4f50", "found"))
    feed = sample()
    feed["documents"][0]["handling_instruction"] = "changed"  # an alert withdrawn here cannot be changed
    feed["documents"] = [feed["documents"][1], feed["documents"][0]]  # after a good entry
    with pytest.raises(FeedError) as caught:
        imported(database, feed)
    assert "documents[1] (alert 0b0e7a51-6f0b-4b7e-9c57-0d2a1c3e4f50): " in str(caught.value)
    assert "was withdrawn" in str(caught.value)
    assert counts(database) == (1, 0)  # neither the document before it nor the persons after it


def test_an_alert_id_held_for_the_other_kind_is_refused(database):
    imported(database, sample())
    feed = sample()
    feed["documents"][0]["alert_id"] = feed["persons"][0]["alert_id"]
    feed["persons"] = []
    with pytest.raises(FeedError, match="is a person alert here"):
        imported(database, feed)


def test_export_then_import_elsewhere_gives_the_same_feed(database, tmp_path):
    imported(database, sample())
    exported = database.run(lambda s: feeds.export_feed(s, CLERK, "DEU-BPOL", NOW))
    assert read_feed(write_feed(exported)) == exported
    elsewhere = Database(f"sqlite:///{tmp_path / 'elsewhere.sqlite'}")
    elsewhere.migrate()
    try:
        feed = read_feed(write_feed(exported))
        assert elsewhere.run(lambda s: feeds.import_feed(s, CLERK, feed)).documents == {"added": 2}
        again = elsewhere.run(lambda s: feeds.export_feed(s, CLERK, "DEU-BPOL", NOW))
    finally:
        elsewhere.dispose()
    assert again == exported


def test_export_leaves_withdrawn_alerts_out_unless_asked(database):
    imported(database, sample())
    database.run(lambda s: lists.withdraw_alert(s, CLERK, "5d7f3c20-2a9e-4f61-8b3d-6e1f0a9c8b72", "found"))
    in_force = database.run(lambda s: feeds.export_feed(s, CLERK, "X", NOW))
    everything = database.run(lambda s: feeds.export_feed(s, CLERK, "X", NOW, include_withdrawn=True))
    assert len(in_force.documents) == 1
    assert [d.withdrawn for d in everything.documents] == [False, True]


# ---------------------------------------------------------------- reading strictly

def with_change(path: tuple, value) -> dict:
    document = sample()
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


@pytest.mark.parametrize("document, problem", [
    (with_change(("format",), "csv"), "feed.format: must be 'limes-alert-feed'"),
    (with_change(("version",), 2), "feed.version: must be 1"),
    (with_change(("version",), True), "feed.version: must be 1"),
    (with_change(("issuer",), ""), "feed.issuer: is required"),
    (with_change(("generated_at",), "2026-12-06 15:00"), "feed.generated_at: an RFC 3339 instant"),
    (with_change(("persons",), {}), "feed.persons: an array, not an object"),
    (with_change(("extra",), 1), "feed: unknown key(s) 'extra'"),
    (with_change(("persons", 0, "birth_date"), "04/03/1980"), "persons[0].birth_date: a date as YYYY-MM-DD"),
    (with_change(("persons", 0, "birth_date"), 19800304), "persons[0].birth_date: a string, not a number"),
    (with_change(("persons", 0, "surname"), " "), "persons[0].surname: is required"),
    (with_change(("persons", 0, "surname"), "A\u0000B"), "persons[0].surname: holds control characters"),
    (with_change(("persons", 0, "reason"), "WANTED"), "persons[0].reason: one of ENTRY_BAN"),
    (with_change(("persons", 0, "notice"), "PINK"), "persons[0].notice: one of RED, YELLOW, BLUE"),
    (with_change(("persons", 0, "notice"), ""), "persons[0].notice_kind: DIFFUSION of no notice"),
    (with_change(("persons", 0, "alert_id"), "42"), "persons[0].alert_id: a UUID"),
    (with_change(("persons", 0, "nationality"), "Utopia"), "persons[0].nationality: at most 3 characters"),
    (with_change(("persons", 0, "nationality"), "ut"), "persons[0].nationality: an ICAO state code"),
    (with_change(("persons", 0, "withdrawn"), "no"), "persons[0].withdrawn: true or false, not a string"),
    (with_change(("persons", 0, "valid_to"), "2020-01-01"), None),
    (with_change(("persons", 0, "colour"), "red"), "persons[0]: unknown key(s) 'colour'"),
    (with_change(("documents", 0, "category"), "LOST"), "documents[0].category: LOST is not a document listed as"),
    (with_change(("documents", 0, "document_number"), "--"), "documents[0].document_number: '--' holds no letter"),
    (with_change(("documents", 0, "document_type"), "PASS"), "documents[0].document_type: at most 2 characters"),
    (with_change(("documents", 0, "reason"), KeyError), "documents[0].reason: is required"),
    (with_change(("documents", 1), []), "documents[1]: an object, not an array"),
    (with_change(("documents", 1, "alert_id"), "0b0e7a51-6f0b-4b7e-9c57-0d2a1c3e4f50"),
     "documents[1].alert_id: 0b0e7a51-6f0b-4b7e-9c57-0d2a1c3e4f50 is also documents[0]'s"),
])
def test_malformed_feeds_are_refused_with_where_and_why(database, document, problem):
    if problem is None:  # a validity window ending before it starts
        document["persons"][0]["valid_from"] = "2021-01-01"
        problem = "persons[0].valid_to: 2020-01-01 is before valid_from 2021-01-01"
    with pytest.raises(FeedError) as caught:
        imported(database, document)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems
    assert counts(database) == (0, 0)


@pytest.mark.parametrize("raw, problem", [
    (b"\xff\xfe{}", "feed: not UTF-8"),
    (b'{"format": "limes-alert-feed", "format": "x"}', "feed: duplicate key(s) 'format'"),
    (b'{"version": NaN}', "feed: NaN is not a JSON number"),
    (b"[1, 2", "feed: not JSON"),
    (b"[]", "feed: an object, not an array"),
    (b"[" * 100000 + b"]" * 100000, "feed: "),
])
def test_text_that_is_no_feed_is_refused(raw, problem):
    with pytest.raises(FeedError) as caught:
        read_feed(raw)
    assert caught.value.problems[0].startswith(problem)


def test_every_problem_is_listed_not_only_the_first():
    document = sample()
    document["persons"][0]["birth_date"] = "x"
    document["documents"][1]["category"] = "STOLEN"
    with pytest.raises(FeedError) as caught:
        read_feed(text(document))
    assert [p.split(":")[0] for p in caught.value.problems] == ["documents[1].category", "persons[0].birth_date"]


# ---------------------------------------------------------------- fuzzing

FUZZ = settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)


@FUZZ
@given(st.binary(max_size=300))
def test_bytes_give_a_feed_or_a_feed_error(raw):
    try:
        read_feed(raw)
    except FeedError as error:
        assert error.problems


@FUZZ
@given(st.sampled_from(["documents", "persons"]), st.integers(0, 1), st.text(min_size=1, max_size=15), JSON_VALUES)
def test_any_value_in_any_field_gives_a_feed_or_a_feed_error(kind, index, key, value):
    document = sample()
    fields = list(document[kind][index])
    document[kind][index][fields[sum(map(ord, key)) % len(fields)] if key.isdigit() else key] = value
    try:
        read_feed(text(document))
    except FeedError as error:
        assert error.problems and all(p.startswith(f"{kind}[{index}]") for p in error.problems)


@FUZZ
@given(JSON_VALUES)
def test_any_json_gives_a_feed_or_a_feed_error(value):
    try:
        read_feed(json.dumps(value))
    except FeedError as error:
        assert error.problems


NAME = st.text(alphabet=st.sampled_from("ABCÄÖÜабвгдежαβγδεمحد -'"), min_size=1, max_size=30).filter(str.strip)


@FUZZ
@given(NAME, NAME, st.sampled_from(list(m.PersonNotice) + [None]), st.sampled_from(list(m.NoticeKind)),
       st.dates(dt.date(1900, 1, 1), dt.date(2030, 1, 1)) | st.none())
def test_a_written_feed_reads_back_to_the_same_values(surname, given_names, notice, kind, born):
    from central.alerts.feed_format import Feed, FeedPerson

    person = FeedPerson("9a4c2e18-7b5d-4e0f-a3c6-1d8b2f7e6a90", surname.strip(), given_names.strip(), born, "UTO",
                        m.PersonAlertReason.ARREST, notice, kind if notice else None, "", "", None, None, False)
    feed = Feed("UTO", NOW, [], [person])
    assert read_feed(write_feed(feed)) == feed


# ---------------------------------------------------------------- the commands

def run(argv, capsys):
    args = build_parser().parse_args(argv)
    return args.func(args), capsys.readouterr()


def test_import_feed_command_applies_or_refuses_whole(database_url, tmp_path, capsys):
    code, out = run(["central", "alerts", "import-feed", str(SAMPLE), "--database", database_url, "--json"], capsys)
    assert code == 0 and json.loads(out.out)["persons"] == {"added": 2}
    bad = tmp_path / "bad.json"
    broken = sample()
    broken["persons"][1]["notice"] = "PINK"
    bad.write_text(text(broken), encoding="utf-8")
    code, out = run(["central", "alerts", "import-feed", str(bad), "--database", database_url, "--json"], capsys)
    result = json.loads(out.out)
    assert code == 1 and result["applied"] is False
    assert result["problems"][0].startswith("persons[1].notice: one of RED")
    database = Database(database_url)
    try:
        refusals = database.run(lambda s: list(s.scalars(select(m.AuditEntry.outcome).where(
            m.AuditEntry.action == "ImportAlertFeed", m.AuditEntry.outcome.startswith("refused")))))
    finally:
        database.dispose()
    assert len(refusals) == 1 and "persons[1].notice" in refusals[0]


def test_export_feed_command_writes_a_feed_the_importer_reads(database_url, tmp_path, capsys):
    run(["central", "alerts", "import-feed", str(SAMPLE), "--database", database_url], capsys)
    out_file = tmp_path / "out.json"
    code, out = run(["central", "alerts", "export-feed", "--issuer", "DEU-BPOL", "--database", database_url,
                     "-o", str(out_file), "--json"], capsys)
    assert code == 0 and json.loads(out.out) == {"issuer": "DEU-BPOL", "documents": 2, "persons": 2,
                                                 "output": str(out_file)}
    feed = read_feed(out_file.read_bytes())
    assert {p.surname for p in feed.persons} == {"Гагарин", "Παπαδόπουλος"}
    code, out = run(["central", "alerts", "export-feed", "--issuer", "X", "--database", database_url], capsys)
    assert code == 0 and read_feed(out.out).issuer == "X"


def test_the_sample_is_not_changed_by_reading(database):
    before = copy.deepcopy(sample())
    read_feed(text(before))
    assert before == sample()


def test_the_published_schema_names_what_the_reader_reads():
    """docs/alert-feed.schema.json and the reader agree on keys, required keys and enum values
    (the schema is documentation: no JSON Schema validator is a dependency)."""
    schema = json.loads((Path(__file__).parents[2] / "docs" / "alert-feed.schema.json").read_text())
    document = sample()
    assert set(schema["properties"]) == set(document)
    for kind, definition in (("documents", schema["$defs"]["document"]), ("persons", schema["$defs"]["person"])):
        assert set(definition["properties"]) == set(document[kind][0]), kind
        for required in definition["required"]:
            entry = dict(document[kind][0])
            del entry[required]
            with pytest.raises(FeedError, match=f"{kind}\\[0\\].{required}: is required"):
                read_feed(text({**document, kind: [entry]}))
    enums = {("document", "reason"): m.DocumentAlertReason, ("document", "category"): m.DocumentAlertCategory,
             ("person", "reason"): m.PersonAlertReason, ("person", "notice"): m.PersonNotice,
             ("person", "notice_kind"): m.NoticeKind}
    for (kind, key), enum_class in enums.items():
        assert set(schema["$defs"][kind]["properties"][key]["enum"]) - {""} == {e.value for e in enum_class}
