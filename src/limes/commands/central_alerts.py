"""`limes central alerts import-feed|export-feed`: exchange alert lists as a JSON feed (docs/FEEDS.md).

Like the other `limes central` commands these work on the database directly, audited as station
"cli" and the operating-system user.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from central.access.audit import command_line_caller
from central.alerts import feeds
from central.alerts.feed_format import MAX_FEED_BYTES, FeedError, read_feed, write_feed
from central.database.engine import Database, configured_url
from common.output import add_json_flag, emit


def register(commands) -> None:
    alerts = commands.add_parser("alerts", help="alert feeds: import another system's alerts, export ours")
    sub = alerts.add_subparsers(dest="alerts_command", metavar="COMMAND", required=True)

    importing = sub.add_parser("import-feed", help="apply an alert feed (JSON, docs/FEEDS.md) whole or not at all; "
                                                   "exit 1 with every problem when it is refused")
    importing.add_argument("feed", metavar="FILE", help="the feed file, or - for standard input")
    _database_flag(importing)
    add_json_flag(importing)
    importing.set_defaults(func=_import_feed)

    exporting = sub.add_parser("export-feed", help="write the alerts in force as an alert feed (JSON, docs/FEEDS.md)")
    exporting.add_argument("--issuer", required=True, help="who the feed comes from, e.g. DEU-BPOL")
    exporting.add_argument("--include-withdrawn", action="store_true",
                           help="also withdrawn alerts (marked withdrawn), so that the receiver withdraws them too")
    exporting.add_argument("--output", "-o", metavar="FILE", default="-", help="where to write it (default: stdout)")
    _database_flag(exporting)
    exporting.add_argument("--json", action="store_true",
                           help="with --output, print the summary as JSON (the feed itself is always JSON)")
    exporting.set_defaults(func=_export_feed)


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", default=None,
                        help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read(MAX_FEED_BYTES + 1)
    path = Path(source)
    if path.stat().st_size > MAX_FEED_BYTES:
        raise FeedError([f"feed: {path.stat().st_size} bytes, at most {MAX_FEED_BYTES}"])
    return path.read_bytes()


def _import_feed(args: argparse.Namespace) -> int:
    caller = command_line_caller(f"{feeds.PURPOSE} (limes central alerts import-feed)")
    database = Database(configured_url(args.database))
    database.migrate()
    try:
        feed = read_feed(_read(args.feed))
        summary = database.run(lambda session: feeds.import_feed(session, caller, feed))
    except OSError as exc:
        print(f"limes central alerts import-feed: {exc}", file=sys.stderr)
        return 2
    except FeedError as error:
        refusal = error
        database.run(lambda session: feeds.audit_refusal(session, caller, args.feed, refusal))
        emit({"applied": False, "problems": refusal.problems}, args.json,
             lambda r: "alert feed refused, nothing applied:\n" + "\n".join(f"  {p}" for p in r["problems"]))
        return 1
    finally:
        database.dispose()
    emit({"applied": True, **summary.as_dict()}, args.json, lambda r: (
        f"alert feed of {r['issuer']} applied: documents {_counts(r['documents'])}; persons {_counts(r['persons'])}"))
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counts.items()) or "none"


def _export_feed(args: argparse.Namespace) -> int:
    caller = command_line_caller(f"{feeds.PURPOSE} (limes central alerts export-feed)")
    database = Database(configured_url(args.database))
    database.migrate()
    try:
        feed = database.run(lambda session: feeds.export_feed(
            session, caller, args.issuer, dt.datetime.now(dt.timezone.utc), include_withdrawn=args.include_withdrawn))
    finally:
        database.dispose()
    text = write_feed(feed)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    summary = {"issuer": feed.issuer, "documents": len(feed.documents), "persons": len(feed.persons),
               "output": args.output}
    if args.output != "-":
        emit(summary, args.json, lambda r: f"{r['documents']} document and {r['persons']} person alert(s) "
                                           f"written to {r['output']}")
    return 0
