"""`limes docreader listen|ping|read-page`: watch a serial document reader from the command line,
and read the MRZ and visual zone from a data-page image (drivers.pageimage).
"""
from __future__ import annotations

import argparse

from common.output import add_json_flag, emit
from drivers.devices.docreader import DocumentReader, ReaderError


def register(reader: argparse.ArgumentParser) -> None:
    commands = reader.add_subparsers(dest="docreader_command", metavar="COMMAND", required=True)

    listen = commands.add_parser("listen", help="print each document's MRZ as it is read")
    listen.add_argument("url", help="serial device, pty path or pyserial URL")
    listen.add_argument("--baudrate", type=int, default=115200)
    listen.add_argument("--timeout", type=float, default=30.0,
                        help="seconds to wait for each document (default %(default)s)")
    listen.add_argument("--count", type=int, default=1, help="documents to read (default %(default)s)")
    add_json_flag(listen)
    listen.set_defaults(func=_listen)

    ping = commands.add_parser("ping", help="ask the reader for its status")
    ping.add_argument("url")
    ping.add_argument("--baudrate", type=int, default=115200)
    ping.add_argument("--timeout", type=float, default=1.0)
    add_json_flag(ping)
    ping.set_defaults(func=_ping)

    page = commands.add_parser("read-page", help="read the MRZ (and the visual zone) from a data-page image",
                               description="Read a passport data page's MRZ from a JPEG or PNG photograph. "
                                           "An MRZ whose check digits fail, or whose first line is "
                                           "uncertain, is reported FLAGGED (exit 1), never as read.")
    page.add_argument("image", help="a JPEG or PNG file of the data page")
    page.add_argument("--visual-zone", action="store_true",
                      help="also read the printed name, number and dates and cross-check them with the MRZ")
    add_json_flag(page)
    page.set_defaults(func=_read_page)


def _listen(args: argparse.Namespace) -> int:
    documents = []
    try:
        with DocumentReader(args.url, baudrate=args.baudrate) as reader:
            for _ in range(args.count):
                text = reader.wait_for_document(args.timeout)
                if text is None:
                    break
                documents.append(text)
                if not args.json:
                    print(text + "\n")
    except ReaderError as exc:
        emit({"error": str(exc), "documents": documents}, args.json, lambda r: r["error"])
        return 2
    if args.json:
        emit({"documents": documents}, True)
    return 0 if len(documents) == args.count else 1


def _ping(args: argparse.Namespace) -> int:
    try:
        with DocumentReader(args.url, baudrate=args.baudrate) as reader:
            answered = reader.ping(args.timeout)
            result = {"answered": answered, "status": reader.status}
    except ReaderError as exc:
        result = {"answered": False, "status": "unavailable", "error": str(exc)}
    emit(result, args.json, lambda r: f"{args.url}: {r['status']}" if r["answered"]
         else f"{args.url}: no answer ({r.get('error', 'timeout')})")
    return 0 if result["answered"] else 1


def _read_page(args: argparse.Namespace) -> int:
    from drivers.pageimage import PageImageError, cross_check, decode_image, read_mrz, read_visual_zone

    try:
        with open(args.image, "rb") as file:
            data = file.read(MAX_PAGE_FILE + 1)
        image = decode_image(data)
    except (OSError, PageImageError) as exc:
        emit({"error": f"{args.image}: {exc}"}, args.json, lambda r: f"limes docreader read-page: {r['error']}")
        return 2
    reading = read_mrz(image)
    result = {"mrz": reading.text, "flagged": reading.flagged, "check_digits_valid": reading.check_digits_valid,
              "confidence": round(reading.confidence, 3), "problems": list(reading.problems),
              "skew_degrees": round(reading.skew_degrees, 2),
              "uncertain": [{"line": line, "position": position} for line, position in reading.uncertain]}
    if args.visual_zone:
        visual = read_visual_zone(image)
        result["visual_zone"] = {name: getattr(visual, name) for name in
                                 ("surname", "given_names", "document_number", "birth_date", "expiry_date")}
        result["mismatches"] = ([vars(mismatch) for mismatch in cross_check(visual, reading.mrz)]
                                if reading.mrz is not None else None)
    emit(result, args.json, _render_page)
    return 1 if reading.flagged else 0


MAX_PAGE_FILE = 16 * 1024 * 1024   # drivers.pageimage refuses more; reading one byte over says so


def _render_page(result: dict) -> str:
    head = "FLAGGED: " + "; ".join(result["problems"] or ["check digits fail"]) if result["flagged"] else "read"
    lines = [head, result["mrz"] or "(no MRZ text)", f"confidence {result['confidence']}"]
    for mismatch in result.get("mismatches") or []:
        lines.append(f"visual zone differs: {mismatch['field']}: printed {mismatch['visual']!r}, "
                     f"MRZ {mismatch['machine']!r}")
    return "\n".join(lines)
