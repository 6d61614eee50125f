"""Legacy 5x5x5 records: read from JSON lines or CSV, mapped to 3x5x2, imported whole or not at all."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from central.access.audit import Caller
from central.database import models as m
from central.intelligence import clearance, legacy_import
from central.intelligence.legacy_format import FIELDS, LegacyFormatError, read_records
from limes.cli import build_parser
from tests.central.intelligence.conftest import TODAY, record

FIXTURE = Path(__file__).parent / "fixtures" / "legacy_5x5x5.csv"
IMPORTER = Caller("cli", "ada", "intelligence: legacy 5x5x5 import")


def jsonl(*rows: dict) -> bytes:
    return "\n".join(json.dumps(row) for row in rows).encode()


def row(**changes) -> dict:
    return {"reference": "R-1", "source": "C", "intelligence": "2", "handling": "4", "source_kind": "human",
            "text": "Seen at the port"} | changes


def test_the_csv_fixture_reads_with_its_lines_and_mapped_gradings():
    records = read_records(FIXTURE.read_bytes())
    assert [(r.line, r.reference, r.grading.code, r.grading.legacy) for r in records] == [
        (2, "NIM-2014-0001", "2B C", "B35"), (3, "NIM-2014-0002", "1A P", "A11"), (4, "NIM-2015-0107", "2D C", "E42")]
    assert records[0].links == (("vehicle", "white van B-XY 123"), ("route", "IST-FRA"))
    assert records[2].text.endswith("on two lines") and records[2].classification == "RESTRICTED"
    assert records[2].grading.handling_conditions.endswith("; only with the SIO's agreement")
    assert records[1].review_by is None and records[2].review_by == dt.date(2020, 1, 31)


def test_every_bad_row_is_named_with_its_line_and_reason():
    data = jsonl(row(), row(reference="R-2", source="F"), row(reference="R-3", intelligence="6"),
                 row(reference="R-1"), row(reference="R-4", source_kind="rumour"),
                 row(reference="R-5", links=["ship: Mary"]), row(reference="R-6", review_by="31/12/2027"),
                 row(reference="R-7", colour="red"))
    data += b"\n\n[1, 2]\n{not json\n" + jsonl(row(reference="R-8", text="   "))
    with pytest.raises(LegacyFormatError) as refused:
        read_records(data)
    assert refused.value.problems == [
        "line 2: source 'F' is not A to E",
        "line 3: intelligence '6' is not 1 to 5",
        "line 4: reference 'R-1' is also on line 1",
        "line 5: source_kind 'rumour' is not one of human, officer, open, partner, system",
        "line 6: link 'ship: Mary': write it as 'kind: target', kind one of person, document, crossing, referral, "
        "vehicle, route, organisation",
        "line 7: review_by '31/12/2027' is not a date YYYY-MM-DD",
        "line 8: unknown field(s) colour (known: " + ", ".join(FIELDS) + ")",
        "line 10: not a JSON object",
        "line 11: not JSON: Expecting property name enclosed in double quotes",
        "line 12: text is required",
    ]


def test_a_csv_without_a_required_column_or_with_a_ragged_row_is_refused():
    with pytest.raises(LegacyFormatError, match="missing: text"):
        read_records(b"reference,source,intelligence,handling,source_kind\nR,A,1,1,human\n")
    with pytest.raises(LegacyFormatError, match="line 3: 5 cells, the header has 6"):
        read_records(b"reference,source,intelligence,handling,source_kind,text\nR,A,1,1,human,x\nS,A,1,1,human\n")
    with pytest.raises(LegacyFormatError, match="no record"):
        read_records(b"   \n")


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=600) | st.text(max_size=400).map(str.encode))
def test_any_bytes_are_records_or_a_refusal_with_lines(data):
    try:
        records = read_records(data)
    except LegacyFormatError as exc:
        assert exc.problems and all(p.startswith(("line ", "file: ")) for p in exc.problems)
    else:
        assert records and all(r.grading.shareable for r in records)


_cell = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "source": st.sampled_from("ABCDE"), "intelligence": st.sampled_from("12345"),
    "handling": st.sampled_from("12345"), "source_kind": st.sampled_from(["human", "open", "partner"]),
    "text": _cell, "handling_conditions": st.one_of(st.just(""), _cell),
    "links": st.lists(_cell.filter(lambda t: "|" not in t).map(lambda t: f"route: {t.strip()}"), max_size=3)}),
    min_size=1, max_size=5), st.booleans())
def test_records_written_as_csv_or_json_lines_read_back_the_same(rows, as_csv):
    rows = [dict(r, reference=f"R-{i}") for i, r in enumerate(rows)]
    if as_csv:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(dict(r, links=" | ".join(r["links"])) for r in rows)
        data = out.getvalue().encode()
    else:
        data = jsonl(*rows)
    records = read_records(data)
    assert [(r.reference, r.grading.legacy, r.text, [t for _, t in r.links]) for r in records] == [
        (r["reference"], r["source"] + r["intelligence"] + r["handling"], r["text"].strip(),
         [link.partition(":")[2].strip() for link in r["links"]]) for r in rows]
    assert all(r.grading.handling_code == ("P" if w["handling"] == "1" and not w["handling_conditions"].strip()
                                           else "C") for r, w in zip(records, rows))


# ---------------------------------------------------------------- into the database

def test_a_file_imports_whole_with_the_importer_as_originator(database):
    database.run(lambda s: clearance.set_clearance(s, Caller("cli", "root"), "ada", "RAU", "RESTRICTED"))
    records = read_records(FIXTURE.read_bytes())
    done = database.run(lambda s: legacy_import.import_records(s, IMPORTER, clearance.reader(s, "ada"), records,
                                                               TODAY))
    assert (done.reports, done.handled_c, done.handled_p, done.overdue) == (3, 2, 1, 1)
    rows = database.run(lambda s: [(r.legacy_reference, r.legacy_grading, r.originator, r.unit, r.review_by)
                                   for r in s.scalars(select(m.IntelReport).order_by(m.IntelReport.id))])
    assert rows == [("NIM-2014-0001", "B35", "ada", "RAU", dt.date(2027, 6, 30)),
                    ("NIM-2014-0002", "A11", "ada", "RAU", TODAY + dt.timedelta(days=365)),
                    ("NIM-2015-0107", "E42", "ada", "RAU", dt.date(2020, 1, 31))]
    actions = database.run(lambda s: [(a.action, a.user_name) for a in s.scalars(select(m.AuditEntry).where(
        m.AuditEntry.action.in_(("FileIntelReport", "ImportLegacyIntel"))).order_by(m.AuditEntry.id))])
    assert actions == [("FileIntelReport", "ada")] * 3 + [("ImportLegacyIntel", "ada")]
    # The same file again: every reference was imported before, nothing is added.
    with pytest.raises(LegacyFormatError, match="line 2: reference 'NIM-2014-0001' was imported before"):
        database.run(lambda s: legacy_import.import_records(s, IMPORTER, clearance.reader(s, "ada"), records, TODAY))
    assert database.run(lambda s: s.scalar(select(func.count()).select_from(m.IntelReport))) == 3


def test_one_bad_link_or_level_refuses_the_whole_file(database):
    crossing = record(database, "MUSTER", dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone.utc))
    records = read_records(jsonl(
        row(links=[f"crossing: {crossing}"]),
        row(reference="R-2", links=["person: 999999"]),
        row(reference="R-3", classification="SECRET"),
        row(reference="R-4", review_by="2031-01-01")))
    with pytest.raises(LegacyFormatError) as refused:
        database.run(lambda s: legacy_import.import_records(s, IMPORTER, clearance.reader(s, "nobody"), records,
                                                            TODAY))
    assert refused.value.problems == [
        "line 2: person '999999' not found",
        "line 3: classification: SECRET is above your clearance (none: OFFICIAL only)",
        "line 4: review_by: a date after today and within 1098 days is required"]
    assert database.run(lambda s: s.scalar(select(func.count()).select_from(m.IntelReport))) == 0


def run(argv: list[str], capsys):
    args = build_parser().parse_args(argv)
    return args.func(args), capsys.readouterr()


def test_the_command_imports_or_refuses_with_json(database_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("getpass.getuser", lambda: "ada")
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(jsonl(row(), row(reference="R-2", handling="9")))
    code, out = run(["central", "intel", "import-5x5x5", str(bad), "--database", database_url, "--json"], capsys)
    assert code == 1 and json.loads(out.out) == {"imported": False, "problems": ["line 2: handling '9' is not 1 to 5"]}
    good = tmp_path / "good.jsonl"
    good.write_bytes(jsonl(row(), row(reference="R-2", source="A", intelligence="1", handling="1")))
    code, out = run(["central", "intel", "import-5x5x5", str(good), "--database", database_url, "--json"], capsys)
    result = json.loads(out.out)
    assert code == 0 and (result["reports"], result["handled_c"], result["handled_p"]) == (2, 1, 1)
    from central.database.engine import Database
    database = Database(database_url)
    try:
        audited = database.run(lambda s: [(a.station, a.user_name, a.outcome) for a in s.scalars(
            select(m.AuditEntry).where(m.AuditEntry.action == "ImportLegacyIntel").order_by(m.AuditEntry.id))])
    finally:
        database.dispose()
    assert audited == [("cli", "ada", "REFUSED: 1 problem(s), nothing imported"),
                       ("cli", "ada", "imported: 1 C, 1 P, 0 overdue")]
