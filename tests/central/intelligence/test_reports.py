"""Reports filed, read on need to know and reviewed; the intelligence cycle. Every read is audited."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from central.access.audit import Caller
from central.access.roles import PermissionDenied
from central.database import models as m
from central.errors import InvalidArgument, NotFound
from central.intelligence import clearance, cycle
from central.intelligence import reports as intel
from central.intelligence.clearance import Access, Review
from central.intelligence.grading import grade
from tests.central.intelligence.conftest import TODAY, record

ADMIN = Caller("cli", "admin")


def who(database, user: str, reviewer: bool = False) -> clearance.Reader:
    return database.run(lambda s: clearance.reader(s, user, reviewer))


def clear(database, user: str, unit: str, level: str) -> None:
    database.run(lambda s: clearance.set_clearance(s, ADMIN, user, unit, level))


def new(**overrides) -> intel.NewReport:
    fields = dict(source_kind="officer", grading=grade("1", "B", "P"), classification="RESTRICTED",
                  text="Facilitator seen with a new group", review_by=TODAY + dt.timedelta(days=90),
                  sanitised_text="A facilitator was seen with a group.")
    fields.update(overrides)
    return intel.NewReport(**fields)


def file(database, user: str, report: intel.NewReport) -> str:
    return database.run(lambda s: intel.file_report(s, Caller("web-desk", user), clearance.reader(s, user),
                                                    report, TODAY).reference)


def read(database, user: str, reference: str, today=TODAY, reviewer=False) -> intel.ReportView:
    def work(session):
        view = intel.read_report(session, Caller("web-desk", user), clearance.reader(session, user, reviewer),
                                 reference, today)
        return view.access, view.why, view.review, view.links
    return database.run(work)


def audit_outcomes(database, action: str) -> list[tuple[str, str]]:
    return database.run(lambda s: list(s.execute(select(m.AuditEntry.user_name, m.AuditEntry.outcome).where(
        m.AuditEntry.action == action).order_by(m.AuditEntry.id)).all()))


@pytest.fixture
def unit(database):
    clear(database, "ivo", "RAU", "CONFIDENTIAL")
    clear(database, "ina", "RAU", "OFFICIAL")
    clear(database, "oskar", "AIRPORT-FRA", "SECRET")
    return database


def test_the_originator_is_the_caller_and_links_name_what_they_point_at(unit):
    crossing = record(unit, "SMITH", dt.datetime(2026, 11, 20, 8, tzinfo=dt.timezone.utc))
    traveller = unit.run(lambda s: s.scalar(select(m.Crossing.traveller_id)))
    reference = file(unit, "ivo", new(links=(("crossing", crossing), ("person", str(traveller)),
                                             ("vehicle", "white van B-XY 123"))))
    stored = unit.run(lambda s: s.scalar(select(m.IntelReport)))
    assert (stored.originator, stored.unit, stored.reference) == ("ivo", "RAU", reference)
    access, _, review, links = read(unit, "ivo", reference)
    assert access is Access.FULL and review is Review.CURRENT
    assert [(kind, what) for kind, _, what in links] == [
        ("crossing", "entry at FRA-T1 2026-11-20 08:00, SMITH"), ("person", "SMITH, A 1980-01-01 DEU"),
        ("vehicle", "white van B-XY 123")]
    assert audit_outcomes(unit, "FileIntelReport") == [("ivo", "1B P RESTRICTED, 3 link(s)")]


def test_a_report_is_refused_when_a_link_points_at_nothing_or_is_of_no_known_kind(unit):
    with pytest.raises(NotFound, match="crossing"):
        file(unit, "ivo", new(links=(("crossing", "no-such-crossing"),)))
    with pytest.raises(InvalidArgument, match="not one of"):
        file(unit, "ivo", new(links=(("boat", "MV Example"),)))
    assert unit.run(lambda s: s.scalar(select(m.IntelReport))) is None


def test_nobody_files_above_their_clearance_and_review_by_must_be_ahead(unit):
    with pytest.raises(InvalidArgument, match="above your clearance"):
        file(unit, "ina", new(classification="RESTRICTED"))
    with pytest.raises(InvalidArgument, match="above your clearance"):
        file(unit, "olga", new(classification="RESTRICTED"))  # no clearance: OFFICIAL only
    with pytest.raises(InvalidArgument, match="review_by"):
        file(unit, "ivo", new(review_by=TODAY))
    assert file(unit, "olga", new(classification="OFFICIAL"))  # an officer without a unit files to the RAU
    assert unit.run(lambda s: s.scalar(select(m.IntelReport.unit))) == clearance.DEFAULT_UNIT


def test_need_to_know_by_level_and_unit_leaves_the_sanitised_version_or_nothing(unit):
    reference = file(unit, "ivo", new())
    assert read(unit, "ina", reference)[:2] == (Access.SANITISED,
                                                "classified RESTRICTED, above your clearance OFFICIAL")
    assert read(unit, "oskar", reference)[:2] == (Access.SANITISED, "not disseminated to unit AIRPORT-FRA")
    assert read(unit, "nobody", reference)[:2] == (Access.NONE, "no clearance")
    shared = file(unit, "ivo", new(shared_with=("AIRPORT-FRA",), sanitised_text=""))
    assert read(unit, "oskar", shared)[0] is Access.FULL
    unshared = file(unit, "ivo", new(sanitised_text=""))
    assert read(unit, "oskar", unshared)[:2] == (Access.NONE, "not disseminated to unit AIRPORT-FRA")
    outcomes = audit_outcomes(unit, "ReadIntelReport")
    assert ("oskar", "PERMISSION_DENIED: not disseminated to unit AIRPORT-FRA") in outcomes
    assert ("nobody", "PERMISSION_DENIED: no clearance") in outcomes
    assert ("ina", "sanitised: classified RESTRICTED, above your clearance OFFICIAL") in outcomes


def test_a_list_shows_only_what_the_reader_may_read_and_is_audited(unit):
    file(unit, "ivo", new(sanitised_text=""))
    file(unit, "ivo", new(classification="OFFICIAL", sanitised_text=""))

    def listing(user):
        return unit.run(lambda s: [v.access for v in intel.list_reports(
            s, Caller("web-desk", user), clearance.reader(s, user), TODAY)])
    assert listing("ivo") == [Access.FULL, Access.FULL]
    assert listing("ina") == [Access.FULL]
    assert listing("oskar") == []
    assert audit_outcomes(unit, "ListIntelReports") == [("ivo", "2 shown"), ("ina", "1 shown"), ("oskar", "0 shown")]


def test_overdue_is_flagged_then_restricted_until_reviewed(unit):
    clear(unit, "sam", "RAU", "SECRET")
    reference = file(unit, "ivo", new(review_by=TODAY + dt.timedelta(days=10), sanitised_text=""))
    overdue, restricted = TODAY + dt.timedelta(days=11), TODAY + dt.timedelta(days=41)
    assert read(unit, "sam", reference, overdue)[::2] == (Access.FULL, Review.OVERDUE)
    assert read(unit, "sam", reference, restricted)[:2] == (
        Access.NONE, f"review overdue since {TODAY + dt.timedelta(days=10)}: restricted until reviewed")
    assert read(unit, "ivo", reference, restricted)[::2] == (Access.FULL, Review.RESTRICTED)  # the originator
    assert read(unit, "sam", reference, restricted, reviewer=True)[0] is Access.FULL
    assert unit.run(lambda s: intel.review_report(s, Caller("web-desk", "sam"), clearance.reader(s, "sam"),
                                                  reference, restricted + dt.timedelta(days=90), restricted)) is None
    assert audit_outcomes(unit, "ReviewIntelReport") == [
        ("sam", "PERMISSION_DENIED: neither its originator nor a reviewer with need to know")]
    unit.run(lambda s: intel.review_report(s, Caller("web-desk", "sam"), clearance.reader(s, "sam", True),
                                           reference, restricted + dt.timedelta(days=90), restricted))
    assert read(unit, "sam", reference, restricted)[::2] == (Access.FULL, Review.CURRENT)


def test_the_cycle_keeps_taskings_and_their_steps_per_unit(unit):
    caller = Caller("web-desk", "sam")
    sam = who(unit, "sam")
    with pytest.raises(PermissionDenied, match="supervisors"):
        unit.run(lambda s: cycle.add_step(s, caller, sam, cycle.NewStep("tasking", "Ring at FRA", "ivo"),
                                          may_task=False))
    tasking = unit.run(lambda s: cycle.add_step(s, caller, sam, cycle.NewStep(
        "tasking", "Ring at FRA", "ivo", due=TODAY + dt.timedelta(days=7)), may_task=True).id)
    with pytest.raises(InvalidArgument, match="answers a tasking"):
        unit.run(lambda s: cycle.add_step(s, caller, sam, cycle.NewStep("analysis", "Co-travel", "ivo"),
                                          may_task=False))
    reference = file(unit, "ivo", new())
    ivo = who(unit, "ivo")
    unit.run(lambda s: cycle.add_step(s, Caller("web-desk", "ivo"), ivo, cycle.NewStep(
        "collection", "Crossings at FRA", "ivo", parent_id=tasking, report_reference=reference), may_task=False))
    oskar = who(unit, "oskar")
    with pytest.raises(NotFound):  # another unit's tasking is not there for them
        unit.run(lambda s: cycle.add_step(s, Caller("web-desk", "oskar"), oskar, cycle.NewStep(
            "analysis", "x", "oskar", parent_id=tasking), may_task=False))
    shown = unit.run(lambda s: [(t.title, [(st.stage, st.owner, st.report_id is not None) for st in steps])
                                for t, steps in cycle.unit_cycle(s, caller, ivo)])
    assert shown == [("Ring at FRA", [("collection", "ivo", True)])]
    assert unit.run(lambda s: cycle.unit_cycle(s, caller, oskar)) == []
    assert ("sam", "2 record(s) shown") in audit_outcomes(unit, "IntelCycle")


def test_limes_central_clearance_sets_unit_and_level(capsys, database_url):
    import json

    from limes.cli import main

    assert main(["central", "clearance", "ivo", "rau-south", "SECRET", "--database", database_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"user": "ivo", "unit": "RAU-SOUTH", "level": "SECRET"}
    assert main(["central", "clearance", "ivo", "bad unit!", "SECRET", "--database", database_url]) == 2
    assert "unit" in capsys.readouterr().err


def test_retention_deletes_unreviewed_reports_and_links_to_purged_records(database, unit):
    from central.access import retention

    old = dt.datetime(2022, 3, 1, 8, tzinfo=dt.timezone.utc)
    crossing = record(database, "GONE", old)
    person = database.run(lambda s: s.scalar(select(m.Crossing.traveller_id).where(m.Crossing.crossing_id == crossing)))
    kept_crossing = record(database, "STAYS", dt.datetime.combine(TODAY, dt.time(8), dt.timezone.utc))
    links = (("crossing", crossing), ("person", str(person)), ("crossing", kept_crossing), ("route", "IST-FRA"))
    file(database, "ivo", new(review_by=TODAY + dt.timedelta(days=10), links=links))
    kept = file(database, "ivo", new(review_by=TODAY + dt.timedelta(days=10), links=links))
    later = TODAY + dt.timedelta(days=10 + retention.DEFAULT_REPORT_DAYS + 1)
    database.run(lambda s: intel.review_report(s, Caller("web-desk", "ivo"), clearance.reader(s, "ivo"), kept,
                                               later + dt.timedelta(days=365), later - dt.timedelta(days=5)))
    policy = retention.RetentionPolicy(personal_days=1095)
    dry = database.run(lambda s: retention.purge(s, later, policy, dry_run=True))
    assert (dry.intel_reports_deleted, dry.crossings_deleted) == (1, 1)
    done = database.run(lambda s: retention.purge(s, later, policy))
    assert (done.intel_reports_deleted, done.intel_links_deleted) == (1, 2)
    references = database.run(lambda s: list(s.scalars(select(m.IntelReport.reference))))
    assert references == [kept]
    left = database.run(lambda s: sorted((link.kind, link.target) for link in s.scalars(select(m.IntelLink))))
    assert left == [("crossing", kept_crossing), ("route", "IST-FRA")]  # the purged crossing and person went
    with pytest.raises(InvalidArgument):
        retention.RetentionPolicy(report_days=-1)


def test_a_report_of_another_agency_is_read_sanitised_at_most_and_not_at_all_under_c(database, unit):
    from central.access import scope
    from central.access.roles import Kind

    for user, agency in (("ivo", "BPOL"), ("ina", "CUSTOMS")):
        database.run(lambda s, u=user, a=agency: scope.set_scope(s, ADMIN, Kind.USER, u, a, (), "CONFIDENTIAL"))
    clear(database, "ina", "RAU", "CONFIDENTIAL")  # the same unit and clearance: only the agency differs
    shared = file(database, "ivo", new())
    conditional = file(database, "ivo", new(grading=grade("1", "B", "C", "BPOL only")))
    assert database.run(lambda s: s.scalar(select(m.IntelReport.owning_agency).where(
        m.IntelReport.reference == shared))) == "BPOL"
    assert read(database, "ina", shared)[:2] == (Access.SANITISED, "a report of BPOL: sanitised only")
    assert read(database, "ina", conditional)[:2] == (Access.NONE, "handling C of BPOL")
    assert audit_outcomes(database, "ReadIntelReport")[-1] == ("ina", "PERMISSION_DENIED: handling C of BPOL")
