"""Screening a person of a manifest or PNR before arrival: document alerts, person alerts, document validity.

It reuses what the gates are checked with (central.records.gate_calls: the same blocking and scoring
of drivers.alertmatch), so a traveller flagged before the flight is the one the gate would flag.
The outcome is a status with its reasons, in words an officer on duty can act on:
HIT (an alert matched), CHECK (something to look at, e.g. a document expired by the flight's
date), CLEAR. The caller audits, and adds the risk rules (central.passengers.storage).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from central.records.gate_calls import document_hits, person_hits
from drivers.alertmatch.persons import DEFAULT_MIN_SIMILARITY, Identity


@dataclass(frozen=True)
class Screened:
    status: str  # HIT | CHECK | CLEAR
    reasons: list[str]


@dataclass(frozen=True)
class DocumentToScreen:
    doc_type: str
    number: str
    issuing_state: str
    expiry_date: dt.date | None


def screen(db, identity: Identity, documents: list[DocumentToScreen], flight_date: dt.date,
           threshold: float = DEFAULT_MIN_SIMILARITY) -> Screened:
    """The alerts in force on the person's documents and identity on `flight_date`, and invalid documents."""
    hits, checks = [], []
    for doc in documents:
        if not doc.number:
            continue
        for hit in document_hits(db, doc.number, doc.doc_type, doc.issuing_state, flight_date):
            hits.append(f"document alert {hit.alert.alert_id}: {hit.alert.reason.value} "
                        f"({hit.match}) on {doc.doc_type or 'document'} {doc.issuing_state} {doc.number}"
                        + (f"; {hit.alert.handling_instruction}" if hit.alert.handling_instruction else ""))
        if doc.expiry_date is not None and doc.expiry_date < flight_date:
            checks.append(f"{doc.doc_type or 'document'} {doc.number} expired on {doc.expiry_date.isoformat()}")
    if identity.surname:
        for hit in person_hits(db, identity, flight_date, threshold):
            hits.append(f"person alert {hit.alert.alert_id}: {hit.alert.reason.value} "
                        f"(score {hit.match.score:.2f}: {hit.match.explanation})"
                        + (f"; {hit.alert.handling_instruction}" if hit.alert.handling_instruction else ""))
    if not documents:
        checks.append("no travel document in the message")
    status = "HIT" if hits else "CHECK" if checks else "CLEAR"
    return Screened(status, hits + checks)
