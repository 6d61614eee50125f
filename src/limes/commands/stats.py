"""`limes stats`: crossing (or, with --overstays, overstay) statistics for policy, small cells suppressed
(central.statistics).

It works on central's database directly, audited as station "cli" and the operating-system user.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from central import reports
from central.access.audit import command_line_caller
from central.database.engine import Database, configured_url
from central.errors import CentralError
from central.statistics import tables as statistics
from common.output import add_json_flag, emit


def register(stats: argparse.ArgumentParser) -> None:
    stats.add_argument("--by", default="", metavar="DIMS",
                       help="comma-separated: nationality, sex, age_band, border_point, direction, "
                            "document_type, decision (default: totals only)")
    stats.add_argument("--overstays", action="store_true",
                       help="count overstays instead (stays past their authorised last day, dated by the first "
                            "day over), by nationality and/or border_point of entry")
    stats.add_argument("--period", default="month", choices=("day", "week", "month"))
    stats.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    stats.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD")
    formats = stats.add_mutually_exclusive_group()
    formats.add_argument("--csv", action="store_true", help="print CSV")
    add_json_flag(formats)
    stats.add_argument("--plot", metavar="FILE.png", default=None, help="also draw a bar chart as PNG")
    stats.add_argument("--database", metavar="URL", default=None,
                       help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")
    stats.set_defaults(func=_stats)


def _stats(args: argparse.Namespace) -> int:
    try:
        by, period, start, end = statistics.parse_request(() if args.overstays else args.by.split(","),
                                                          args.period, args.start, args.end)
        if args.overstays:
            by = statistics.parse_overstay_dimensions(args.by.split(","))
    except CentralError as exc:
        print(f"limes stats: {exc}", file=sys.stderr)
        return 2
    database = Database(configured_url(args.database))
    database.migrate()
    caller = command_line_caller("statistics (limes stats)")
    try:
        if args.overstays:
            today = dt.datetime.now(dt.timezone.utc).date()
            table = database.run(lambda session: reports.overstay_statistics(session, caller, by, period, start, end,
                                                                             today))
        else:
            table = database.run(lambda session: reports.statistics(session, caller, by, period, start, end))
    finally:
        database.dispose()
    if args.plot:
        Path(args.plot).write_bytes(statistics.plot_png(table))
    if args.csv:
        sys.stdout.write(table.csv())
    else:
        emit(table.as_dict(), args.json, lambda _: table.text())
    return 0
