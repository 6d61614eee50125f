"""Who the short-stay rule applies to, and how a short-stay visa narrows it.

Per nationality a traveller is under one of three regimes: free movement (EU, EEA and Swiss citizens:
no limit), visa-exempt short stay (90 days in any 180) or visa required (the same rule, and within a
short-stay visa's own validity, entries and duration of stay). Whatever the nationality, holders of a
residence permit or a long-stay visa in force are exempt (no limit), and so are documents whose ICAO
code the rules name (a residence permit card read at the gate, say).

Pure: the nationalities and document codes come from StayRules (configurable, see `rules_from`), the
stays and visa from whoever holds them (central.records.stays).
"""
from __future__ import annotations

import datetime as dt
import enum
import tomllib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from central.stays.rule import MAX_DAYS, Stay, authorise


class Regime(str, enum.Enum):
    FREE_MOVEMENT = "free_movement"    # no limit
    VISA_EXEMPT = "visa_exempt"        # 90 days in any 180
    VISA_REQUIRED = "visa_required"    # the same, within a short-stay visa
    EXEMPT = "exempt"                  # residence permit, long-stay visa or an exempting document: no limit


# ICAO codes of the EU member states, the other EEA states (Iceland, Liechtenstein, Norway) and
# Switzerland. Germany's MRZ code is "D" ("DEU" after central's normalisation): both are listed.
EU_EEA_CH = frozenset({
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "D", "DEU", "GRC", "HUN", "IRL",
    "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
    "ISL", "LIE", "NOR", "CHE"})
# MRZ document codes of residence permits (TD1 cards: "IR", "AR" by common practice) and of the national
# long-stay visa ("VD"); a state names its own in the configuration.
RESIDENCE_DOCUMENTS = frozenset({"IR", "AR", "VD"})


class RulesError(ValueError):
    """Stay rules that cannot be used; the message names the key."""


@dataclass(frozen=True)
class StayRules:
    free_movement: frozenset[str] = EU_EEA_CH
    # Empty by default: the list is national policy (Regulation (EU) 2018/1806, Annex I) and changes.
    visa_required: frozenset[str] = frozenset()
    # ICAO document codes whose holders are exempt: residence permits and long-stay visas.
    exempt_documents: frozenset[str] = RESIDENCE_DOCUMENTS

    def regime(self, nationality: str, document_code: str = "") -> Regime:
        nationality, document_code = _code(nationality), _code(document_code)
        if nationality in self.free_movement:
            return Regime.FREE_MOVEMENT
        if document_code and document_code in self.exempt_documents:
            return Regime.EXEMPT
        if nationality in self.visa_required:
            return Regime.VISA_REQUIRED
        return Regime.VISA_EXEMPT

    def exemption(self, nationality: str, document_code: str = "") -> str | None:
        """Why a traveller is outside the short-stay rule and the Entry/Exit System (Regulation (EU)
        2017/2226, Article 2(3)), so that no traveller file is kept; None when they are not."""
        regime = self.regime(nationality, document_code)
        if regime is Regime.FREE_MOVEMENT:
            return f"nationality {_code(nationality)} is exempt (EU/EEA/CH: free movement)"
        if regime is Regime.EXEMPT:
            return f"document type {_code(document_code)} is exempt (residence permit or long-stay visa)"
        return None


def _code(text: str) -> str:
    """An MRZ code as compared: upper case, without fillers or spaces."""
    return text.strip().upper().replace("<", "")


_KEYS = {"free_movement", "visa_required", "exempt_documents"}


def rules_from(raw: Mapping[str, Any]) -> StayRules:
    """StayRules from a mapping (a TOML table): each key a list of codes of 1-3 letters, upper case.

    Absent keys keep their default; an unknown key, a non-list or a bad code is a RulesError.
    """
    if not isinstance(raw, Mapping):
        raise RulesError("stay rules: a table is required")
    unknown = set(raw) - _KEYS
    if unknown:
        raise RulesError(f"stay rules: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    values = {}
    for key, codes in raw.items():
        if not isinstance(codes, (list, tuple)):
            raise RulesError(f"stay rules: {key}: a list of codes is required")
        for code in codes:
            if not (isinstance(code, str) and 1 <= len(code) <= 3 and code.isascii() and code.isalpha()
                    and code.isupper()):
                raise RulesError(f"stay rules: {key}: {code!r} is not a code of 1-3 capital letters")
        values[key] = frozenset(codes)
    return StayRules(**values)


def rules_file(path: str | None) -> StayRules | None:
    """The rules of a TOML file's [stays] table (or of the whole file); None for no file. RulesError, OSError
    or ValueError (not TOML) say why a file cannot be used."""
    if path is None:
        return None
    with open(path, "rb") as file:
        raw = tomllib.load(file)
    return rules_from(raw.get("stays", raw))


@dataclass(frozen=True)
class Visa:
    """A short-stay visa: its validity, how many entries (None: multiple) and days of stay it allows."""

    valid_from: dt.date
    valid_until: dt.date
    entries: int | None = None
    duration_days: int = MAX_DAYS


@dataclass(frozen=True)
class Allowance:
    regime: Regime
    latest_exit: dt.date | None   # None: no limit (free movement, exempt), or no day left
    days_used: int
    overstay_days: int
    refused: str = ""             # why no day is left ("" when one is, or when there is no limit)

    @property
    def limited(self) -> bool:
        return self.regime in (Regime.VISA_EXEMPT, Regime.VISA_REQUIRED)

    def as_dict(self) -> dict:
        return {"regime": self.regime.value, "days_used": self.days_used, "overstay_days": self.overstay_days,
                "latest_exit": self.latest_exit.isoformat() if self.latest_exit else None,
                "refused": self.refused}


def allowance(regime: Regime, stays: Sequence[Stay], on: dt.date, visa: Visa | None = None,
              visa_entries_used: int = 0, visa_days_used: int = 0) -> Allowance:
    """What a traveller under `regime` may stay from `on`, having stayed `stays` (central.stays.rule).

    For VISA_REQUIRED, `visa` is the short-stay visa in force on `on` (None: none on record), with the
    entries and days already used under it: the last day is the earliest of the rule's, the visa's
    end and what is left of its duration. Raises StayError as `authorise` does.
    """
    if regime in (Regime.FREE_MOVEMENT, Regime.EXEMPT):
        return Allowance(regime, None, 0, 0)
    rule = authorise(stays, on)
    latest, refused = rule.latest_exit, ""
    if latest is None:
        refused = f"F: has already stayed {MAX_DAYS} days during a 180-day period ({rule.days_used} days used)"
    if regime is Regime.VISA_REQUIRED and not refused:
        latest, refused = _within_visa(latest, on, visa, visa_entries_used, visa_days_used)
    return Allowance(regime, None if refused else latest, rule.days_used, rule.overstay_days, refused)


def _within_visa(latest: dt.date, on: dt.date, visa: Visa | None, entries_used: int,
                 days_used: int) -> tuple[dt.date | None, str]:
    if visa is None or not visa.valid_from <= on <= visa.valid_until:
        return None, "C: no valid visa on record for this day"
    if visa.entries is not None and entries_used >= visa.entries:
        return None, f"C: the visa's {visa.entries} entr{'y' if visa.entries == 1 else 'ies'} already used"
    left = visa.duration_days - days_used
    if left <= 0:
        return None, f"C: the visa's {visa.duration_days} days of stay already used"
    return min(latest, visa.valid_until, on + dt.timedelta(days=left - 1)), ""
