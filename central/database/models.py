"""The central database, as SQLAlchemy 2 typed ORM models.

Portable SQL only: the embedded default is SQLite, production is PostgreSQL.
Enumerations are stored as their names in short strings (no native ENUM
types, which PostgreSQL would need migrated separately); instants are stored
in UTC; lists and check results as JSON.

The schema is created and changed only by the Alembic migrations in
central/database/migrations; a test compares them with these models.
"""
from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from central.database.keys import new_key

# Explicit constraint names: Alembic can only alter or drop constraints it can name,
# and PostgreSQL and SQLite would otherwise name them differently.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The keys of the tables border posts write and headquarters receives (central.sites): UUIDs made
# where the row is written, so that no two posts make the same key without asking each other
# (docs/SITES.md). Time-ordered (version 7): inserts append to the key's index, as a sequence's did.
SiteKey = Uuid(as_uuid=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Direction(enum.Enum):
    ENTRY = "ENTRY"
    EXIT = "EXIT"


class GateDecision(enum.Enum):
    OPEN = "OPEN"
    REFER = "REFER"


class DocumentAlertReason(enum.Enum):
    LOST = "LOST"
    STOLEN = "STOLEN"
    REVOKED = "REVOKED"
    INVALIDATED = "INVALIDATED"


class PersonAlertReason(enum.Enum):
    ENTRY_BAN = "ENTRY_BAN"
    ARREST = "ARREST"
    MISSING_PERSON = "MISSING_PERSON"
    DISCREET_CHECK = "DISCREET_CHECK"


class DocumentAlertCategory(enum.Enum):
    """The lost and stolen travel documents convention: which of them a document alert is."""

    STOLEN_BLANK = "STOLEN_BLANK"  # stolen before personalisation: any holder is an impostor
    STOLEN_ISSUED = "STOLEN_ISSUED"
    LOST = "LOST"
    REVOKED = "REVOKED"
    INVALIDATED = "INVALIDATED"


# The reason each lost/stolen category is listed for (the gates' and older clients' word for it).
CATEGORY_REASONS = {
    DocumentAlertCategory.STOLEN_BLANK: DocumentAlertReason.STOLEN,
    DocumentAlertCategory.STOLEN_ISSUED: DocumentAlertReason.STOLEN,
    DocumentAlertCategory.LOST: DocumentAlertReason.LOST,
    DocumentAlertCategory.REVOKED: DocumentAlertReason.REVOKED,
    DocumentAlertCategory.INVALIDATED: DocumentAlertReason.INVALIDATED,
}


class PersonNotice(enum.Enum):
    """International notice colours (in the style of INTERPOL's): what the issuing agency asks for."""

    RED = "RED"  # locate and arrest for extradition or surrender
    YELLOW = "YELLOW"  # a missing person, often a minor
    BLUE = "BLUE"  # more information on a person's identity, location or activities
    BLACK = "BLACK"  # unidentified bodies (a traveller hit means a dead person's identity in use)
    GREEN = "GREEN"  # warning about a person's criminal activities
    ORANGE = "ORANGE"  # an imminent threat to public safety
    PURPLE = "PURPLE"  # modus operandi, objects, devices, concealment methods


class NoticeKind(enum.Enum):
    NOTICE = "NOTICE"  # published by the international body
    DIFFUSION = "DIFFUSION"  # circulated by one country or agency directly to others


class ReferralStatus(enum.Enum):
    OPEN = "OPEN"
    ADMITTED = "ADMITTED"
    REFUSED = "REFUSED"
    ESCALATED = "ESCALATED"


def _enum_column(enum_class: type[enum.Enum]) -> Enum:
    # native_enum=False: a VARCHAR on every database; create_constraint=False: no CHECK
    # constraint to migrate each time a value is added.
    return Enum(enum_class, native_enum=False, create_constraint=False, length=16)


class BorderPoint(Base):
    """A border crossing point (airport terminal, road or rail crossing, port)."""

    __tablename__ = "border_points"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")

    stations: Mapped[list[Station]] = relationship(back_populates="border_point")


class Station(Base):
    """An e-gate or an officer's desk at a border point."""

    __tablename__ = "stations"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    border_point_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("border_points.id"), index=True)

    border_point: Mapped[BorderPoint] = relationship(back_populates="stations")


class Traveller(Base):
    """A person as known from their travel documents."""

    __tablename__ = "travellers"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    surname: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    # Sorted transliterated name words: the look-up key for history by person.
    name_key: Mapped[str] = mapped_column(String(400), index=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    nationality: Mapped[str] = mapped_column(String(3), default="")
    sex: Mapped[str] = mapped_column(String(1), default="")

    documents: Mapped[list[TravelDocument]] = relationship(back_populates="traveller")


class TravelDocument(Base):
    """A passport or ID card; one holder, identified by issuing state and number."""

    __tablename__ = "travel_documents"
    __table_args__ = (UniqueConstraint("issuing_state", "number_norm", name="uq_travel_documents_state_number"),)

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    number: Mapped[str] = mapped_column(String(40))
    number_norm: Mapped[str] = mapped_column(String(40), index=True)
    issuing_state: Mapped[str] = mapped_column(String(3))
    doc_type: Mapped[str] = mapped_column(String(2), default="")
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)
    traveller_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("travellers.id"), index=True)
    # The border post that recorded it; "" on a single site. Only the database's default fills it (each
    # post sets its own name as the default, central.sites.replication), so no query names it. A post
    # knows a document once; headquarters, which holds every post's, keys documents by site too.
    site: Mapped[str] = mapped_column(String(32), server_default="")

    traveller: Mapped[Traveller] = relationship(back_populates="documents")


class Crossing(Base):
    """One passage through a gate or desk, as the station reported it."""

    __tablename__ = "crossings"
    # Who passed a border point around a moment (central.intelligence.network: co-travel).
    __table_args__ = (Index("ix_crossings_point_time", "border_point_id", "occurred_at"),)

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    # The client's UUID: unique, so a retried RecordCrossing can never add a second row.
    crossing_id: Mapped[str] = mapped_column(String(36), unique=True)
    station_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("stations.id"), index=True)
    border_point_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("border_points.id"), index=True)
    direction: Mapped[Direction] = mapped_column(_enum_column(Direction))
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    document_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("travel_documents.id"), index=True)
    traveller_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("travellers.id"), index=True)
    decision: Mapped[GateDecision] = mapped_column(_enum_column(GateDecision))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    # [{"name":..., "status": "PASS"|"FAIL"|"NOT_DONE"|"STATUS_UNSPECIFIED", "reason":...}, ...]
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    face_score: Mapped[float | None] = mapped_column(Float)
    # An exit's flag: days the stay it ends went past what was authorised (central.records.stays); else None.
    overstay_days: Mapped[int | None] = mapped_column(Integer)
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    risk_rules_fired: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_rules_version: Mapped[str] = mapped_column(String(64), default="")

    station: Mapped[Station] = relationship()
    border_point: Mapped[BorderPoint] = relationship()
    document: Mapped[TravelDocument] = relationship()
    traveller: Mapped[Traveller] = relationship()
    referrals: Mapped[list[Referral]] = relationship(back_populates="crossing")


class DocumentAlert(Base):
    """A document reported lost, stolen, revoked or invalidated."""

    __tablename__ = "document_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), unique=True)
    number: Mapped[str] = mapped_column(String(40))
    number_norm: Mapped[str] = mapped_column(String(40), index=True)
    # The number with OCR confusions folded (see normalize.ocr_key): finds misread numbers.
    number_ocr_key: Mapped[str] = mapped_column(String(40), index=True)
    doc_type: Mapped[str] = mapped_column(String(2), default="")
    issuing_state: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[DocumentAlertReason] = mapped_column(_enum_column(DocumentAlertReason))
    handling_instruction: Mapped[str] = mapped_column(Text, default="")
    issuing_agency: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    # alert_version at the last change (creation or withdrawal).
    version: Mapped[int] = mapped_column(Integer, index=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The lost/stolen category; None on alerts issued before categories (their reason says enough).
    category: Mapped[DocumentAlertCategory | None] = mapped_column(_enum_column(DocumentAlertCategory))
    # Need to know (central.access.scope): the agency that owns it, its 3x5x2 handling code (P, or C with
    # its conditions) and its classification (central.intelligence.clearance.LEVELS). "" owner: unowned
    # (issued before ownership), visible as before.
    owning_agency: Mapped[str] = mapped_column(String(64), default="", index=True)
    handling_code: Mapped[str] = mapped_column(String(1), default="P")
    handling_conditions: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(16), default="OFFICIAL")


# Room for the 400 characters of a person alert's names in MRZ letters (an Arabic letter may take 3).
NAME_MRZ_LENGTH = 1200


class PersonAlert(Base):
    """An alert on a person: entry ban, arrest, missing person, discreet check."""

    __tablename__ = "person_alerts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[str] = mapped_column(String(36), unique=True)
    surname: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    # Indexed because person checks block on the birth date before scoring names.
    birth_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    nationality: Mapped[str] = mapped_column(String(3), default="")
    reason: Mapped[PersonAlertReason] = mapped_column(_enum_column(PersonAlertReason))
    handling_instruction: Mapped[str] = mapped_column(Text, default="")
    issuing_agency: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    # Subject id in the matcher's face gallery, when the alert carries a face.
    matcher_subject_id: Mapped[str] = mapped_column(String(64), default="")
    version: Mapped[int] = mapped_column(Integer, index=True)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The international notice the alert carries out, if any, and whether it came as a diffusion.
    notice: Mapped[PersonNotice | None] = mapped_column(_enum_column(PersonNotice))
    notice_kind: Mapped[NoticeKind | None] = mapped_column(_enum_column(NoticeKind))
    # The name's words in MRZ letters (drivers.alertmatch.normalize.name_key), so that a name typed
    # in Cyrillic, Greek or Arabic script is found by its MRZ form, and the reverse.
    name_mrz: Mapped[str] = mapped_column(String(NAME_MRZ_LENGTH), default="")
    # Need to know (central.access.scope): the agency that owns it, its 3x5x2 handling code (P, or C with
    # its conditions) and its classification (central.intelligence.clearance.LEVELS). "" owner: unowned
    # (issued before ownership), visible as before.
    owning_agency: Mapped[str] = mapped_column(String(64), default="", index=True)
    handling_code: Mapped[str] = mapped_column(String(1), default="P")
    handling_conditions: Mapped[str] = mapped_column(Text, default="")
    classification: Mapped[str] = mapped_column(String(16), default="OFFICIAL")


class AlertVersion(Base):
    """The single-row counter of alert changes; gates ask for changes after the version they hold."""

    __tablename__ = "alert_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Referral(Base):
    """A crossing handed to an officer (second-line check)."""

    __tablename__ = "referrals"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    referral_id: Mapped[str] = mapped_column(String(36), unique=True)
    crossing_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("crossings.id"), index=True)
    station_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("stations.id"), index=True)
    status: Mapped[ReferralStatus] = mapped_column(_enum_column(ReferralStatus))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The gate's 1:N watchlist candidates: [{"gallery":..., "subject_id":..., "score":...}, ...], best first.
    # Evidence: cleared with the photos after the evidence period (central.access.retention).
    watchlist_candidates: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # The agency of the station that opened it (central.access.scope); "" for referrals opened before.
    owning_agency: Mapped[str] = mapped_column(String(64), default="", index=True)

    crossing: Mapped[Crossing] = relationship(back_populates="referrals")
    station: Mapped[Station] = relationship()
    decisions: Mapped[list[OfficerDecision]] = relationship(
        back_populates="referral", order_by="OfficerDecision.id")


class FaceImageKind(enum.Enum):
    # The gate's best frame of the traveller, cropped around the face.
    LIVE = "LIVE"
    # The document's photo as read from the chip (DG2).
    CHIP = "CHIP"
    # The photo a person alert's face was enrolled from (a watchlist candidate's picture).
    ENROLMENT = "ENROLMENT"


class FaceImage(Base):
    """A face photo central keeps, as JPEG: evidence of a referral, or a person alert's enrolment photo.

    Served only by its opaque random `token` (never by a path or a guessable
    number), to a role that may see it, and each view is audited.
    """

    __tablename__ = "face_images"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[FaceImageKind] = mapped_column(_enum_column(FaceImageKind))
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(SiteKey, ForeignKey("referrals.id"), index=True)
    person_alert_id: Mapped[int | None] = mapped_column(ForeignKey("person_alerts.id"), index=True)
    # The live face a traveller file was opened with (kind LIVE).
    traveller_file_id: Mapped[int | None] = mapped_column(ForeignKey("traveller_files.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TravellerFile(Base):
    """The Entry/Exit System's individual file of a third-country national (central.travellers).

    Opened at their first entry: the identity and documents are the traveller's rows
    (`travellers`, `travel_documents`), the entry, exit and refusal records their crossings and
    referrals; the file adds the live face (a `face_images` row, sealed) and its template, sealed
    here too, searched 1:N in the matcher's travellers gallery under `file_id`.
    """

    __tablename__ = "traveller_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The subject id in the matcher's travellers gallery; never the traveller's name or number.
    file_id: Mapped[str] = mapped_column(String(36), unique=True)
    traveller_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("travellers.id"), unique=True)
    # float32 vector, sealed at rest like the face images (common.sealing) when central has a key file.
    template: Mapped[bytes] = mapped_column(LargeBinary)
    template_model: Mapped[str] = mapped_column(String(64))
    template_model_version: Mapped[str] = mapped_column(String(64))
    # The crossing that opened it; None once retention has purged that crossing.
    first_crossing_id: Mapped[uuid.UUID | None] = mapped_column(SiteKey, ForeignKey("crossings.id"), index=True)
    border_point_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("border_points.id"))
    # Its author: the authenticated caller (the gate's station, or a user), never a request field.
    created_by_station: Mapped[str] = mapped_column(String(64), default="")
    created_by_user: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # An overstay was recorded: kept five years after the last crossing instead of three.
    overstay: Mapped[bool] = mapped_column(Boolean, default=False)

    traveller: Mapped[Traveller] = relationship()
    border_point: Mapped[BorderPoint] = relationship()


class TravellerFinger(Base):
    """One finger of a traveller file (central.travellers.fingerprints), enrolled at a counter desk.

    Its ISO/IEC 19794-2 minutiae record and WSQ image are sealed at rest like the face images (common.sealing),
    under a context naming the file and position; the minutiae are also in the matcher's finger gallery under
    the file's id. It goes with its file (central.access.retention).
    """

    __tablename__ = "traveller_fingers"
    __table_args__ = (UniqueConstraint("traveller_file_id", "position", name="uq_traveller_fingers_file_position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    traveller_file_id: Mapped[int] = mapped_column(ForeignKey("traveller_files.id"), index=True)
    # ISO/IEC 19794 finger position, 1 (right thumb) to 10 (left little finger).
    position: Mapped[int] = mapped_column(Integer)
    iso19794_2: Mapped[bytes] = mapped_column(LargeBinary)
    wsq: Mapped[bytes] = mapped_column(LargeBinary)
    quality: Mapped[int] = mapped_column(Integer)
    minutiae: Mapped[int] = mapped_column(Integer)
    # Its author: the desk station and the officer of its session, never a request field.
    enrolled_by_station: Mapped[str] = mapped_column(String(64), default="")
    enrolled_by_user: Mapped[str] = mapped_column(String(64), default="")
    enrolled_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OfficerDecision(Base):
    """An officer's decision on a referral; escalations are followed by a final decision."""

    __tablename__ = "officer_decisions"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    referral_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("referrals.id"), index=True)
    officer: Mapped[str] = mapped_column(String(64))
    decision: Mapped[ReferralStatus] = mapped_column(_enum_column(ReferralStatus))
    reason: Mapped[str] = mapped_column(String(400), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="decisions")


class AuditEntry(Base):
    """Who read or changed what personal data, when, and why.

    Written in the same transaction as the access it records: an access whose
    audit row cannot be written does not happen.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    station: Mapped[str] = mapped_column(String(64), default="")
    # "user" is reserved in PostgreSQL.
    user_name: Mapped[str] = mapped_column(String(64), default="")
    # The operation, e.g. "CheckDocument".
    action: Mapped[str] = mapped_column(String(64))
    # Whose data: a document number, a name and birth date, an id.
    subject: Mapped[str] = mapped_column(String(400), default="")
    # Why: the purpose the caller declared, or the operation's standing purpose.
    purpose: Mapped[str] = mapped_column(String(200), default="")
    # What came of it, e.g. "2 hits".
    outcome: Mapped[str] = mapped_column(String(200), default="")


class Principal(Base):
    """A caller central knows and one role it holds (a caller with several roles has several rows).

    kind "station": a gate or desk, by the station id its client certificate names (CN, with
    OU=station); kind "user": a person, by their certificate's name (OU=user). In plaintext
    (development) the x-limes-station / x-limes-user metadata stand in (see docs/CENTRAL.md).
    """

    __tablename__ = "principals"
    __table_args__ = (UniqueConstraint("kind", "name", "role", name="uq_principals_kind_name_role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CrossingAggregate(Base):
    """Crossings counted per day and statistical cell, kept when purging removes the crossings.

    Statistics add these counts to the crossings still stored; purging adds a
    crossing's count here in the same transaction that deletes it.
    """

    __tablename__ = "crossing_aggregates"
    __table_args__ = (UniqueConstraint("day", "nationality", "sex", "age_band", "border_point", "direction",
                                       "document_type", "decision", name="uq_crossing_aggregates_cell"),)

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    nationality: Mapped[str] = mapped_column(String(3))
    sex: Mapped[str] = mapped_column(String(1))
    age_band: Mapped[str] = mapped_column(String(8))
    border_point: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))
    document_type: Mapped[str] = mapped_column(String(2))
    decision: Mapped[str] = mapped_column(String(8))
    count: Mapped[int] = mapped_column(Integer)


class PermitKind(enum.Enum):
    RESIDENCE_PERMIT = "RESIDENCE_PERMIT"   # no limit while valid
    LONG_STAY_VISA = "LONG_STAY_VISA"       # no limit while valid
    SHORT_STAY_VISA = "SHORT_STAY_VISA"     # its validity, entries and duration of stay narrow the 90/180 rule


class PermittedStay(Base):
    """A visa or residence permit of the holder of a document (issuing state and number).

    A short-stay visa's number, nationality, birth date, sex and validity end can come from its MRZ
    (MRV-A/B); its first day, number of entries and duration of stay cannot (they are printed, not
    encoded) and are supplied with it (central.records.visas). `traveller_id`: the holder, when known.
    """

    __tablename__ = "permitted_stays"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    issuing_state: Mapped[str] = mapped_column(String(3))
    number_norm: Mapped[str] = mapped_column(String(40), index=True)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(64), default="")
    kind: Mapped[PermitKind] = mapped_column(_enum_column(PermitKind), default=PermitKind.RESIDENCE_PERMIT)
    entries: Mapped[int | None] = mapped_column(Integer)        # short-stay visa: None = multiple
    duration_days: Mapped[int | None] = mapped_column(Integer)  # short-stay visa: days of stay allowed
    traveller_id: Mapped[uuid.UUID | None] = mapped_column(SiteKey, ForeignKey("travellers.id"), index=True)


class StayRecord(Base):
    """One stay of a traveller, kept up to date by every RecordCrossing (central.records.stays).

    Days count whole (entry and exit day both); an open stay (no exit_day) is still inside.
    `allowed_until` is the last day authorised at entry (None: no limit); `overstay_days` is set at exit.
    `alerted_on` is the day an overstay alert was raised for it (still inside after allowed_until).
    """

    __tablename__ = "stays"

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    traveller_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("travellers.id"), index=True)
    entry_day: Mapped[dt.date] = mapped_column(Date)
    exit_day: Mapped[dt.date | None] = mapped_column(Date)
    entry_crossing_id: Mapped[uuid.UUID | None] = mapped_column(SiteKey, ForeignKey("crossings.id"))
    exit_crossing_id: Mapped[uuid.UUID | None] = mapped_column(SiteKey, ForeignKey("crossings.id"))
    border_point_id: Mapped[uuid.UUID] = mapped_column(SiteKey, ForeignKey("border_points.id"))
    nationality: Mapped[str] = mapped_column(String(3), default="")
    regime: Mapped[str] = mapped_column(String(16))
    allowed_until: Mapped[dt.date | None] = mapped_column(Date, index=True)
    overstay_days: Mapped[int] = mapped_column(Integer, default=0)
    alerted_on: Mapped[dt.date | None] = mapped_column(Date)


class WebAccount(Base):
    """The password of a user of the web desk (central.web); the user's roles are in `principals`.

    Only an argon2 hash is kept. Failed sign-ins are counted; enough of them
    lock the account for a while (central.web.accounts).
    """

    __tablename__ = "web_accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    password_set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored here."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- advance passenger data (central.passengers)

class ApiFlight(Base):
    """A flight airlines sent advance passenger data for, identified by designator, arrival airport and date."""

    __tablename__ = "api_flights"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flight_key: Mapped[str] = mapped_column(String(80), unique=True)
    number: Mapped[str] = mapped_column(String(12), index=True)
    carrier: Mapped[str] = mapped_column(String(3), default="")
    departure_airport: Mapped[str] = mapped_column(String(5), default="")
    arrival_airport: Mapped[str] = mapped_column(String(5), default="")
    # Local times as the carrier sent them (ISO, no zone): they are compared with nothing but each other.
    departure_time: Mapped[str] = mapped_column(String(16), default="")
    arrival_time: Mapped[str] = mapped_column(String(16), default="")
    flight_date: Mapped[dt.date | None] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    manifests: Mapped[list[ApiManifest]] = relationship(back_populates="flight")


class ApiManifest(Base):
    """One message's version of a flight's list: passengers, crew (PAXLST) or PNRs (PNRGOV).

    A later message for the same flight and list becomes the current version; earlier ones are kept.
    """

    __tablename__ = "api_manifests"
    __table_args__ = (UniqueConstraint("flight_id", "list_kind", "version", name="uq_api_manifests_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flight_id: Mapped[int] = mapped_column(ForeignKey("api_flights.id"), index=True)
    list_kind: Mapped[str] = mapped_column(String(12))  # passengers | crew | pnr
    version: Mapped[int] = mapped_column(Integer)
    current: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    message_type: Mapped[str] = mapped_column(String(8))
    message_version: Mapped[str] = mapped_column(String(8), default="")
    sender: Mapped[str] = mapped_column(String(64), default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    # The authenticated caller that delivered it (station or user), never a field of the message.
    received_by: Mapped[str] = mapped_column(String(64), default="")
    digest: Mapped[str] = mapped_column(String(64))
    problems: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    person_count: Mapped[int] = mapped_column(Integer, default=0)

    flight: Mapped[ApiFlight] = relationship(back_populates="manifests")


class PnrRecord(Base):
    """A PNR of a PNRGOV message: the booking's details as JSON, depersonalised after a period."""

    __tablename__ = "pnr_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("api_manifests.id"), index=True)
    locator: Mapped[str] = mapped_column(String(16), index=True)
    carrier: Mapped[str] = mapped_column(String(3), default="")
    # contacts, addresses, payments (masked), agency, itinerary, seats, bags, tickets, history
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    depersonalised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ApiPerson(Base):
    """A person of a manifest (PAXLST) or a traveller of a PNR (PNRGOV), with the result of screening."""

    __tablename__ = "api_persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    manifest_id: Mapped[int] = mapped_column(ForeignKey("api_manifests.id"), index=True)
    pnr_id: Mapped[int | None] = mapped_column(ForeignKey("pnr_records.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20))  # passenger, crew, transit_..., overflight_crew, pnr_traveller
    surname: Mapped[str] = mapped_column(String(200), default="")
    given_names: Mapped[str] = mapped_column(String(200), default="")
    name_key: Mapped[str] = mapped_column(String(400), index=True, default="")
    sex: Mapped[str] = mapped_column(String(1), default="")
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    nationality: Mapped[str] = mapped_column(String(3), default="")
    # residence, birth place, embarkation, debarkation, booking reference, seat, crew function, address...
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="CLEAR")  # HIT | CLEAR
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)


class ApiDocument(Base):
    """A travel document a person of a manifest or PNR carries (PAXLST DOC, SSR DOCS)."""

    __tablename__ = "api_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("api_persons.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(4), default="")
    number: Mapped[str] = mapped_column(String(40), default="")
    number_norm: Mapped[str] = mapped_column(String(40), index=True, default="")
    issuing_state: Mapped[str] = mapped_column(String(3), default="")
    expiry_date: Mapped[dt.date | None] = mapped_column(Date)


class PnrLink(Base):
    """A value a PNR shares with others for network analysis: booking reference, contact, address, payment, agency.

    Contacts, addresses and agencies are normalised text; payments are a digest of the account number, never the number.
    """

    __tablename__ = "pnr_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pnr_id: Mapped[int] = mapped_column(ForeignKey("pnr_records.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # booking | contact | address | payment | agency
    value: Mapped[str] = mapped_column(String(200), index=True)
# ---------------------------------------------------------------- intelligence (central.intelligence)

class IntelReport(Base):
    """An intelligence report, graded under the 3x5x2 model (central.intelligence.grading).

    Read only on need to know (central.intelligence.access): a clearance at least its
    classification, and the originating unit or one it was shared with. The sanitised text is
    what may go wider: it names nobody and carries no links.
    """

    __tablename__ = "intel_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(36), unique=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    # 3x5x2: source evaluation "1".."3", intelligence assessment "A".."E", handling code "P" or "C".
    source_evaluation: Mapped[str] = mapped_column(String(1))
    assessment: Mapped[str] = mapped_column(String(1))
    handling_code: Mapped[str] = mapped_column(String(1))
    # The conditions of a C handling code (who may receive it, what they may do with it).
    handling_conditions: Mapped[str] = mapped_column(Text, default="")
    # A report imported from the 5x5x5 model keeps its old grading, e.g. "B24".
    legacy_grading: Mapped[str] = mapped_column(String(8), default="")
    # A report imported from a legacy system keeps that system's reference (`limes central intel
    # import-5x5x5`), unique: a record is imported once.
    legacy_reference: Mapped[str | None] = mapped_column(String(64), unique=True)
    classification: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str] = mapped_column(String(64), index=True)
    # Further units the report was disseminated to: [unit, ...].
    shared_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    originator: Mapped[str] = mapped_column(String(64), index=True)
    text: Mapped[str] = mapped_column(Text)
    sanitised_text: Mapped[str] = mapped_column(Text, default="")
    review_by: Mapped[dt.date] = mapped_column(Date, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # The agency of its originator (central.access.scope): other agencies read at most its sanitised text.
    owning_agency: Mapped[str] = mapped_column(String(64), default="", index=True)

    links: Mapped[list[IntelLink]] = relationship(back_populates="report", order_by="IntelLink.id",
                                                  cascade="all, delete-orphan")


class IntelLink(Base):
    """What a report is about: a person, document, crossing or referral held here (by its id or uuid),
    or a free entity (vehicle, route, organisation) by its description."""

    __tablename__ = "intel_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("intel_reports.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(200), index=True)

    report: Mapped[IntelReport] = relationship(back_populates="links")


class IntelCycleRecord(Base):
    """A step of the intelligence cycle: tasking, collection, evaluation, analysis, dissemination or
    feedback, with its owner and dates; steps answer a tasking (parent) and may name a report."""

    __tablename__ = "intel_cycle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(64), index=True)
    due: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("intel_cycle.id"), index=True)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("intel_reports.id"), index=True)


class IntelClearance(Base):
    """A user's unit and the highest classification they may read (need to know)."""

    __tablename__ = "intel_clearances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_name: Mapped[str] = mapped_column(String(64), unique=True)
    unit: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RiskProfile(Base):
    """One version of an analyst's risk profile (central.intelligence.profiles): the conditions a gate applies.

    A change is a new row with the next version; the row it replaces is retired, never edited, so a
    selection always names the exact conditions that made it.
    """

    __tablename__ = "risk_profiles"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_risk_profiles_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)
    weight: Mapped[float] = mapped_column(Float)
    rationale: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RiskProfileSelection(Base):
    """A traveller a profile version selected at a gate, by the gate's crossing id (the crossing is recorded
    after the decision): with the crossing's referral and the officer's decision, the profile's yield."""

    __tablename__ = "risk_profile_selections"
    __table_args__ = (UniqueConstraint("profile_id", "crossing_id", name="uq_risk_profile_selections_pair"),)

    id: Mapped[uuid.UUID] = mapped_column(SiteKey, primary_key=True, default=new_key)
    profile_id: Mapped[int] = mapped_column(ForeignKey("risk_profiles.id"), index=True)
    crossing_id: Mapped[str] = mapped_column(String(36), index=True)
    selected_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- the officer desk (central.desk)

class DeskSession(Base):
    """An officer signed in at a desk station: bound to that station, which alone may use it.
    Like a web session, only the token's SHA-256 is stored."""

    __tablename__ = "desk_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    station: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class CounterCase(Base):
    """A traveller a gate could not identify (MRZ unreadable) and sent to the counter, until a desk settles it."""

    __tablename__ = "counter_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(36), unique=True)
    station: Mapped[str] = mapped_column(String(64))
    border_point: Mapped[str] = mapped_column(String(32), index=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    crossing_id: Mapped[str | None] = mapped_column(String(36))
    settled_by: Mapped[str | None] = mapped_column(String(64))
    settled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class TrendCount(Base):
    """A week's count of one trend indicator for one value of a dimension (central.intelligence.weekly_counts):
    the trend dashboard reads these instead of millions of crossings, and they outlive purged crossings.
    Refusal grounds are kept as the dimension "ground" (value: the letter, indicator "refusals")."""

    __tablename__ = "trend_counts"
    __table_args__ = (UniqueConstraint("dimension", "week", "value", "indicator", name="uq_trend_counts_cell"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16))
    week: Mapped[dt.date] = mapped_column(Date)  # its Monday
    value: Mapped[str] = mapped_column(String(48))
    indicator: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)


class TrendCountsState(Base):
    """How far the trend counts go: the crossings that occurred before `counted_until` are in them (one row)."""

    __tablename__ = "trend_counts_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    counted_until: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    counted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- sharing (central.access.scope, central.federation)

class PrincipalScope(Base):
    """The agency a station or user belongs to, the border points it is limited to ([]: all) and its
    clearance (the highest classification it may see). Without a row: no agency, every border point,
    OFFICIAL."""

    __tablename__ = "principal_scopes"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_principal_scopes_kind_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(64))
    agency: Mapped[str] = mapped_column(String(64))
    border_points: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance: Mapped[str] = mapped_column(String(16), default="OFFICIAL")
    set_by: Mapped[str] = mapped_column(String(64), default="")
    set_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FederatedAlert(Base):
    """An alert a partner central shares with us (a subscription's delta or a signed bundle), as received."""

    __tablename__ = "federated_alerts"
    __table_args__ = (UniqueConstraint("partner", "alert_id", name="uq_federated_alerts_partner_alert"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    alert_id: Mapped[str] = mapped_column(String(36))
    list_name: Mapped[str] = mapped_column(String(16))  # documents | persons
    version: Mapped[int] = mapped_column(Integer)
    handling_code: Mapped[str] = mapped_column(String(1))
    # The look-up key of our checks: the normalised document number, or the birth date (YYYY-MM-DD) of a person.
    match_key: Mapped[str] = mapped_column(String(40), index=True, default="")
    # What the partner disclosed of it: reason, handling instruction, number or names, validity.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FederationState(Base):
    """Per partner and list: the version our copy holds, and when and how it last changed."""

    __tablename__ = "federation_state"
    __table_args__ = (UniqueConstraint("partner", "list_name", name="uq_federation_state_partner_list"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    list_name: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str] = mapped_column(String(400), default="")


class FederationBundleSeen(Base):
    """A signed bundle taken in, by its JWS id: the same bundle offered again is a replay and refused."""

    __tablename__ = "federation_bundles_seen"
    __table_args__ = (UniqueConstraint("partner", "bundle_id", name="uq_federation_bundles_seen_pair"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    partner: Mapped[str] = mapped_column(String(64))
    bundle_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class HitNotice(Base):
    """A partner's query hit one of our alerts: the owning agency is told where and when (central.federation)."""

    __tablename__ = "federation_hit_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owning_agency: Mapped[str] = mapped_column(String(64), index=True)
    alert_id: Mapped[str] = mapped_column(String(36))
    partner: Mapped[str] = mapped_column(String(64))
    # Where and when the partner met the document or person, as the partner said.
    place: Mapped[str] = mapped_column(String(64), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    noticed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class FederationOutbox(Base):
    """A hit at our gates on a partner's alert, to be told to that partner (the owner) by NotifyHit."""

    __tablename__ = "federation_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[str] = mapped_column(String(36), unique=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    alert_id: Mapped[str] = mapped_column(String(36))
    place: Mapped[str] = mapped_column(String(64), default="")
    occurred_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(String(400), default="")


class TrustObject(Base):
    """A trust anchor or list of passive authentication, published at headquarters and replicated down to
    every post (central.sites.trust): a CSCA, a Document Signer certificate, a CRL or a deviation list, as DER.
    removed_at: no longer in headquarters' trust store (posts remove it from their folders)."""

    __tablename__ = "trust_objects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # csca | dsc | crl | deviation_list
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # of der
    der: Mapped[bytes] = mapped_column(LargeBinary)
    # A CSCA headquarters accepted despite deviations from Doc 9303's profile (a master list vouched for it).
    deviations_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(String(400), default="")  # subject or issuer, for people
    added_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    added_by: Mapped[str] = mapped_column(String(64), default="")  # who ran the publishing at headquarters
    removed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
