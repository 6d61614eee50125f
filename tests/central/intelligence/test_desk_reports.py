"""Reports filed at the counter (central.desk.intel_reports): the session's officer, central's own links."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from central.access import roles as access
from central.access.audit import Caller
from central.access.roles import PermissionDenied
from central.database import models as m
from central.desk.intel_reports import DeskReport, file_from_desk
from central.intelligence.grading import grade
from tests.central.intelligence.conftest import TODAY, record

AT = dt.datetime(2026, 11, 20, 9, tzinfo=dt.timezone.utc)


def report(crossing_id: str = "", reference: str | None = None) -> DeskReport:
    return DeskReport(reference or str(uuid.uuid4()), "officer", grade("1", "A", "P"), "OFFICIAL", "Seen",
                      crossing_id)


@pytest.fixture
def officers(database):
    def grant(session):
        access.grant(session, access.Kind.USER, "officer-17", access.Role.OFFICER)
        access.grant(session, access.Kind.USER, "analyst-2", access.Role.ANALYST)
    database.run(grant)
    return database


def test_a_crossing_is_linked_only_for_the_desk_that_recorded_it(officers):
    crossing = record(officers, "BLANC", AT)  # recorded by station FRA-T1-G01
    own = Caller("FRA-T1-G01", "officer-17")
    filed = officers.run(lambda s: [(link.kind, link.target) for link in file_from_desk(
        s, own, report(crossing), TODAY).links])
    assert [kind for kind, _ in filed] == ["crossing", "person", "document"]
    with pytest.raises(PermissionDenied, match="recorded by 'FRA-T1-G01', not by this desk"):
        officers.run(lambda s: file_from_desk(s, Caller("FRA-T1-D09", "officer-17"), report(crossing), TODAY))


def test_only_an_officer_who_may_file_files_and_a_resent_report_is_filed_once(officers):
    with pytest.raises(PermissionDenied, match="may not file intelligence reports"):
        officers.run(lambda s: file_from_desk(s, Caller("FRA-T1-D01", "analyst-2"), report(), TODAY))
    once = report()
    officer = Caller("FRA-T1-D01", "officer-17")
    first = officers.run(lambda s: file_from_desk(s, officer, once, TODAY).id)
    assert officers.run(lambda s: file_from_desk(s, officer, once, TODAY).id) == first
    assert officers.run(lambda s: len(list(s.scalars(select(m.IntelReport))))) == 1
    officers.run(lambda s: access.grant(s, access.Kind.USER, "officer-18", access.Role.OFFICER))
    with pytest.raises(PermissionDenied, match="filed by someone else"):
        officers.run(lambda s: file_from_desk(s, Caller("FRA-T1-D01", "officer-18"), once, TODAY))
