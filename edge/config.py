"""A gate's configuration: the TOML file `limes edge run` takes (load_config -> edge.runtime.GateConfig).

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
    # fingerprint_scanner = "/dev/ttyUSB1"  # optional: pyserial URL of a ZFM-family fingerprint module
    # eac_terminal = "eac/"        # optional: terminal.cvcerts and terminal.key.pem (edge.chip.load_terminal);
    #                              # with both, the chip's DG3 fingers are verified 1:1 (edge.fingerprints)
    # finger_quality = 35          # optional: a finger below this quality (0-100) is taken again

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
    key_file = "/etc/limes/gate.key"  # seals the outbox's records at rest, made when missing; keep it outside
                                   # state_dir (default: LIMES_KEY_FILE, /etc/limes/at-rest.key as root, ~/.config)
    alert_refresh_s = 60.0
    metrics_port = 9101

    [policy]                       # optional
    optional = []                  # checks that may be not_done without referring
    offline_may_open = false
    offline_max_age_s = 86400.0    # an offline answer from an older alert list is no answer
    require_clone_detection = false  # refer chips with neither Chip nor Active Authentication
    stale_crl = "refer"            # a CRL past its nextUpdate fails dsc.revocation; "warn": passes, saying so
    risk_refer_at = 0.5            # central's risk score (profiles, rules) from which the traveller is referred

    [budgets]                      # optional: seconds per transaction step (edge.gate.DEFAULT_BUDGETS)
    chip = 8.0                     # mrz, chip, face_capture, face_verification, watchlist,
                                   # document_alerts, person_alerts
"""
from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from common import settings
from drivers.emrtd.passiveauth.store import CRL_POLICIES, DEFAULT_CRL_POLICY
from edge.gate import DEFAULT_BUDGETS, GateStation
from edge.policy import Policy
from edge.runtime import GateConfig
from proto.tls import TlsFiles

_SECTIONS = {
    "station": {"border_point", "direction"},
    "devices": {"reader", "camera", "chip_reader", "csca", "fingerprint_scanner", "eac_terminal",
                "finger_quality"},
    "services": {"central", "matcher", "plaintext"},
    "tls": {"ca", "certificate", "key"},
    "gate": {"capture_budget_s", "state_dir", "key_file", "alert_refresh_s", "metrics_port"},
    "policy": {"optional", "offline_may_open", "offline_max_age_s", "require_clone_detection", "stale_crl",
               "risk_refer_at"},
    "budgets": set(DEFAULT_BUDGETS),
}
_REQUIRED = {"devices": {"reader", "camera", "chip_reader", "csca"}, "services": {"central", "matcher"}}


class ConfigError(ValueError):
    """A configuration that cannot run a gate: which field, and why."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def load_config(path: Path, station_id: str):
    """The GateConfig a TOML file describes; ConfigError names the field at fault."""
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
            raise ConfigError(
                f"{section}.{sorted(unknown)[0]}", f"unknown key; known: {', '.join(sorted(_SECTIONS[section]))}"
            )
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
    key_file = _typed(gate, "gate", "key_file", str, None)
    stale_crl = _typed(policy, "policy", "stale_crl", str, DEFAULT_CRL_POLICY)
    if stale_crl not in CRL_POLICIES:
        raise ConfigError("policy.stale_crl", f"{stale_crl!r} is none of {', '.join(CRL_POLICIES)}")
    config = GateConfig(
        station=GateStation(station_id, _typed(station, "station", "border_point", str, GateStation.border_point),
                            direction),
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
                      require_clone_detection=_typed(policy, "policy", "require_clone_detection", bool, False),
                      risk_refer_at=_risk_threshold(policy)),
        state_dir=_path(base, state_dir, "gate.state_dir") if state_dir is not None else None,
        key_file=_path(base, key_file, "gate.key_file") if key_file is not None else settings.key_file(),
        alert_refresh_s=_positive(gate, "alert_refresh_s", 60.0),
        metrics_port=_typed(gate, "gate", "metrics_port", int, None),
        budgets={step: _positive(budgets, step, 0, "budgets") for step in budgets},
        crl_policy=stale_crl,
        fingerprint_scanner=_typed(devices, "devices", "fingerprint_scanner", str, None),
        finger_quality=_quality(devices),
        eac_terminal=(_path(base, devices["eac_terminal"], "devices.eac_terminal") if "eac_terminal" in devices
                      else None),
    )
    tls, plaintext = _transport(data, base)
    return dataclasses.replace(config, tls=tls, plaintext=plaintext)


def _transport(data: dict, base: Path):
    """(TlsFiles, False) from [tls], or (None, True) with services.plaintext = true; never neither."""
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


def _quality(devices: dict) -> int:
    value = _typed(devices, "devices", "finger_quality", int, 35)
    if not 0 <= value <= 100:
        raise ConfigError("devices.finger_quality", f"{value} is not 0-100")
    return value


def _typed(table: dict, section: str, key: str, kind: type, default: Any = ...) -> Any:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"{section}.{key}", f"must be {kind.__name__}, not {type(value).__name__}")
    if kind is str and not value.strip():
        raise ConfigError(f"{section}.{key}", "empty")
    return value


def _risk_threshold(policy: dict) -> float:
    value = policy.get("risk_refer_at", Policy.risk_refer_at)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise ConfigError("policy.risk_refer_at", f"must be a number above 0 and at most 1, not {value!r}")
    return float(value)


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
