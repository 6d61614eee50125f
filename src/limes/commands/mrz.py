"""`limes mrz check|generate|transliterate`: validate a machine readable zone, print one, or write a
name in the MRZ's letters (ICAO Doc 9303 Part 3 tables: Latin with diacritics, Cyrillic, Arabic; Greek
by ELOT 743).
"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from common.output import add_json_flag, emit
from drivers import mrz
from drivers.mrz import MrzError, parse

GENERATORS = ("td1", "td2", "td3", "mrva", "mrvb")


def register(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="mrz_command", metavar="COMMAND", required=True)

    check = commands.add_parser("check", help="parse an MRZ and verify every check digit (exit 1 if invalid)")
    check.add_argument("text", nargs="?", default="-",
                       help="the MRZ lines separated by newlines (or a literal \\n), or - to read stdin (default)")
    check.add_argument("--today", metavar="YYYY-MM-DD", default=None,
                       help="date deciding two-digit centuries and expiry (default: today)")
    add_json_flag(check)
    check.set_defaults(func=_check)

    generate = commands.add_parser("generate", help="print the MRZ of a document")
    generate.add_argument("--format", choices=GENERATORS, default="td3")
    generate.add_argument("--type", dest="document_type", default=None,
                          help="document code (default: P for td3, I for td1/td2, V for visas)")
    generate.add_argument("--state", dest="issuing_state", required=True, help="issuing state, e.g. UTO or D")
    generate.add_argument("--surname", required=True)
    generate.add_argument("--given-names", default="")
    generate.add_argument("--number", dest="document_number", required=True)
    generate.add_argument("--nationality", default=None, help="(default: the issuing state)")
    generate.add_argument("--birth", dest="birth_date", default=None, metavar="YYYY-MM-DD",
                          help="(default: unknown)")
    generate.add_argument("--sex", default="X", choices=("M", "F", "X"))
    generate.add_argument("--expiry", dest="expiry_date", default=None, metavar="YYYY-MM-DD")
    generate.add_argument("--optional", dest="optional_data", default="")
    add_json_flag(generate)
    generate.set_defaults(func=_generate)

    transliterate = commands.add_parser(
        "transliterate", help="write a name in the MRZ's letters A-Z, spaces and hyphens as '<' (exit 1 if it "
                              "holds a character no table covers)")
    transliterate.add_argument("text", help="the name in Latin, Cyrillic, Greek or Arabic script")
    add_json_flag(transliterate)
    transliterate.set_defaults(func=_transliterate)


def _check(args: argparse.Namespace) -> int:
    text = sys.stdin.read() if args.text == "-" else args.text.replace("\\n", "\n")
    today = date.fromisoformat(args.today) if args.today else None
    try:
        mrz = parse(text, today=today)
    except MrzError as exc:
        problems = [{"field": p.field, "reason": p.reason} for p in exc.problems]
        emit({"valid": False, "problems": problems}, args.json,
             lambda r: "invalid MRZ:\n" + "\n".join(f"  {p['field']}: {p['reason']}" for p in r["problems"]))
        return 1
    result = {"valid": True, "format": mrz.format, "document_type": mrz.document_type,
              "issuing_state": mrz.issuing_state, "surname": mrz.surname, "given_names": mrz.given_names,
              "document_number": mrz.document_number, "nationality": mrz.nationality,
              "birth_date": mrz.birth_date, "sex": mrz.sex, "expiry_date": mrz.expiry_date,
              "optional_data": mrz.optional_data, "optional_data_2": mrz.optional_data_2}
    emit(result, args.json, lambda r: "\n".join(f"{key:16} {value}" for key, value in r.items()))
    return 0


def _generate(args: argparse.Namespace) -> int:
    generate = getattr(mrz, f"generate_{args.format}")
    fields = dict(issuing_state=args.issuing_state, surname=args.surname, given_names=args.given_names,
                  document_number=args.document_number, nationality=args.nationality or args.issuing_state,
                  birth_date=date.fromisoformat(args.birth_date) if args.birth_date else None, sex=args.sex,
                  expiry_date=date.fromisoformat(args.expiry_date) if args.expiry_date else None,
                  optional_data=args.optional_data)
    if args.document_type:
        fields["document_type"] = args.document_type
    try:
        text = generate(**fields)
    except mrz.MrzError as exc:
        print("cannot generate: " + str(exc), file=sys.stderr)
        return 2
    emit({"mrz": text}, args.json, lambda r: r["mrz"])
    return 0


def _transliterate(args: argparse.Namespace) -> int:
    try:
        written = mrz.transliterate(args.text)
    except MrzError as exc:
        reason = "; ".join(p.reason for p in exc.problems)
        emit({"input": args.text, "error": reason}, args.json, lambda r: f"cannot transliterate: {r['error']}")
        return 1
    emit({"input": args.text, "mrz": written}, args.json, lambda r: r["mrz"])
    return 0
