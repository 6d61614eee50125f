"""The trust configuration of a federation: who we are to partners, and what each partner is granted.

A TOML file (docs/CENTRAL.md, Federation) read into TrustConfig; pure but for reading the file and
the PEM files it names, which are checked to load. Paths are relative to the file's folder.

    [self]
    name = "LIMES-AT"                 # how partners name us: our bundles' issuer, their audience
    listen = "127.0.0.1:50090"        # where our Federation service listens
    certificate = "federation.pem"    # our certificate (issued by our own CA) and its key
    key = "federation.key"
    bundle_key = "bundle.key"         # EC P-256 private key that signs our bundles (PEM)
    max_delta_alerts = 5000           # a delta or bundle with more alerts is refused
    sync_every_s = 30                 # how often subscriptions are pulled

    [[partner]]
    name = "LIMES-DE"
    address = "127.0.0.1:50091"       # their Federation service
    ca = "de-ca.pem"                  # the CA that issues their certificates, and only theirs
    bundle_key = "de-bundle.pub"      # the public key their bundles are signed with (PEM)
    lists = ["documents"]             # what they may query and subscribe to: documents, persons
    handling_codes = ["P"]            # alerts of which 3x5x2 handling codes go to them (P, C)
    classification = "OFFICIAL"       # the highest classification that goes to them
    disclose = []                     # on a hit, beyond its fact and handling instruction:
                                      # alert_id, reason, owning_agency
    subscribe = ["documents"]         # their lists we keep a copy of (what they grant us)
    crl = ["de-ca.crl"]               # their CAs' CRLs (PEM or DER), one per CA; once named, a
                                      # certificate is refused when revoked, when its CA's CRL is
                                      # missing or out of date (central.federation.revocation)
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from central.intelligence.clearance import LEVELS
from central.intelligence.grading import HANDLING_CODES

LISTS = ("documents", "persons")
HANDLING = tuple(HANDLING_CODES)
DISCLOSABLE = ("alert_id", "reason", "owning_agency")
MAX_DELTA_ALERTS = 5000


class TrustError(ValueError):
    """A trust configuration that does not read or does not make sense; the message names the key."""


@dataclass(frozen=True)
class Partner:
    name: str
    address: str
    ca: Path
    bundle_key: Path | None
    lists: frozenset[str]
    handling_codes: frozenset[str]
    classification: str
    disclose: frozenset[str]
    subscribe: tuple[str, ...]
    crls: tuple[Path, ...] = ()

    def grants(self, list_name: str, handling_code: str, classification: str) -> bool:
        """Whether an alert of this list, handling code and classification may go to this partner."""
        return (list_name in self.lists and handling_code in self.handling_codes
                and classification in LEVELS and LEVELS.index(classification) <= LEVELS.index(self.classification))

    def as_dict(self) -> dict:
        return {"name": self.name, "address": self.address, "ca": str(self.ca),
                "bundle_key": str(self.bundle_key) if self.bundle_key else None, "lists": sorted(self.lists),
                "handling_codes": sorted(self.handling_codes), "classification": self.classification,
                "disclose": sorted(self.disclose), "subscribe": list(self.subscribe),
                "crl": [str(path) for path in self.crls]}


@dataclass(frozen=True)
class TrustConfig:
    name: str
    listen: str
    certificate: Path
    key: Path
    bundle_key: Path | None
    max_delta_alerts: int
    sync_every_s: float
    partners: dict[str, Partner]
    path: Path

    def partner(self, name: str) -> Partner:
        try:
            return self.partners[name]
        except KeyError:
            raise TrustError(f"{name!r} is not a partner in {self.path} (partners: "
                             f"{', '.join(sorted(self.partners)) or 'none'})") from None

    def as_dict(self) -> dict:
        return {"name": self.name, "listen": self.listen, "certificate": str(self.certificate), "key": str(self.key),
                "bundle_key": str(self.bundle_key) if self.bundle_key else None,
                "max_delta_alerts": self.max_delta_alerts, "sync_every_s": self.sync_every_s,
                "partners": [p.as_dict() for p in self.partners.values()]}


def _text(table: dict, key: str, where: str, *, required: bool = True, limit: int = 200) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise TrustError(f"{where}.{key}: a string is required")
    value = value.strip()
    if required and not value:
        raise TrustError(f"{where}.{key}: is required")
    if len(value) > limit:
        raise TrustError(f"{where}.{key}: at most {limit} characters")
    return value


def _name(table: dict, where: str) -> str:
    name = _text(table, "name", where, limit=64)
    if not all(ch.isalnum() or ch in "-_." for ch in name):
        raise TrustError(f"{where}.name: {name!r}: letters, digits, '-', '_' and '.' only")
    return name


def _choices(table: dict, key: str, where: str, allowed: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    values = table.get(key, list(default))
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TrustError(f"{where}.{key}: a list of strings is required")
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise TrustError(f"{where}.{key}: {', '.join(map(repr, wrong))} not one of {', '.join(allowed)}")
    return tuple(dict.fromkeys(values))


def _file(table: dict, key: str, where: str, folder: Path, *, required: bool = True) -> Path | None:
    text = _text(table, key, where, required=required, limit=1000)
    if not text:
        return None
    path = (folder / text).resolve()
    if not path.is_file():
        raise TrustError(f"{where}.{key}: {path} is not a readable file")
    return path


def _pem_certificates(path: Path, where: str) -> list:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError as exc:
        raise TrustError(f"{where}: {path} is not a PEM certificate: {exc}") from None


def _crls(table: dict, where: str, folder: Path, cas: list) -> tuple[Path, ...]:
    """The CRL files a partner table names, each read and checked against the partner's CAs now."""
    from central.federation.revocation import RevocationError, read_crl

    values = table.get("crl", [])
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise TrustError(f"{where}.crl: a file name or a list of file names is required")
    paths = tuple(dict.fromkeys(_file({"crl": v}, "crl", where, folder) for v in values))
    for path in paths:
        try:
            read_crl(path, cas)
        except RevocationError as exc:
            raise TrustError(f"{where}.crl: {exc}") from None
    return paths


def _address(table: dict, key: str, where: str) -> str:
    address = _text(table, key, where, limit=200)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise TrustError(f"{where}.{key}: {address!r} is not host:port")
    return address


def parse(text: str, path: Path) -> TrustConfig:
    """The configuration in `text` (the file at `path`, whose folder relative paths start from)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TrustError(f"{path}: not TOML: {exc}") from None
    folder = path.parent
    unknown = set(data) - {"self", "partner"}
    if unknown:
        raise TrustError(f"{path}: unknown table(s) {', '.join(sorted(unknown))} (only [self] and [[partner]])")
    own = data.get("self")
    if not isinstance(own, dict):
        raise TrustError(f"{path}: [self] is required (who we are to partners)")
    limit = own.get("max_delta_alerts", MAX_DELTA_ALERTS)
    if not isinstance(limit, int) or not 1 <= limit <= 100_000:
        raise TrustError("self.max_delta_alerts: an integer within 1..100000 is required")
    every = own.get("sync_every_s", 30)
    if not isinstance(every, (int, float)) or not 0.2 <= every <= 86_400:
        raise TrustError("self.sync_every_s: a number of seconds within 0.2..86400 is required")
    partners: dict[str, Partner] = {}
    tables = data.get("partner", [])
    if not isinstance(tables, list):
        raise TrustError(f"{path}: partners are [[partner]] tables")
    for number, table in enumerate(tables, 1):
        where = f"partner {number}"
        name = _name(table, where)
        where = f"partner {name}"
        if name in partners:
            raise TrustError(f"{where}: named twice")
        ca = _file(table, "ca", where, folder)
        cas = _pem_certificates(ca, f"{where}.ca")
        classification = _text(table, "classification", where, required=False, limit=16).upper() or LEVELS[0]
        if classification not in LEVELS:
            raise TrustError(f"{where}.classification: {classification!r} is not one of {', '.join(LEVELS)}")
        partners[name] = Partner(
            name=name, address=_address(table, "address", where), ca=ca,
            bundle_key=_file(table, "bundle_key", where, folder, required=False),
            lists=frozenset(_choices(table, "lists", where, LISTS, ())),
            handling_codes=frozenset(_choices(table, "handling_codes", where, HANDLING, ("P",))),
            classification=classification,
            disclose=frozenset(_choices(table, "disclose", where, DISCLOSABLE, ())),
            subscribe=_choices(table, "subscribe", where, LISTS, ()),
            crls=_crls(table, where, folder, cas))
    return TrustConfig(name=_name(own, "self"), listen=_address(own, "listen", "self"),
                       certificate=_file(own, "certificate", "self", folder), key=_file(own, "key", "self", folder),
                       bundle_key=_file(own, "bundle_key", "self", folder, required=False),
                       max_delta_alerts=limit, sync_every_s=float(every), partners=partners, path=path)


def load(path: str | Path) -> TrustConfig:
    path = Path(path).resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustError(f"{path}: cannot read: {exc}") from None
    return parse(text, path)


def partner_table(name: str, address: str, ca: str, bundle_key: str, lists: list[str], handling_codes: list[str],
                  classification: str, disclose: list[str], subscribe: list[str], crls: list[str] = ()) -> str:
    """A [[partner]] table in the file's format (`limes central federation add-partner` appends it)."""
    def strings(values: list[str]) -> str:
        return "[" + ", ".join(_quoted(v) for v in values) + "]"
    lines = ["", "[[partner]]", f"name = {_quoted(name)}", f"address = {_quoted(address)}", f"ca = {_quoted(ca)}"]
    if bundle_key:
        lines.append(f"bundle_key = {_quoted(bundle_key)}")
    lines += [f"lists = {strings(lists)}", f"handling_codes = {strings(handling_codes)}",
              f"classification = {_quoted(classification)}", f"disclose = {strings(disclose)}",
              f"subscribe = {strings(subscribe)}"]
    if crls:
        lines.append(f"crl = {strings(list(crls))}")
    return "\n".join(lines) + "\n"


def _quoted(value: str) -> str:
    # A TOML basic string: backslash and quote escaped, no control characters.
    if any(ord(ch) < 32 for ch in value):
        raise TrustError(f"{value[:20]!r}: control characters are not allowed")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
