"""Who is outside the Entry/Exit System: no traveller file, no 90/180 count.

Regulation (EU) 2017/2226 (EES) Article 2(3) leaves out, among others, EU
citizens and those who enjoy free movement like them (EEA: Iceland,
Liechtenstein, Norway; and Switzerland), and holders of residence permits
and long-stay visas. Here that is two configurable rules, by nationality (the
MRZ's ICAO code) and by document type (the MRZ's two-letter type code):

    [exemption]
    nationalities = ["AUT", "BEL", ...]   # replaces the default list
    document_types = ["IR", "AR"]         # residence permits, long-stay visas...

Pure (standard library only) so that central's records, the traveller files
and the stay rule (central.stays.rule) share one answer.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass

# The 27 member states (ICAO codes: Germany is "D"), the EEA's three, and Switzerland.
EU_EEA_CH = frozenset({
    "AUT", "BEL", "BGR", "HRV", "CYP", "CZE", "DNK", "EST", "FIN", "FRA", "D", "DEU", "GRC", "HUN", "IRL",
    "ITA", "LVA", "LTU", "LUX", "MLT", "NLD", "POL", "PRT", "ROU", "SVK", "SVN", "ESP", "SWE",
    "ISL", "LIE", "NOR", "CHE",
})
# MRZ document types of residence permits (TD1 cards, "IR"/"AR" by common practice) and of the
# long-stay (national, type D) visa sticker ("VD"); a state adds its own codes in the configuration.
RESIDENCE_DOCUMENTS = frozenset({"IR", "AR", "VD"})


class ExemptionConfigError(ValueError):
    """The [exemption] table is malformed (named in the message)."""


@dataclass(frozen=True)
class Exemption:
    nationalities: frozenset[str] = EU_EEA_CH
    document_types: frozenset[str] = RESIDENCE_DOCUMENTS

    def reason(self, nationality: str, document_type: str) -> str | None:
        """Why a traveller with this nationality and document is exempt; None when they are not."""
        code = nationality.strip().upper().replace("<", "")
        if code in self.nationalities:
            return f"nationality {code} is exempt (EU/EEA/CH)"
        kind = document_type.strip().upper().replace("<", "")
        if kind in self.document_types:
            return f"document type {kind} is exempt (residence permit or long-stay visa)"
        return None


def parse(text: str) -> Exemption:
    """The rules of a TOML text's [exemption] table; the defaults for what it leaves out."""
    try:
        table = tomllib.loads(text).get("exemption", {})
    except tomllib.TOMLDecodeError as exc:
        raise ExemptionConfigError(f"not TOML: {exc}") from None
    if not isinstance(table, dict):
        raise ExemptionConfigError("[exemption] must be a table")
    unknown = set(table) - {"nationalities", "document_types"}
    if unknown:
        raise ExemptionConfigError(f"[exemption]: unknown key(s) {', '.join(sorted(unknown))}")
    return Exemption(_codes(table, "nationalities", EU_EEA_CH, 3), _codes(table, "document_types",
                                                                          RESIDENCE_DOCUMENTS, 2))


def _codes(table: dict, key: str, default: frozenset[str], longest: int) -> frozenset[str]:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v.strip()) <= longest for v in value):
        raise ExemptionConfigError(f"[exemption] {key}: a list of codes of at most {longest} letters")
    return frozenset(v.strip().upper() for v in value)
