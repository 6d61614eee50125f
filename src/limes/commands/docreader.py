"""`limes docreader listen|ping`: watch a serial document reader from the command line.
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
