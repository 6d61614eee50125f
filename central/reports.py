"""Audited reads and purges over many records: statistics, the pseudonymised export, overstays and
the retention purge, each leaving one audit row in the caller's transaction.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from central.access.audit import Caller, audit

# ---------------------------------------------------------------- statistics

def statistics(session: Session, caller: Caller, by: tuple[str, ...], period: str, start: dt.date,
               end: dt.date):
    """The suppressed statistics table (central.statistics.tables.Table); the query is audited."""
    from central.statistics.tables import statistics as tabulate

    table = tabulate(session, by, period, start, end)
    hidden = sum(c.suppressed for c in table.cells)
    audit(session, caller, "Statistics", f"crossings by {','.join(by) or '-'} per {period} {start}..{end}",
          f"{len(table.cells)} cell(s), {hidden} suppressed", "statistics")
    return table


# ---------------------------------------------------------------- retention and export

def purge(session: Session, caller: Caller, today: dt.date, policy, dry_run: bool = False):
    """Purge by the retention policy (central.access.retention); audited, dry runs included."""
    from central.access.retention import purge as run_purge

    report = run_purge(session, today, policy, dry_run)
    audit(session, caller, "Purge", f"personal data before {report.personal_before}, evidence before "
          f"{report.evidence_before}", ("dry run: " if dry_run else "") + report.summary(), "retention")
    return report


def export_pseudonymised(session: Session, caller: Caller, key: bytes, start: dt.date | None,
                         end: dt.date | None) -> list:
    from central.statistics.pseudonym import export

    rows = list(export(session, key, start, end))
    audit(session, caller, "ExportPseudonymised", f"crossings {start or '-'}..{end or '-'}",
          f"{len(rows)} row(s)", "statistics: pseudonymised export")
    return rows


def list_overstays(session: Session, caller: Caller, on: dt.date, include_exited: bool):
    """Overstays (central.records.overstay.Overstay) on a day, from the stays table; audited."""
    from central.records.overstay import overstays

    found = overstays(session, on, include_exited)
    audit(session, caller, "ListOverstays", f"stays on {on}", f"{len(found)} overstay(s)", "overstay review")
    return found


def overstay_alerts(session: Session, caller: Caller, on: dt.date):
    """Raise the overstay alerts due on a day (central.records.overstay.raise_alerts); audited."""
    from central.records.overstay import raise_alerts

    raised = raise_alerts(session, on)
    audit(session, caller, "RaiseOverstayAlerts", f"stays ended before {on}", f"{len(raised)} alert(s) raised",
          "overstay review")
    return raised


def overstay_statistics(session: Session, caller: Caller, by: tuple[str, ...], period: str, start: dt.date,
                        end: dt.date, today: dt.date):
    """Overstays by nationality and border point (central.statistics.tables.overstay_statistics); audited."""
    from central.statistics.tables import overstay_statistics as tabulate

    table = tabulate(session, by, period, start, end, today)
    hidden = sum(c.suppressed for c in table.cells)
    audit(session, caller, "Statistics", f"overstays by {','.join(by) or '-'} per {period} {start}..{end}",
          f"{len(table.cells)} cell(s), {hidden} suppressed", "statistics")
    return table
