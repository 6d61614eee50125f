"""`limes api parse`: what a PAXLST or PNRGOV message says, and every problem in it, without a database."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from central.passengers.reading import Unusable, read_message
from common.output import add_json_flag, emit

MAX_FILE_BYTES = 20_000_000


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="api_command", metavar="COMMAND", required=True)
    parse = commands.add_parser(
        "parse", help="read a PAXLST (D02B, D05B) or PNRGOV (11.1, 13.1) message leniently",
        description="Reads the message, recovering what it can: flights, persons (PAXLST) or PNRs with their "
                    "travellers (PNRGOV), and every problem with its segment number and tag. Nothing is stored "
                    "(`limes central api import` stores and screens).",
        epilog="Exit status: 0 read (problems may be listed), 1 nothing usable ({\"error\": REASON}), "
               "2 the file cannot be read.")
    parse.add_argument("file", type=Path, metavar="FILE", help="the message, as the carrier sent it")
    add_json_flag(parse)
    parse.set_defaults(func=_parse)


def _render(result: dict) -> str:
    lines = [f"{result['message_type']} {result['version']} from {result['sender'] or '?'}"]
    lines += [f"flight {f['number']} {f['departure_airport']} {f['departure_time']} -> {f['arrival_airport']} "
              f"{f['arrival_time']}" for f in result["flights"]]
    lines += [f"  {p['role']:<17} {p['surname']}, {p['given_names']}  {p['nationality']}  "
              f"{' '.join(d['type'] + ' ' + d['number'] for d in p['documents'])}" for p in result["persons"]]
    for pnr in result["pnrs"]:
        lines.append(f"  PNR {pnr['locator'] or '?'}: " + "; ".join(
            f"{t['surname']}, {t['given_names']}" for t in pnr["travellers"]))
    lines += [f"problem at segment {p['segment']} {p['tag']}: {p['problem']}" for p in result["problems"]]
    return "\n".join(lines)


def _parse(args: argparse.Namespace) -> int:
    try:
        if args.file.stat().st_size > MAX_FILE_BYTES:
            return _refuse(f"{args.file}: larger than {MAX_FILE_BYTES} bytes", args.json, 1)
        data = args.file.read_bytes()
    except OSError as exc:
        return _refuse(f"cannot read {args.file}: {exc.strerror}", args.json, 2)
    try:
        message = read_message(data)
    except Unusable as exc:
        return _refuse(str(exc), args.json, 1)
    emit(message.as_dict(), args.json, _render)
    return 0


def _refuse(reason: str, as_json: bool, status: int) -> int:
    if as_json:
        emit({"error": reason}, True)
    else:
        print(f"limes api parse: {reason}", file=sys.stderr)
    return status
