"""Importing legacy 5x5x5 records as 3x5x2 reports, whole or not at all (`limes central intel import-5x5x5`).

The file is read by central.intelligence.legacy_format; here every record is checked against the
database as a report filed by the importer would be (classification within the importer's clearance,
links to records held here, the reference not imported before), every problem is collected with its
line, and only a file without any is written, in one transaction. The originator of every report is the
importer (the authenticated caller), never a field of the file; each report's old grading and reference
are kept on it. Each report is audited as filed, the import as a whole once, and a refusal too.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import CentralError
from central.intelligence import reports
from central.intelligence.clearance import Reader
from central.intelligence.legacy_format import LegacyFormatError, LegacyRecord

PURPOSE = "intelligence: legacy 5x5x5 import"


@dataclass(frozen=True)
class Imported:
    reports: int
    # How many became C (a legacy restriction kept as their condition) and how many P.
    handled_c: int
    handled_p: int
    overdue: int
    references: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _new_report(record: LegacyRecord, today: dt.date) -> reports.NewReport:
    return reports.NewReport(source_kind=record.source_kind, grading=record.grading,
                             classification=record.classification, text=record.text,
                             review_by=record.review_by or today + reports.DEFAULT_REVIEW,
                             sanitised_text=record.sanitised_text, links=record.links,
                             legacy_reference=record.reference)


def import_records(session: Session, caller: Caller, importer: Reader, records: list[LegacyRecord],
                   today: dt.date) -> Imported:
    """File every record as a report of `importer`, or raise LegacyFormatError with every problem (nothing
    written: the caller's transaction rolls back)."""
    problems = []
    known = set(session.scalars(select(m.IntelReport.legacy_reference).where(
        m.IntelReport.legacy_reference.in_([r.reference for r in records]))))
    for record in records:
        if record.reference in known:
            problems.append(f"line {record.line}: reference {record.reference!r} was imported before")
            continue
        try:
            reports.check_report(session, _new_report(record, today), importer, today, allow_overdue=True)
        except CentralError as exc:
            problems.append(f"line {record.line}: {exc}")
    if problems:
        raise LegacyFormatError(problems)
    filed = [reports.file_report(session, caller, importer, _new_report(record, today), today, allow_overdue=True)
             for record in records]
    result = Imported(len(filed), sum(r.handling_code == "C" for r in filed),
                      sum(r.handling_code == "P" for r in filed), sum(r.review_by <= today for r in filed),
                      [r.reference for r in filed])
    audit(session, caller, "ImportLegacyIntel", f"{len(filed)} legacy 5x5x5 record(s)",
          f"imported: {result.handled_c} C, {result.handled_p} P, {result.overdue} overdue", PURPOSE)
    return result


def audit_refusal(session: Session, caller: Caller, source: str, error: LegacyFormatError) -> None:
    """The refusal's audit row, in a transaction of its own (the import's was rolled back)."""
    audit(session, caller, "ImportLegacyIntel", f"legacy 5x5x5 file {source[:200]}",
          f"REFUSED: {len(error.problems)} problem(s), nothing imported", PURPOSE)
