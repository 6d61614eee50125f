"""`limes central api ...`: advance passenger data in central's database (central.passengers, docs/API.md).

import stores and screens a message; targets prints a flight's targeting list; flights the flights
with data; reconcile compares a flight's lists with the crossings; links the values PNRs share;
purge applies retention; watch imports what is dropped into an inbox folder. The actor of each is
the operating-system user running it (station "cli"); every read is audited.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from central.access.audit import command_line_caller
from central.database.engine import Database, configured_url
from central.errors import CentralError
from central.passengers import inbox
from central.passengers.intake import import_message
from central.passengers.links import KINDS, linked_pnrs, shared_values
from central.passengers.reconciliation import reconcile
from central.passengers.retention import PassengerDataRetention, purge_passenger_data
from central.passengers.targeting import list_flights, targeting_list
from central.stays.regime import RulesError, StayRules, rules_file
from common.output import add_json_flag, emit
from common.signals import StopSignals


def register(commands) -> None:
    api = commands.add_parser("api", help="advance passenger data: import, targeting, reconciliation, links")
    sub = api.add_subparsers(dest="api_command", metavar="COMMAND", required=True)

    def command(name: str, summary: str, func, json_flag: bool = True) -> argparse.ArgumentParser:
        parser = sub.add_parser(name, help=summary, description=summary)
        parser.add_argument("--database", metavar="URL", default=None,
                            help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")
        if json_flag:
            add_json_flag(parser)
        parser.set_defaults(func=func)
        return parser

    imp = command("import", "store and screen a PAXLST or PNRGOV message (exit 1: nothing usable)", _import)
    imp.add_argument("file", type=Path, metavar="FILE")
    _stay_rules_flag(imp)
    flights = command("flights", "the flights with advance passenger data, their lists and hits", _flights)
    flights.add_argument("--date", default=None, metavar="YYYY-MM-DD", help="only flights of this date")
    targets = command("targets", "a flight's targeting list: flagged persons with reasons", _targets)
    targets.add_argument("flight", metavar="FLIGHT_KEY", help="e.g. LH400/FRA/2026-12-07 (see `flights`)")
    targets.add_argument("--everyone", action="store_true", help="every person of the lists, not only flagged ones")
    rec = command("reconcile", "who crossed against the flight's lists: no-shows, strangers, crew, differences",
                  _reconcile)
    rec.add_argument("flight", metavar="FLIGHT_KEY")
    rec.add_argument("--border-point", required=True, help="the border point of arrival, e.g. FRA-T1")
    rec.add_argument("--hours-before", type=float, default=3.0, help="window before the arrival time (default 3)")
    rec.add_argument("--hours-after", type=float, default=6.0, help="window after the arrival time (default 6)")
    links = command("links", "values several PNRs share (or the PNRs one PNR is linked to)", _links)
    links.add_argument("--locator", default="", help="the PNRs linked to this record locator")
    links.add_argument("--kind", action="append", choices=KINDS, help="only these kinds (repeatable)")
    purge = command("purge", "apply retention: API persons, PNRs masked, PNRs deleted", _purge)
    purge.add_argument("--api-days", type=int, default=PassengerDataRetention.api_days)
    purge.add_argument("--pnr-depersonalise-days", type=int, default=PassengerDataRetention.pnr_depersonalise_days)
    purge.add_argument("--pnr-delete-days", type=int, default=PassengerDataRetention.pnr_delete_days)
    watch = command("watch", "import messages dropped into a folder until interrupted (done/ and refused/)",
                    _watch)
    watch.add_argument("folder", type=Path, metavar="FOLDER")
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between looks (default 2)")
    watch.add_argument("--once", action="store_true", help="one look (files must be stable: two looks) and exit")
    _stay_rules_flag(watch)


def _stay_rules_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stay-rules", metavar="TOML", default=None,
                        help="the stay rules arriving passengers are judged by, as for `limes central serve`")


def _rules(args: argparse.Namespace) -> StayRules | None | int:
    """The --stay-rules file's rules (None: the defaults), or exit status 2 with the reason said."""
    try:
        return rules_file(args.stay_rules)
    except (RulesError, OSError, ValueError) as exc:
        print(f"limes central api {args.api_command}: --stay-rules: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, purpose: str, work, render) -> int:
    database = Database(configured_url(args.database))
    try:
        database.migrate()
        result = database.run(lambda session: work(session, command_line_caller(purpose)))
    except CentralError as exc:
        print(f"limes central api {args.api_command}: {exc}", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    emit(result, args.json, render)
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(f"limes central api import: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return 2
    stay_rules = _rules(args)
    if isinstance(stay_rules, int):
        return stay_rules
    database = Database(configured_url(args.database))
    try:
        database.migrate()
        imported = import_message(database, command_line_caller("advance passenger information: import"), data,
                                  stay_rules=stay_rules)
    except CentralError as exc:
        emit({"error": str(exc)}, True) if args.json else print(f"limes central api import: {exc}",
                                                                 file=sys.stderr)
        return 1
    finally:
        database.dispose()
    emit(imported.as_dict(), args.json, lambda r: "\n".join(
        [f"{s['list_kind']} of {s['flight_key']} version {s['version']}: {s['persons']} person(s), {s['hits']} "
         f"hit(s), {s['checks']} to check" + (" (already stored)" if s["already_stored"] else "")
         for s in r["lists"]] + [f"problem at segment {p['segment']} {p['tag']}: {p['problem']}"
                                 for p in r["problems"]]))
    return 0


def _flights(args: argparse.Namespace) -> int:
    day = dt.date.fromisoformat(args.date) if args.date else None
    return _run(args, "advance passenger information: flights",
                lambda s, c: [f.as_dict() for f in list_flights(s, c, day)],
                lambda rows: "\n".join(f"{r['flight_key']:<28} {r['departure_airport']}->{r['arrival_airport']} "
                                       f"{r['persons']:5} person(s) {r['hits']:3} hit(s) {r['checks']:3} to check"
                                       for r in rows) or "no flights")


def _targets(args: argparse.Namespace) -> int:
    return _run(args, "advance passenger information: targeting",
                lambda s, c: [t.as_dict() for t in targeting_list(s, c, args.flight, args.everyone)],
                lambda rows: "\n".join(f"{r['status']:5} {r['role']:<17} {r['surname']}, {r['given_names']} "
                                       f"{r['birth_date']} {' '.join(r['documents'])}: {'; '.join(r['reasons'])}"
                                       for r in rows) or "nobody flagged")


def _reconcile(args: argparse.Namespace) -> int:
    def render(r: dict) -> str:
        lines = [f"flight {r['flight_key']} at {r['border_point']}, crossings {r['window'][0]} .. {r['window'][1]}"]
        for title, key in (("crossed", "crossed"), ("no-show", "no_shows"), ("in transit, crossed", "transit_crossed"),
                           ("crew", "crew"), ("not on the manifest", "not_on_manifest")):
            for p in r[key]:
                extra = "; ".join(p.get("differences", [])) or ("crossed" if p.get("crossed") else "")
                lines.append(f"{title:<20} {p['surname']}, {p['given_names']} {extra}".rstrip())
        return "\n".join(lines)
    return _run(args, "advance passenger information: reconciliation",
                lambda s, c: reconcile(s, c, args.flight, args.border_point, dt.timedelta(hours=args.hours_before),
                                       dt.timedelta(hours=args.hours_after)).as_dict(), render)


def _links(args: argparse.Namespace) -> int:
    if args.locator:
        return _run(args, "advance passenger information: network analysis",
                    lambda s, c: linked_pnrs(s, c, args.locator),
                    lambda rows: "\n".join(f"{r['locator']} ({r['flight_key']}): " + ", ".join(
                        x["kind"] for x in r["shared"]) for r in rows) or "no linked PNR")
    return _run(args, "advance passenger information: network analysis",
                lambda s, c: shared_values(s, c, tuple(args.kind or KINDS)),
                lambda rows: "\n".join(f"{r['kind']:<8} {r['value']}: " + " ".join(p["locator"] for p in r["pnrs"])
                                       for r in rows) or "no shared value")


def _purge(args: argparse.Namespace) -> int:
    try:
        policy = PassengerDataRetention(args.api_days, args.pnr_depersonalise_days, args.pnr_delete_days)
    except CentralError as exc:
        print(f"limes central api purge: {exc}", file=sys.stderr)
        return 2
    return _run(args, "retention", lambda s, c: purge_passenger_data(s, c, policy, dt.datetime.now(dt.timezone.utc))
                .as_dict(), lambda r: ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in r.items()))


def _watch(args: argparse.Namespace) -> int:
    stay_rules = _rules(args)
    if isinstance(stay_rules, int):
        return stay_rules
    database = Database(configured_url(args.database))
    database.migrate()
    caller = command_line_caller("advance passenger information: inbox")

    def report(result: inbox.InboxResult) -> None:
        emit(result.as_dict(), True) if args.json else print(
            f"{result.file}: " + ("stored" if result.stored else f"refused: {result.detail['error']}"), flush=True)
    try:
        if args.once:
            sizes: dict[str, int] = {}
            args.folder.mkdir(parents=True, exist_ok=True)
            for _ in range(2):
                for result in inbox.process_once(database, caller, args.folder, sizes, stay_rules):
                    report(result)
            return 0
        with StopSignals() as signals:
            inbox.watch(database, caller, args.folder, signals.wait, args.interval, report, stay_rules)
        return 0
    finally:
        database.dispose()
