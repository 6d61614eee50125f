"""`limes central intel import-5x5x5`: legacy intelligence records mapped to 3x5x2 (docs/INTELLIGENCE.md).

Like the other `limes central` commands this works on the database directly, audited as station "cli"
and the operating-system user, who is each report's originator: their unit and clearance
(`limes central clearance USER UNIT LEVEL`) decide what they may import, as when filing a report.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from central.access.audit import command_line_caller
from central.database.engine import Database, configured_url
from central.errors import CentralError
from central.intelligence import clearance, legacy_import
from central.intelligence.legacy_format import MAX_FILE_BYTES, LegacyFormatError, read_records
from common.output import add_json_flag, emit


def register(commands) -> None:
    intel = commands.add_parser("intel", help="intelligence records: import legacy 5x5x5 gradings")
    sub = intel.add_subparsers(dest="intel_command", metavar="COMMAND", required=True)
    importing = sub.add_parser(
        "import-5x5x5", help="import legacy 5x5x5 graded records (JSON lines or CSV, docs/INTELLIGENCE.md) as "
                             "3x5x2 reports, whole or not at all; exit 1 with every bad row's line and reason")
    importing.add_argument("file", metavar="FILE", help="the records file, or - for standard input")
    importing.add_argument("--database", metavar="URL", default=None,
                           help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")
    add_json_flag(importing)
    importing.set_defaults(func=_import_5x5x5)


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    path = Path(source)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LegacyFormatError([f"file: {path.stat().st_size} bytes, at most {MAX_FILE_BYTES}"])
    return path.read_bytes()


def _import_5x5x5(args: argparse.Namespace) -> int:
    caller = command_line_caller(f"{legacy_import.PURPOSE} (limes central intel import-5x5x5)")
    database = Database(configured_url(args.database))
    database.migrate()
    today = dt.datetime.now(dt.timezone.utc).date()
    try:
        records = read_records(_read(args.file))
        result = database.run(lambda session: legacy_import.import_records(
            session, caller, clearance.reader(session, caller.user), records, today))
    except OSError as exc:
        print(f"limes central intel import-5x5x5: {exc}", file=sys.stderr)
        return 2
    except LegacyFormatError as error:
        refusal = error
        database.run(lambda session: legacy_import.audit_refusal(session, caller, args.file, refusal))
        emit({"imported": False, "problems": refusal.problems}, args.json,
             lambda r: "legacy records refused, nothing imported:\n" + "\n".join(f"  {p}" for p in r["problems"]))
        return 1
    except CentralError as exc:
        print(f"limes central intel import-5x5x5: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    emit({"imported": True, **result.as_dict()}, args.json, lambda r: (
        f"{r['reports']} legacy report(s) imported as 3x5x2: {r['handled_c']} C (restriction kept as the condition), "
        f"{r['handled_p']} P, {r['overdue']} already past their review-by date"))
    return 0
