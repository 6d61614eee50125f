"""`limes stay check`: the authorised stay under the 90-days-in-any-180 rule (central.stays, docs/STAYS.md)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Iterable

from central.stays import batch
from central.stays.rule import FIRST_DAY, LAST_DAY, MAX_STAYS
from common.output import add_json_flag

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="stay_command", metavar="COMMAND", required=True)
    check = commands.add_parser(
        "check", help="days used, latest exit, days remaining and overstay days of travellers' stays",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="On every day of a stay, the stay days of the 180 days ending on it may total at most 90;\n"
                    "the days of entry and of exit both count.",
        epilog=f"Bounds: at most {MAX_STAYS} stays a traveller, dates {FIRST_DAY}..{LAST_DAY}, ids of at most "
               f"{batch.MAX_ID_CHARS} characters,\nlines of at most {batch.MAX_LINE_BYTES} bytes, "
               f"{batch.MAX_LINES} lines and {batch.MAX_BATCH_BYTES // 2**30} GiB a batch (blank lines skipped).\n"
               f"A line out of bounds or malformed is answered {{\"id\": ..., \"error\": REASON}} and the batch "
               f"goes on.\nExit status: 0 all answered, 1 some line in error, 2 the batch unreadable or over its "
               f"bounds\n(the answers so far printed).")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("--batch", metavar="FILE.jsonl",
                        help='one case a line: {"id": "...", "stays": [["YYYY-MM-DD", "YYYY-MM-DD" or null], ...], '
                             '"on": "YYYY-MM-DD"}, stays oldest first; - reads stdin')
    source.add_argument("--stays", metavar="ENTRY:EXIT,...",
                        help="one traveller's stays oldest first, e.g. 2014-08-15:2014-09-30,2014-11-01: "
                             "(an open stay, still inside, written ENTRY:); '' for none")
    check.add_argument("--on", metavar="YYYY-MM-DD", default=None,
                       help="with --stays: the day checked (default: today)")
    check.add_argument("--id", default="case", help="with --stays: the id of its answer (default: case)")
    add_json_flag(check)
    check.set_defaults(func=_check)


def _check(args: argparse.Namespace) -> int:
    if args.stays is not None:
        case = _case_of(args)
        if case is None:
            print("limes stay check: --stays takes ENTRY:EXIT pairs separated by commas (ENTRY: when open)",
                  file=sys.stderr)
            return 2
        return _write([batch.check_case(case)], args.json)
    try:
        if args.batch == "-":
            return _write(batch.check_file(sys.stdin.buffer), args.json)
        with open(args.batch, "rb") as cases:
            return _write(batch.check_file(cases), args.json)
    except OSError as exc:
        print(f"limes stay check: cannot read {args.batch}: {exc.strerror}", file=sys.stderr)
        return 2


def _case_of(args: argparse.Namespace) -> dict | None:
    """The case --stays and --on describe, in the shape of a batch line, so that one path checks both."""
    stays = []
    for pair in filter(None, args.stays.split(",")):
        entry, colon, exit_ = pair.partition(":")
        if not colon:
            return None
        stays.append([entry, exit_ or None])
    return {"id": args.id, "stays": stays, "on": args.on or dt.date.today().isoformat()}


def _write(answers: Iterable[dict], as_json: bool) -> int:
    """Each answer as it comes, so that a batch of any length is never held whole."""
    errors = 0
    out = sys.stdout
    out.write("[" if as_json else "")
    try:
        for index, answer in enumerate(answers):
            errors += "error" in answer
            out.write(("," if index else "") + "\n  " + json.dumps(answer) if as_json else _render(answer) + "\n")
    except batch.BatchTooLong as exc:
        out.write("\n]\n" if as_json else "")
        print(f"limes stay check: {exc}", file=sys.stderr)
        return 2
    out.write("\n]\n" if as_json else "")
    return 1 if errors else 0


def _render(answer: dict) -> str:
    name = answer["id"] if answer["id"] is not None else "(no id)"
    if "error" in answer:
        return f"{name}: cannot check: {answer['error']}"
    figures = (f"  {answer['days_used']} of 90 days used in the 180 days to the day checked, "
               f"{answer['days_remaining']} remaining, {answer['overstay_days']} overstay days recorded")
    if answer["latest_exit"] is None:
        return f"{name}: You may not stay: no day is left on the day checked.\n{figures}"
    day = dt.date.fromisoformat(answer["latest_exit"])
    return f"{name}: You may stay until {day.day} {MONTHS[day.month - 1]} {day.year}.\n{figures}"
