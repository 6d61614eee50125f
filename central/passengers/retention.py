"""Retention of advance passenger data, per kind of data, counted back from today in whole days.

- `api_days` (default 2: the 48 hours after arrival that API rules allow): the persons and documents
  of PAXLST lists of flights whose date is older go; the flight and its list versions (counts,
  problems, who delivered them) stay for the statistics.
- `pnr_depersonalise_days` (default 180, six months): PNRs received before it are depersonalised:
  travellers lose names, birth dates, documents and details; the PNR keeps only its itinerary, agency
  and bag counts; its contact, address and payment links go (booking and agency links stay).
- `pnr_delete_days` (default 1825, five years): PNRs received before it go altogether.
One transaction and one audit row per purge; a failed purge deletes nothing.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from central.access.audit import Caller, audit
from central.database import models as m
from central.errors import InvalidArgument

KEPT_AFTER_DEPERSONALISING = ("itinerary", "agency")


@dataclass(frozen=True)
class PassengerDataRetention:
    api_days: int = 2
    pnr_depersonalise_days: int = 180
    pnr_delete_days: int = 1825

    def __post_init__(self) -> None:
        if min(self.api_days, self.pnr_depersonalise_days) < 0:
            raise InvalidArgument("api_days", "periods must be >= 0")
        if self.pnr_delete_days < self.pnr_depersonalise_days:
            raise InvalidArgument("pnr_delete_days", "must be at least pnr_depersonalise_days")


@dataclass(frozen=True)
class PassengerDataPurge:
    api_persons_deleted: int
    pnrs_depersonalised: int
    pnrs_deleted: int

    def as_dict(self) -> dict:
        return asdict(self)


def _delete_persons(session: Session, person_ids: list[int]) -> None:
    for chunk in range(0, len(person_ids), 500):
        ids = person_ids[chunk:chunk + 500]
        session.execute(delete(m.ApiDocument).where(m.ApiDocument.person_id.in_(ids)))
        session.execute(delete(m.ApiPerson).where(m.ApiPerson.id.in_(ids)))


def purge_passenger_data(session: Session, caller: Caller, policy: PassengerDataRetention,
                         now: dt.datetime) -> PassengerDataPurge:
    today = now.astimezone(dt.timezone.utc).date()
    api_before = today - dt.timedelta(days=policy.api_days)
    old_lists = select(m.ApiManifest.id).join(m.ApiFlight, m.ApiManifest.flight_id == m.ApiFlight.id).where(
        m.ApiManifest.list_kind != "pnr", m.ApiFlight.flight_date < api_before)
    api_persons = list(session.scalars(select(m.ApiPerson.id).where(m.ApiPerson.manifest_id.in_(old_lists))))
    _delete_persons(session, api_persons)

    def pnrs_received_before(days: int):
        return select(m.PnrRecord.id).join(m.ApiManifest, m.PnrRecord.manifest_id == m.ApiManifest.id).where(
            m.ApiManifest.received_at < now - dt.timedelta(days=days))

    doomed = list(session.scalars(pnrs_received_before(policy.pnr_delete_days)))
    for chunk in range(0, len(doomed), 500):
        ids = doomed[chunk:chunk + 500]
        _delete_persons(session, list(session.scalars(select(m.ApiPerson.id).where(m.ApiPerson.pnr_id.in_(ids)))))
        session.execute(delete(m.PnrLink).where(m.PnrLink.pnr_id.in_(ids)))
        session.execute(delete(m.PnrRecord).where(m.PnrRecord.id.in_(ids)))
    masked = 0
    for record in session.scalars(select(m.PnrRecord).where(
            m.PnrRecord.id.in_(pnrs_received_before(policy.pnr_depersonalise_days)),
            m.PnrRecord.depersonalised_at.is_(None))):
        bags = [{"pieces": b.get("pieces", "")} for b in record.data.get("bags", [])]
        record.data = {k: record.data.get(k) for k in KEPT_AFTER_DEPERSONALISING} | {"bags": bags}
        record.depersonalised_at = now
        travellers = list(session.scalars(select(m.ApiPerson.id).where(m.ApiPerson.pnr_id == record.id)))
        session.execute(delete(m.ApiDocument).where(m.ApiDocument.person_id.in_(travellers)))
        session.execute(update(m.ApiPerson).where(m.ApiPerson.pnr_id == record.id).values(
            surname="", given_names="", name_key="", birth_date=None, sex="", details={}, reasons=[]))
        session.execute(delete(m.PnrLink).where(m.PnrLink.pnr_id == record.id,
                                                m.PnrLink.kind.in_(("contact", "address", "payment"))))
        masked += 1
    report = PassengerDataPurge(len(api_persons), masked, len(doomed))
    audit(session, caller, "PurgeApi", f"API before {api_before.isoformat()}, PNRs masked after "
          f"{policy.pnr_depersonalise_days} and deleted after {policy.pnr_delete_days} days",
          f"{report.api_persons_deleted} API person(s), {masked} PNR(s) masked, {len(doomed)} deleted",
          "retention")
    return report
