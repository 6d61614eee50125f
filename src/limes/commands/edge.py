"""`limes edge run`: one e-gate, wired from a TOML configuration (edge.config), serving travellers
until Ctrl-C; `limes edge desk`: an officer's counter from the same configuration (edge.desk);
`limes edge outbox`: the records a gate keeps for central."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from common.output import add_json_flag, emit
from common.sealing import Sealer, SealError
from common.settings import add_key_file_flag, key_file_of
from drivers.devices.docreader.reader import ReaderError
from drivers.devices.pcsc import CardAbsent, wait_for_removal
from drivers.emrtd.iso7816.transceiver import TransportError
from edge import config as gate_config
from edge.config import ConfigError, load_config
from edge.outbox import DELIVERED, STATE_FILE, Outbox
from edge.runtime import start_gate

# How long the gate waits for the previous traveller to take the document back before it goes on anyway.
REMOVAL_WAIT_S = 30.0
# `limes edge run --help`: the configuration's layout, as edge.config documents it.
RUN_DESCRIPTION = ("`limes edge run`: one e-gate, wired from a TOML configuration, serving travellers until Ctrl-C.\n\n"
                   + gate_config.__doc__.split("\n\n", 1)[1]
                   + "\nOne line per traveller (a JSON object per line with --json).\n")


def register(edge: argparse.ArgumentParser) -> None:
    edge_sub = edge.add_subparsers(dest="edge_command", metavar="WHAT", required=True)
    run = edge_sub.add_parser("run", help="run a gate from a TOML configuration until Ctrl-C",
                              description=RUN_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--station", required=True, metavar="ID", help="this gate's station id, as central knows it")
    run.add_argument("--config", required=True, type=Path, metavar="FILE", help="TOML configuration")
    run.add_argument("--max-travellers", type=int, default=None, metavar="N",
                     help="stop after N travellers (default: run until Ctrl-C)")
    add_json_flag(run)
    run.set_defaults(func=_run)
    desk = edge_sub.add_parser(
        "desk", help="run a primary-line officer desk: the gate's devices and checks, an officer who decides",
        description="`limes edge desk`: an officer's counter (docs/DESK.md). The same TOML configuration as "
                    "`limes edge run` (devices, central, matcher, trust store, outbox); the station's certificate "
                    "must hold the role desk at central. The officer's screen is served on loopback: open the "
                    "printed address, sign in with a web desk account holding the officer role. Ctrl-C stops.")
    desk.add_argument("--station", required=True, metavar="ID", help="this desk's station id, as central knows it")
    desk.add_argument("--config", required=True, type=Path, metavar="FILE", help="TOML configuration")
    desk.add_argument("--screen", default="127.0.0.1:8090", metavar="HOST:PORT",
                      help="where the officer's screen is served; loopback only (default 127.0.0.1:8090)")
    add_json_flag(desk)
    desk.set_defaults(func=_desk)
    outbox = edge_sub.add_parser(
        "outbox", help="records a gate keeps for central: waiting, and refused",
        description="List a gate's outbox: the records waiting for central (pending) and those central "
                    "refused for good (rejected, parked for an officer, with central's reason). --resubmit puts "
                    "a refused crossing's records back in line once what central refused is put right (a "
                    "station registered, say): a running gate sends them within its poll interval (5 s), a stopped one "
                    "when it starts.")
    outbox.add_argument("state_dir", type=Path, metavar="STATE_DIR", help="the gate's state folder ([gate] state_dir)")
    outbox.add_argument("--resubmit", metavar="CROSSING_ID", help="send this crossing's refused records again")
    outbox.add_argument("--all", action="store_true", help="the delivered records still in the short log too")
    add_key_file_flag(outbox, "the gate's outbox records ([gate] key_file)", made_when_missing=False)
    add_json_flag(outbox)
    outbox.set_defaults(func=_outbox)


def _outbox(args) -> int:
    path = args.state_dir / STATE_FILE
    if not path.is_file():
        emit({"error": f"no outbox at {path}: is {args.state_dir} the gate's state folder?"}, args.json,
             lambda result: f"error: {result['error']}")
        return 2

    def not_here(method: str, payload: bytes) -> None:
        raise AssertionError("this command only reads and requeues; the gate sends")

    key = key_file_of(args)
    try:
        outbox = Outbox(path, not_here, sealer=Sealer.from_file(key) if key.exists() else None)
    except SealError as exc:
        emit({"error": str(exc)}, args.json, lambda result: f"error: {result['error']}")
        return 2
    try:
        resubmitted = outbox.resubmit(args.resubmit) if args.resubmit else None
        entries = [e for e in outbox.entries() if args.all or e.state != DELIVERED]
    except SealError as exc:
        emit({"error": f"{exc}: give the gate's --key-file"}, args.json, lambda result: f"error: {result['error']}")
        return 2
    finally:
        outbox.close()
    result = {"outbox": str(path), "entries": [
        {"seq": e.seq, "state": e.state, "method": e.method, "crossing_id": e.crossing_id, "attempts": e.attempts,
         "created_at": e.created_at, "error": e.error} for e in entries]}
    if resubmitted is not None:
        result["resubmitted"] = resubmitted
    emit(result, args.json, _render_outbox)
    return 0 if resubmitted is None or resubmitted else 1


def _render_outbox(result: dict) -> str:
    lines = [f"{e['seq']:>6}  {e['state']:<9} {e['method']:<15} {e['crossing_id']}  attempts {e['attempts']}"
             + (f"  {e['error']}" if e["error"] else "") for e in result["entries"]]
    if "resubmitted" in result:
        lines.append(f"resubmitted: {result['resubmitted']} record(s)")
    return "\n".join(lines or ["nothing waiting for central, nothing refused"])


def _run(args) -> int:
    if args.max_travellers is not None and args.max_travellers < 1:
        print("error: --max-travellers must be at least 1", file=sys.stderr)
        return 2
    try:
        config = load_config(args.config, args.station)
    except ConfigError as exc:
        print(f"error: configuration {exc}", file=sys.stderr)
        return 2
    try:
        running = start_gate(config)
    except Exception as exc:  # a device path that does not open, a trust folder that does not load
        print(f"error: the gate did not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    # On stderr with --json, so that stdout holds nothing but one JSON object per traveller.
    print(f"gate {config.station.station_id} at {config.station.border_point} ({config.station.direction}) "
          f"waiting for documents on {config.reader_url}; Ctrl-C stops", flush=True,
          file=sys.stderr if args.json else sys.stdout)
    served = 0
    try:
        while args.max_travellers is None or served < args.max_travellers:
            try:
                mrz_text = running.reader.wait_for_document(1.0)
            except ReaderError as exc:  # reported, then waited out: the reader may come back
                print(f"reader: {exc}", file=sys.stderr, flush=True)
                time.sleep(1.0)
                continue
            if mrz_text is None:
                continue
            outcome = running.gate.process(mrz_text)
            served += 1
            print(json.dumps({"station": config.station.station_id, **outcome.to_dict()}) if args.json
                  else _line(outcome), flush=True)
            if args.max_travellers is None or served < args.max_travellers:
                _await_removal(config.chip_reader)
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
    return 0


def _desk(args) -> int:
    from edge.desk.station import start_desk

    try:
        config = load_config(args.config, args.station)
    except ConfigError as exc:
        print(f"error: configuration {exc}", file=sys.stderr)
        return 2
    try:
        running = start_desk(config, args.screen)
    except Exception as exc:  # a device that does not open, a screen address that is not loopback
        print(f"error: the desk did not start: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    emit({"station": config.station.station_id, "border_point": config.station.border_point,
          "screen": running.url}, args.json,
         lambda r: f"counter desk {r['station']} at {r['border_point']}: {r['screen']} (Ctrl-C stops)")
    sys.stdout.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        running.close()
    return 0


def _await_removal(chip_reader: str) -> None:
    """The next traveller is served once this one has taken the passport off the chip reader."""
    try:
        wait_for_removal(chip_reader, REMOVAL_WAIT_S)
    except (CardAbsent, TransportError) as exc:
        print(f"chip reader: {exc}; going on", file=sys.stderr, flush=True)


def _line(outcome) -> str:
    who = outcome.traveller
    name = f"{who['surname']}, {who['given_names']} ({who['nationality']} {who['document_number']})" if who \
        else "(unreadable document)"
    line = f"{outcome.decision.value.upper():<5} {name} {outcome.timings_ms.get('decision_total', 0):.0f} ms"
    if not outcome.recorded:
        line += " [not recorded]"
    return "\n".join([line] + [f"      - {reason}" for reason in outcome.reasons])
