"""What goes to a partner and what is taken from one: pure rules, no database, no network.

Out: an alert becomes a SharedAlert when the partner is granted its list, handling code and
classification (Partner.grants); otherwise it goes out as a withdrawal with no content, so a copy that
held it before drops it. A hit is disclosed as its fact and handling instruction, plus the fields the
trust configuration names (disclose).

In: a SharedDelta, from a partner's ListDelta or a signed bundle, is checked whole before anything of it
is applied (check_delta): one bad alert refuses the delta, with the reason.
"""
from __future__ import annotations

import datetime as dt

from central.database import models as m
from central.federation.trust import HANDLING, LISTS, Partner
from proto.limes.v1 import federation_pb2 as fpb

MAX_TEXT = 200
MAX_INSTRUCTION = 2000


class DeltaRefused(ValueError):
    """A partner's delta or bundle refused whole; the message says why."""


def list_of(alert: m.DocumentAlert | m.PersonAlert) -> str:
    return "documents" if isinstance(alert, m.DocumentAlert) else "persons"


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def shared_alert(alert: m.DocumentAlert | m.PersonAlert, partner: Partner) -> fpb.SharedAlert:
    """The alert as `partner` may hold it: in full when granted, else a withdrawal with no content."""
    if alert.withdrawn or not partner.grants(list_of(alert), alert.handling_code, alert.classification):
        return fpb.SharedAlert(alert_id=alert.alert_id, version=alert.version, withdrawn=True)
    shared = fpb.SharedAlert(
        alert_id=alert.alert_id, version=alert.version, handling_code=alert.handling_code,
        handling_instruction=alert.handling_instruction, reason=alert.reason.value,
        owning_agency=alert.owning_agency, valid_from=_date(alert.valid_from), valid_to=_date(alert.valid_to))
    if isinstance(alert, m.DocumentAlert):
        shared.document_number, shared.document_type, shared.issuing_state = (
            alert.number, alert.doc_type, alert.issuing_state)
    else:
        shared.surname, shared.given_names, shared.nationality = alert.surname, alert.given_names, alert.nationality
        shared.birth_date = _date(alert.birth_date)
    return shared


def disclosed_hit(list_name: str, alert, partner: Partner) -> fpb.DisclosedHit | None:
    """What `partner` learns of a hit on `alert` (a row with the alert's columns); None: not even that it hit."""
    if not partner.grants(list_name, alert.handling_code, alert.classification):
        return None
    hit = fpb.DisclosedHit(list=list_name, handling_instruction=alert.handling_instruction)
    if "alert_id" in partner.disclose:
        hit.alert_id = alert.alert_id
    if "reason" in partner.disclose:
        hit.reason = alert.reason.value if hasattr(alert.reason, "value") else str(alert.reason)
    if "owning_agency" in partner.disclose:
        hit.owning_agency = alert.owning_agency
    return hit


# ------------------------------------------------------------------ taking a delta in

def _checked_date(text: str, where: str) -> None:
    if text:
        try:
            dt.date.fromisoformat(text)
        except ValueError:
            raise DeltaRefused(f"{where}: {text[:20]!r} is not a date (YYYY-MM-DD)") from None
        if len(text) != 10:
            raise DeltaRefused(f"{where}: {text[:20]!r} is not a date (YYYY-MM-DD)")


def check_delta(delta: fpb.SharedDelta, list_name: str, max_alerts: int) -> fpb.SharedDelta:
    """`delta` when every part of it is well formed for `list_name`; DeltaRefused naming the first problem."""
    if delta.list != list_name:
        raise DeltaRefused(f"list: the delta is of {delta.list[:20]!r}, {list_name!r} was asked for")
    if list_name not in LISTS:
        raise DeltaRefused(f"list: {list_name[:20]!r} is not one of {', '.join(LISTS)}")
    if delta.since_version < 0 or delta.current_version < delta.since_version:
        raise DeltaRefused(f"versions: since {delta.since_version} and current {delta.current_version} do not "
                      "make a range")
    if len(delta.alerts) > max_alerts:
        raise DeltaRefused(f"oversized: {len(delta.alerts)} alerts, at most {max_alerts} in one delta")
    seen: set[str] = set()
    for number, alert in enumerate(delta.alerts, 1):
        where = f"alert {number}"
        if not 1 <= len(alert.alert_id) <= 36 or not all(ch.isalnum() or ch in "-_" for ch in alert.alert_id):
            raise DeltaRefused(f"{where}: alert_id must be 1 to 36 letters, digits, '-' or '_'")
        if alert.alert_id in seen:
            raise DeltaRefused(f"{where}: alert {alert.alert_id} appears twice")
        seen.add(alert.alert_id)
        if not delta.since_version < alert.version <= delta.current_version:
            raise DeltaRefused(f"{where}: version {alert.version} is outside ({delta.since_version}, "
                          f"{delta.current_version}]")
        if alert.withdrawn:
            continue
        if alert.handling_code not in HANDLING:
            raise DeltaRefused(f"{where}: handling code {alert.handling_code[:8]!r} is not P or C")
        if len(alert.handling_instruction) > MAX_INSTRUCTION:
            raise DeltaRefused(f"{where}: handling instruction longer than {MAX_INSTRUCTION} characters")
        texts = (alert.reason, alert.owning_agency, alert.document_number, alert.document_type, alert.issuing_state,
                 alert.surname, alert.given_names, alert.nationality)
        if any(len(text) > MAX_TEXT for text in texts):
            raise DeltaRefused(f"{where}: a field is longer than {MAX_TEXT} characters")
        if any(ch in text for text in (*texts, alert.handling_instruction) for ch in "\x00"):
            raise DeltaRefused(f"{where}: a field holds a NUL character")
        for field in ("birth_date", "valid_from", "valid_to"):
            _checked_date(getattr(alert, field), f"{where}: {field}")
        if list_name == "documents" and not alert.document_number.strip():
            raise DeltaRefused(f"{where}: a document alert needs its document number")
        if list_name == "persons" and not alert.surname.strip():
            raise DeltaRefused(f"{where}: a person alert needs a surname")
    return delta
