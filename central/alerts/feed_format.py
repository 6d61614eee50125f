"""The alert feed: document and person alerts exchanged as one JSON document (docs/FEEDS.md).

Reading is pure and strict: text in, `Feed` out, or `FeedError` listing every problem with the
entry it is in ("persons[3].birth_date: ..."). Unknown keys, wrong types, duplicate keys or
alert ids, and values the alert lists would refuse are all refused here, before any database
work, so that a feed applies whole or not at all (central.alerts.feeds).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass

from central.database import models as m
from drivers.alertmatch.normalize import document_number

FORMAT = "limes-alert-feed"
VERSION = 1
MAX_FEED_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 200_000
MAX_PROBLEMS_LISTED = 50

_STATE = re.compile(r"[A-Z]{1,3}")
_DOC_TYPE = re.compile(r"[A-Z]{0,2}")



class FeedError(ValueError):
    """The feed is refused; `problems` says where and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:MAX_PROBLEMS_LISTED]
        more = len(problems) - len(shown)
        super().__init__("alert feed refused: " + "; ".join(shown) + (f"; and {more} more" if more else ""))


@dataclass(frozen=True)
class FeedDocument:
    alert_id: str
    document_number: str
    document_type: str
    issuing_state: str
    reason: m.DocumentAlertReason
    category: m.DocumentAlertCategory | None  # None: not said (a STOLEN document, blank or issued)
    handling_instruction: str
    issuing_agency: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    withdrawn: bool


@dataclass(frozen=True)
class FeedPerson:
    alert_id: str
    surname: str
    given_names: str
    birth_date: dt.date | None
    nationality: str
    reason: m.PersonAlertReason
    notice: m.PersonNotice | None
    notice_kind: m.NoticeKind | None
    handling_instruction: str
    issuing_agency: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    withdrawn: bool


@dataclass(frozen=True)
class Feed:
    issuer: str
    generated_at: dt.datetime
    documents: list[FeedDocument]
    persons: list[FeedPerson]


# ---------------------------------------------------------------- reading

def read_feed(data: bytes | str) -> Feed:
    """The feed in `data` (UTF-8 JSON), or FeedError with every problem found."""
    if len(data) > MAX_FEED_BYTES:
        raise FeedError([f"feed: {len(data)} bytes, at most {MAX_FEED_BYTES}"])
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        document = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise FeedError([f"feed: not UTF-8 ({exc.reason} at byte {exc.start})"]) from None
    except json.JSONDecodeError as exc:
        raise FeedError([f"feed: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"]) from None
    except _Refused as exc:
        raise FeedError([f"feed: {exc}"]) from None
    except RecursionError:
        raise FeedError(["feed: nested too deeply"]) from None
    return _feed(document)


class _Refused(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise _Refused(f"duplicate key(s) {', '.join(map(repr, twice))} in one object")
    return dict(pairs)


def _no_constant(name: str) -> float:
    raise _Refused(f"{name} is not a JSON number")


class _Entry:
    """One JSON object's fields, read once each; every problem is noted with the object's path."""

    def __init__(self, path: str, value: object, problems: list[str]) -> None:
        self.path, self.problems = path, problems
        self.fields = value if isinstance(value, dict) else {}
        self.used: set[str] = set()
        if not isinstance(value, dict):
            self.problem("", f"an object, not {_kind(value)}")

    def problem(self, key: str, reason: str) -> None:
        self.problems.append(f"{self.path}{'.' + key if key else ''}: {reason}")

    def text(self, key: str, limit: int, *, required: bool = False) -> str:
        self.used.add(key)
        value = self.fields.get(key, "")
        if not isinstance(value, str):
            self.problem(key, f"a string, not {_kind(value)}")
            return ""
        value = value.strip()
        if required and not value:
            self.problem(key, "is required")
        elif len(value) > limit:
            self.problem(key, f"at most {limit} characters, not {len(value)}")
        elif any(ord(c) < 32 and c not in "\t\n" for c in value):
            self.problem(key, "holds control characters")
        return value

    def choice(self, key: str, enum_class, *, required: bool = False):
        value = self.text(key, 32, required=required)
        if not value:
            return None
        try:
            return enum_class(value)
        except ValueError:
            self.problem(key, f"one of {', '.join(e.value for e in enum_class)}, not {value!r}")
            return None

    def date(self, key: str) -> dt.date | None:
        value = self.text(key, 10)
        if not value:
            return None
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problem(key, f"a date as YYYY-MM-DD, not {value!r}")
            return None

    def flag(self, key: str) -> bool:
        self.used.add(key)
        value = self.fields.get(key, False)
        if not isinstance(value, bool):
            self.problem(key, f"true or false, not {_kind(value)}")
            return False
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.fields) - self.used)
        if unknown:
            self.problem("", f"unknown key(s) {', '.join(map(repr, unknown))}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


def _feed(document: object) -> Feed:
    problems: list[str] = []
    top = _Entry("feed", document, problems)
    if problems:
        raise FeedError(problems)
    top.used.update({"format", "version", "documents", "persons"})
    if top.fields.get("format") != FORMAT:
        top.problem("format", f"must be {FORMAT!r}")
    version = top.fields.get("version")
    if isinstance(version, bool) or version != VERSION:
        top.problem("version", f"must be {VERSION} (this reader knows no other)")
    issuer = top.text("issuer", 200, required=True)
    generated_at = _instant(top, "generated_at")
    lists = {name: top.fields.get(name, []) for name in ("documents", "persons")}
    for name, entries in lists.items():
        if not isinstance(entries, list):
            top.problem(name, f"an array, not {_kind(entries)}")
            lists[name] = []
    top.finish()
    if sum(len(entries) for entries in lists.values()) > MAX_ENTRIES:
        problems.append(f"feed: more than {MAX_ENTRIES} alerts; split it")
        raise FeedError(problems)
    documents = [_document(f"documents[{i}]", entry, problems) for i, entry in enumerate(lists["documents"])]
    persons = [_person(f"persons[{i}]", entry, problems) for i, entry in enumerate(lists["persons"])]
    seen: dict[str, str] = {}
    for path, alert_id in [(f"documents[{i}]", d.alert_id) for i, d in enumerate(documents)] + \
                          [(f"persons[{i}]", p.alert_id) for i, p in enumerate(persons)]:
        if alert_id and alert_id in seen:
            problems.append(f"{path}.alert_id: {alert_id} is also {seen[alert_id]}'s")
        seen.setdefault(alert_id, path)
    if problems:
        raise FeedError(problems)
    return Feed(issuer, generated_at, documents, persons)


def _instant(entry: _Entry, key: str) -> dt.datetime:
    value = entry.text(key, 40, required=True)
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if instant.tzinfo is None:
            raise ValueError
        return instant.astimezone(dt.timezone.utc)
    except ValueError:
        if value:
            entry.problem(key, f"an RFC 3339 instant with its offset, e.g. 2026-12-06T15:00:00Z, not {value!r}")
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def _alert_id(entry: _Entry) -> str:
    value = entry.text("alert_id", 36, required=True)
    try:
        if value and str(uuid.UUID(value)) != value.lower():
            raise ValueError
    except ValueError:
        entry.problem("alert_id", f"a UUID such as 6f1c0b7e-2d4a-4c8e-9a51-0c3f5e7d9b21, not {value!r}")
    return value.lower()


def _state(entry: _Entry, key: str) -> str:
    value = entry.text(key, 3)
    if value and not _STATE.fullmatch(value):
        entry.problem(key, f"an ICAO state code of 1 to 3 capital letters, not {value!r}")
    return value


def _validity(entry: _Entry) -> tuple[dt.date | None, dt.date | None]:
    start, end = entry.date("valid_from"), entry.date("valid_to")
    if start and end and end < start:
        entry.problem("valid_to", f"{end} is before valid_from {start}")
    return start, end


def _document(path: str, value: object, problems: list[str]) -> FeedDocument:
    entry = _Entry(path, value, problems)
    alert_id = _alert_id(entry)
    number = entry.text("document_number", 40, required=True)
    if number and not document_number(number):
        entry.problem("document_number", f"{number!r} holds no letter or digit")
    doc_type = entry.text("document_type", 2)
    if not _DOC_TYPE.fullmatch(doc_type):
        entry.problem("document_type", f"an ICAO document code of at most 2 capital letters, not {doc_type!r}")
    state = _state(entry, "issuing_state")
    reason = entry.choice("reason", m.DocumentAlertReason, required=True)
    category = entry.choice("category", m.DocumentAlertCategory)
    if reason and category and m.CATEGORY_REASONS[category] is not reason:
        entry.problem("category", f"{category.value} is not a document listed as {reason.value}")
    instruction, agency = entry.text("handling_instruction", 2000), entry.text("issuing_agency", 200)
    start, end = _validity(entry)
    withdrawn = entry.flag("withdrawn")
    entry.finish()
    return FeedDocument(alert_id, number, doc_type, state, reason or m.DocumentAlertReason.LOST, category,
                        instruction, agency, start, end, withdrawn)


def _person(path: str, value: object, problems: list[str]) -> FeedPerson:
    entry = _Entry(path, value, problems)
    alert_id = _alert_id(entry)
    surname = entry.text("surname", 200, required=True)
    given_names = entry.text("given_names", 200)
    birth_date = entry.date("birth_date")
    nationality = _state(entry, "nationality")
    reason = entry.choice("reason", m.PersonAlertReason, required=True)
    notice = entry.choice("notice", m.PersonNotice)
    notice_kind = entry.choice("notice_kind", m.NoticeKind)
    if notice_kind and not notice:
        entry.problem("notice_kind", f"{notice_kind.value} of no notice: give the notice's colour")
    instruction, agency = entry.text("handling_instruction", 2000), entry.text("issuing_agency", 200)
    start, end = _validity(entry)
    withdrawn = entry.flag("withdrawn")
    entry.finish()
    return FeedPerson(alert_id, surname, given_names, birth_date, nationality,
                      reason or m.PersonAlertReason.DISCREET_CHECK, notice,
                      (notice_kind or m.NoticeKind.NOTICE) if notice else None, instruction, agency, start, end,
                      withdrawn)


# ---------------------------------------------------------------- writing

def write_feed(feed: Feed) -> str:
    """The feed as JSON text that read_feed reads back to the same values."""
    def day(value: dt.date | None) -> str:
        return value.isoformat() if value else ""

    document = {
        "format": FORMAT, "version": VERSION, "issuer": feed.issuer,
        "generated_at": feed.generated_at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "documents": [{
            "alert_id": d.alert_id, "document_number": d.document_number, "document_type": d.document_type,
            "issuing_state": d.issuing_state, "reason": d.reason.value,
            "category": d.category.value if d.category else "",
            "handling_instruction": d.handling_instruction, "issuing_agency": d.issuing_agency,
            "valid_from": day(d.valid_from), "valid_to": day(d.valid_to), "withdrawn": d.withdrawn,
        } for d in feed.documents],
        "persons": [{
            "alert_id": p.alert_id, "surname": p.surname, "given_names": p.given_names,
            "birth_date": day(p.birth_date), "nationality": p.nationality, "reason": p.reason.value,
            "notice": p.notice.value if p.notice else "", "notice_kind": p.notice_kind.value if p.notice_kind else "",
            "handling_instruction": p.handling_instruction, "issuing_agency": p.issuing_agency,
            "valid_from": day(p.valid_from), "valid_to": day(p.valid_to), "withdrawn": p.withdrawn,
        } for p in feed.persons],
    }
    return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"

