"""`limes edge run`: one e-gate, wired from a TOML configuration, serving travellers until Ctrl-C.

The configuration names the devices the way an installer does and the services
the gate talks to; relative paths are taken from the configuration's folder:

    [station]                      # the station id comes from --station
    border_point = "DEMO-AIRPORT"
    direction = "ENTRY"            # or "EXIT"

    [devices]
    reader = "/dev/ttyUSB0"        # pyserial URL of the document reader
    camera = "rtsp://10.0.0.7/live"  # OpenCV source: index, file or URL
    chip_reader = "ACS ACR1252 00 00"  # PC/SC reader name
    csca = ["csca/"]               # CSCA certificates, CRLs, master lists: files or folders

    [services]
    central = "central.example:50051"
    matcher = "matcher.example:50052"
    # plaintext = true             # no TLS: development only, central trusts the station id as sent

    [tls]                          # mutual TLS with both (required unless services.plaintext = true)
    ca = "pki/ca.pem"              # the CA of central's and the matcher's certificates
    certificate = "pki/station-GATE-1.pem"   # this station's: its subject names the --station id
    key = "pki/station-GATE-1.key"

    [gate]                         # optional
    capture_budget_s = 4.0
    state_dir = "state/"           # outbox and alert cache (edge.sqlite); none: records lost while central is down
    alert_refresh_s = 60.0
    metrics_port = 9101

    [policy]                       # optional
    optional = []                  # checks that may be not_done without referring
    offline_may_open = false
    offline_max_age_s = 86400.0    # an offline answer from an older alert list is no answer
    require_clone_detection = false  # refer chips with neither Chip nor Active Authentication

    [budgets]                      # optional: seconds per transaction step (edge.gate.DEFAULT_BUDGETS)
    chip = 8.0                     # mrz, chip, face_capture, face_verification, watchlist,
                                   # document_alerts, person_alerts

One line per traveller (a JSON object per line with --json).
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

from edge.gate import DEFAULT_BUDGETS
from common.output import add_json_flag, emit

# How long the gate waits for the previous traveller to take the document back before it goes on anyway.
REMOVAL_WAIT_S = 30.0
_SECTIONS = {
    "station": {"border_point", "direction"},
    "devices": {"reader", "camera", "chip_reader", "csca"},
    "services": {"central", "matcher", "plaintext"},
    "tls": {"ca", "certificate", "key"},
    "gate": {"capture_budget_s", "state_dir", "alert_refresh_s", "metrics_port"},
    "policy": {"optional", "offline_may_open", "offline_max_age_s", "require_clone_detection"},
    "budgets": set(DEFAULT_BUDGETS),
}
_REQUIRED = {"devices": {"reader", "camera", "chip_reader", "csca"}, "services": {"central", "matcher"}}


class ConfigError(ValueError):
    """A configuration that cannot run a gate: which field, and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def register(sub) -> None:
    edge = sub.add_parser("edge", help="the e-gate: run one against its devices and services")
    edge_sub = edge.add_subparsers(dest="edge_command", metavar="WHAT", required=True)
    run = edge_sub.add_parser("run", help="run a gate from a TOML configuration until Ctrl-C",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("--station", required=True, metavar="ID", help="this gate's station id, as central knows it")
    run.add_argument("--config", required=True, type=Path, metavar="FILE", help="TOML configuration")
    run.add_argument("--max-travellers", type=int, default=None, metavar="N",
                     help="stop after N travellers (default: run until Ctrl-C)")
    add_json_flag(run)
    run.set_defaults(func=_run)
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
    add_json_flag(outbox)
    outbox.set_defaults(func=_outbox)


def load_config(path: Path, station_id: str):
    """The GateConfig a TOML file describes; ConfigError names the field at fault."""
    from edge.gate import GateStation
    from edge.policy import Policy
    from edge.runtime import GateConfig

    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), f"not valid TOML: {exc}") from exc
    if not station_id.strip():
        raise ConfigError("--station", "empty")
    for section, value in data.items():
        if section not in _SECTIONS:
            raise ConfigError(section, f"unknown section; known: {', '.join(_SECTIONS)}")
        if not isinstance(value, dict):
            raise ConfigError(section, "must be a table")
        unknown = set(value) - _SECTIONS[section]
        if unknown:
            raise ConfigError(f"{section}.{sorted(unknown)[0]}", f"unknown key; known: {', '.join(sorted(_SECTIONS[section]))}")
    for section, keys in _REQUIRED.items():
        for key in sorted(keys - set(data.get(section, {}))):
            raise ConfigError(f"{section}.{key}", "required")

    base = Path(path).parent
    station, devices, services = data.get("station", {}), data["devices"], data["services"]
    gate, policy, budgets = data.get("gate", {}), data.get("policy", {}), data.get("budgets", {})
    csca = devices["csca"] if isinstance(devices["csca"], list) else [devices["csca"]]
    direction = _typed(station, "station", "direction", str, "ENTRY")
    if direction not in ("ENTRY", "EXIT"):
        raise ConfigError("station.direction", f"{direction!r} is neither ENTRY nor EXIT")
    state_dir = _typed(gate, "gate", "state_dir", str, None)
    config = GateConfig(
        station=GateStation(station_id, _typed(station, "station", "border_point", str, GateStation.border_point), direction),
        reader_url=_typed(devices, "devices", "reader", str),
        camera_source=_typed(devices, "devices", "camera", str),
        chip_reader=_typed(devices, "devices", "chip_reader", str),
        csca_paths=tuple(_path(base, entry, "devices.csca") for entry in csca),
        central_address=_typed(services, "services", "central", str),
        matcher_address=_typed(services, "services", "matcher", str),
        capture_budget_s=_positive(gate, "capture_budget_s", 4.0),
        policy=Policy(optional=frozenset(_names(_typed(policy, "policy", "optional", list, []), "policy.optional")),
                      offline_may_open=_typed(policy, "policy", "offline_may_open", bool, False),
                      offline_max_age_s=_positive(policy, "offline_max_age_s", Policy.offline_max_age_s, "policy"),
                      require_clone_detection=_typed(policy, "policy", "require_clone_detection", bool, False)),
        state_dir=_path(base, state_dir, "gate.state_dir") if state_dir is not None else None,
        alert_refresh_s=_positive(gate, "alert_refresh_s", 60.0),
        metrics_port=_typed(gate, "gate", "metrics_port", int, None),
        budgets={step: _positive(budgets, step, 0, "budgets") for step in budgets},
    )
    tls, plaintext = _transport(data, base)
    return dataclasses.replace(config, tls=tls, plaintext=plaintext)


def _transport(data: dict, base: Path):
    """(TlsFiles, False) from [tls], or (None, True) with services.plaintext = true; never neither."""
    from proto.tls import TlsFiles

    plaintext = _typed(data["services"], "services", "plaintext", bool, False)
    tls = data.get("tls")
    if plaintext:
        if tls:
            raise ConfigError("services.plaintext", "true, yet [tls] is given: choose one")
        return None, True
    if tls is None:
        raise ConfigError("tls", "required: ca, certificate and key of this station (`limes pki dev-certs` makes "
                                 "them for development), or services.plaintext = true")
    for key in ("ca", "certificate", "key"):
        if key not in tls:
            raise ConfigError(f"tls.{key}", "required")
    return TlsFiles(*(_path(base, tls[key], f"tls.{key}") for key in ("ca", "certificate", "key"))), False


def _typed(table: dict, section: str, key: str, kind: type, default: Any = ...) -> Any:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{section}.{key}", f"must be {kind.__name__}, not {type(value).__name__}")
    if kind is str and not value.strip():
        raise ConfigError(f"{section}.{key}", "empty")
    return value


def _names(values: list, field: str) -> list[str]:
    if not all(isinstance(value, str) and value for value in values):
        raise ConfigError(field, "must be a list of check names")
    return values


def _positive(table: dict, key: str, default: float, section: str = "gate") -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{section}.{key}", f"must be a positive number of seconds, not {value!r}")
    return float(value)


def _path(base: Path, entry: Any, field: str) -> Path:
    if not isinstance(entry, str) or not entry.strip():
        raise ConfigError(field, f"must be a path, not {entry!r}")
    path = Path(entry).expanduser()
    return path if path.is_absolute() else base / path


def _outbox(args) -> int:
    from edge.outbox import DELIVERED, STATE_FILE, Outbox

    path = args.state_dir / STATE_FILE
    if not path.is_file():
        emit({"error": f"no outbox at {path}: is {args.state_dir} the gate's state folder?"}, args.json,
             lambda result: f"error: {result['error']}")
        return 2

    def not_here(method: str, payload: bytes) -> None:
        raise AssertionError("this command only reads and requeues; the gate sends")

    outbox = Outbox(path, not_here)
    try:
        resubmitted = outbox.resubmit(args.resubmit) if args.resubmit else None
        entries = [e for e in outbox.entries() if args.all or e.state != DELIVERED]
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
    from drivers.devices.docreader.reader import ReaderError
    from edge.runtime import start_gate

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


def _await_removal(chip_reader: str) -> None:
    """The next traveller is served once this one has taken the passport off the chip reader."""
    from drivers.emrtd.iso7816.transceiver import TransportError
    from drivers.devices.pcsc import CardAbsent, wait_for_removal

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
