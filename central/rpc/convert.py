"""Between gRPC messages and the service's Python values.

Parsing checks every field a service operation needs and raises
InvalidArgument naming it, before any database work starts.
"""
from __future__ import annotations

import datetime as dt
import math
from enum import Enum
from typing import TypeVar

from central.access import scope
from central.alerts.face_matcher import FaceQuery
from central.alerts.lists import NewDocumentAlert, NewPersonAlert
from central.database import models as m
from central.errors import InvalidArgument
from central.intelligence import targeting
from central.records.evidence import ReferralCandidate, ReferralEvidence
from central.records.gate_calls import DocumentData, NewCrossing, TravellerData
from central.records.stays import StayQuestion
from central.rpc import fields
from drivers.alertmatch.persons import Identity
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import common_pb2, notices_pb2

E = TypeVar("E", bound=Enum)


def enum_value(field: str, proto_enum, number: int, model_enum: type[E]) -> E:
    """The model enum for a proto enum number; UNSPECIFIED and unknown numbers are refused."""
    allowed = ", ".join(e.name for e in model_enum)
    try:
        name = proto_enum.Name(number)
        return model_enum[name]
    except (ValueError, KeyError):
        raise InvalidArgument(field, f"must be one of {allowed} (got {number})") from None


def _optional_enum(field: str, proto_enum, prefix: str, number: int, model_enum: type[E]) -> E | None:
    """The model enum for a proto enum whose 0 means "none": PREFIX_NAME -> NAME; unknown numbers refused."""
    if number == 0:
        return None
    allowed = ", ".join(e.name for e in model_enum)
    try:
        return model_enum[proto_enum.Name(number).removeprefix(prefix)]
    except (ValueError, KeyError):
        raise InvalidArgument(field, f"must be one of {allowed} or unset (got {number})") from None


def category_number(category: m.DocumentAlertCategory | None) -> int:
    return notices_pb2.DocumentAlertCategory.Value("CATEGORY_" + category.name) if category else 0


def notice_numbers(notice: m.PersonNotice | None, kind: m.NoticeKind | None) -> dict[str, int]:
    """The proto fields notice and notice_kind of an alert or hit."""
    return {"notice": notices_pb2.PersonNotice.Value("NOTICE_" + notice.name) if notice else 0,
            "notice_kind": notices_pb2.NoticeKind.Value("NOTICE_KIND_" + kind.name) if kind else 0}


# ---------------------------------------------------------------- requests

def evidence(request: pb.OpenReferralRequest) -> ReferralEvidence | None:
    """The gate's evidence, or None when it sent none; its parts are checked when stored (central.records.evidence)."""
    if not request.HasField("evidence"):
        return None
    sent = request.evidence
    return ReferralEvidence(live_jpeg=sent.live_capture_jpeg, chip_jpeg=sent.chip_photo_jpeg, candidates=tuple(
        ReferralCandidate(c.gallery, c.subject_id, c.score) for c in sent.watchlist_candidates))


def new_crossing(request: pb.RecordCrossingRequest) -> NewCrossing:
    face_score = request.face_score if request.HasField("face_score") else None
    if face_score is not None and not (math.isfinite(face_score) and 0.0 <= face_score <= 1.0):
        raise InvalidArgument("face_score", f"must be within 0..1 (got {face_score})")
    return NewCrossing(
        crossing_id=fields.client_uuid("crossing_id", request.crossing_id),
        station=fields.required("station_id", request.station_id, 64),
        border_point=fields.required("border_point", request.border_point, 32),
        direction=enum_value("direction", pb.Crossing.Direction, request.direction, m.Direction),
        occurred_at=fields.instant("occurred_at", request.occurred_at),
        document=document_data(request.document),
        traveller=traveller_data(request.traveller),
        decision=enum_value("decision", pb.Crossing.Decision, request.decision, m.GateDecision),
        reasons=list(request.reasons),
        checks=[check_json(f"checks[{i}]", c) for i, c in enumerate(request.checks)],
        face_score=face_score,
    )


def document_data(document: pb.TravelDocument) -> DocumentData:
    return DocumentData(
        number=fields.document_no("document.number", document.number),
        doc_type=document.type,
        issuing_state=fields.state("document.issuing_state", document.issuing_state, is_required=True),
        expiry_date=fields.optional_date("document.expiry_date", document.expiry_date),
    )


def face_template(field: str, face) -> FaceQuery:
    """A required face template (common.FaceTemplate); its vector is checked where it is used."""
    if not face.vector:
        raise InvalidArgument(f"{field}.vector", "is required")
    return FaceQuery(tuple(face.vector), fields.bounded(f"{field}.model", face.model, 64),
                     fields.bounded(f"{field}.model_version", face.model_version, 64))


def traveller_file(view) -> pb.TravellerFile:
    """central.travellers.files.FileView as its message."""
    file, person = view.file, view.file.traveller
    return pb.TravellerFile(
        file_id=file.file_id,
        traveller=pb.Traveller(surname=person.surname, given_names=person.given_names,
                               nationality=person.nationality, sex=person.sex,
                               birth_date=fields.format_date(person.birth_date)),
        documents=[pb.TravelDocument(number=d.number, type=d.doc_type, issuing_state=d.issuing_state,
                                     expiry_date=fields.format_date(d.expiry_date)) for d in view.documents],
        opened_at=fields.format_instant(file.created_at), opened_at_border_point=file.border_point.code,
        opened_by=file.created_by_user or file.created_by_station, template_model=file.template_model,
        template_model_version=file.template_model_version, crossings=[crossing(c) for c in view.crossings],
        referrals=[referral(r) for r in view.referrals], overstay=file.overstay)


def risk_traveller(request: pb.AssessRiskRequest, now: dt.datetime) -> targeting.Traveller:
    return targeting.Traveller(
        crossing_id=fields.client_uuid("crossing_id", request.crossing_id),
        surname=fields.required("surname", request.surname),
        given_names=fields.bounded("given_names", request.given_names, 200),
        birth_date=fields.optional_date("birth_date", request.birth_date),
        nationality=fields.state("nationality", request.nationality, is_required=False),
        document_type=fields.bounded("document_type", request.document_type, 2),
        border_point=fields.required("border_point", request.border_point, 32),
        direction=enum_value("direction", pb.Crossing.Direction, request.direction, m.Direction).value,
        occurred_at=now, expiry_date=fields.optional_date("expiry_date", request.expiry_date))


def traveller_data(traveller: pb.Traveller) -> TravellerData:
    sex = traveller.sex.strip().upper().replace("<", "")
    if sex not in ("", "M", "F", "X"):
        raise InvalidArgument("traveller.sex", f"must be M, F, X or empty (got {traveller.sex!r})")
    return TravellerData(
        surname=fields.required("traveller.surname", traveller.surname),
        given_names=fields.bounded("traveller.given_names", traveller.given_names, 200),
        nationality=fields.state("traveller.nationality", traveller.nationality, is_required=False),
        sex=sex,
        birth_date=fields.optional_date("traveller.birth_date", traveller.birth_date),
    )


def stay_question(request: pb.CheckStayRequest) -> StayQuestion:
    from drivers.alertmatch.normalize import document_number, document_type, name_key

    number = fields.document_no("document.number", request.document.number)
    traveller = traveller_data(request.traveller)
    return StayQuestion(
        issuing_state=fields.state("document.issuing_state", request.document.issuing_state, is_required=True),
        number_norm=document_number(number), document_code=document_type(request.document.type),
        name_key=name_key(traveller.surname, traveller.given_names), birth_date=traveller.birth_date,
        nationality=fields.state("traveller.nationality", request.traveller.nationality, is_required=True))


_CHECK_STATUS = {number: name for name, number in common_pb2.Check.Status.items()}


def check_json(field: str, check: common_pb2.Check) -> dict:
    status = _CHECK_STATUS.get(check.status)
    if status is None:
        raise InvalidArgument(f"{field}.status", f"unknown status {check.status}")
    name = check.name.strip()
    if not name or len(name) > 200:  # refused: fields.required says why
        name = fields.required(f"{field}.name", check.name)
    return {"name": name, "status": status, "reason": check.reason}


def identity(request: pb.CheckPersonRequest) -> Identity:
    return Identity(
        surname=fields.required("surname", request.surname),
        given_names=fields.bounded("given_names", request.given_names, 200),
        birth_date=fields.required_date("birth_date", request.birth_date),
        nationality=fields.state("nationality", request.nationality, is_required=False),
    )


def face_query(request: pb.CheckPersonRequest) -> FaceQuery | None:
    if not request.HasField("face") or not request.face.vector:
        return None
    return FaceQuery(tuple(request.face.vector), request.face.model, request.face.model_version)


def new_document_alert(request: pb.AddDocumentAlertRequest) -> NewDocumentAlert:
    valid_from, valid_to = fields.validity("valid_from", request.valid_from, "valid_to", request.valid_to)
    return NewDocumentAlert(
        alert_id=fields.client_uuid("alert_id", request.alert_id) if request.alert_id else "",
        number=fields.document_no("document_number", request.document_number),
        doc_type=request.document_type,
        issuing_state=fields.state("issuing_state", request.issuing_state, is_required=False),
        reason=enum_value("reason", pb.DocumentAlert.Reason, request.reason, m.DocumentAlertReason),
        handling_instruction=request.handling_instruction.strip(),
        issuing_agency=fields.bounded("issuing_agency", request.issuing_agency, 200),
        valid_from=valid_from, valid_to=valid_to,
        category=_optional_enum("category", notices_pb2.DocumentAlertCategory, "CATEGORY_", request.category,
                                m.DocumentAlertCategory),
        **handling(request),
    )


def new_person_alert(request: pb.AddPersonAlertRequest) -> NewPersonAlert:
    valid_from, valid_to = fields.validity("valid_from", request.valid_from, "valid_to", request.valid_to)
    return NewPersonAlert(
        alert_id=fields.client_uuid("alert_id", request.alert_id) if request.alert_id else "",
        surname=fields.required("surname", request.surname),
        given_names=fields.bounded("given_names", request.given_names, 200),
        birth_date=fields.optional_date("birth_date", request.birth_date),
        nationality=fields.state("nationality", request.nationality, is_required=False),
        reason=enum_value("reason", pb.PersonAlert.Reason, request.reason, m.PersonAlertReason),
        handling_instruction=request.handling_instruction.strip(),
        issuing_agency=fields.bounded("issuing_agency", request.issuing_agency, 200),
        valid_from=valid_from, valid_to=valid_to,
        matcher_subject_id=fields.bounded("matcher_subject_id", request.matcher_subject_id, 64),
        notice=_optional_enum("notice", notices_pb2.PersonNotice, "NOTICE_", request.notice, m.PersonNotice),
        notice_kind=_optional_enum("notice_kind", notices_pb2.NoticeKind, "NOTICE_KIND_", request.notice_kind,
                                   m.NoticeKind),
        **handling(request),
    )


def handling(request) -> dict:
    """An alert's handling code, conditions and classification (central.access.scope), checked."""
    code, conditions = scope.parse_handling(request.handling_code, request.handling_conditions)
    return dict(handling_code=code, handling_conditions=conditions,
                classification=scope.parse_classification(request.classification))


def _owned(alert) -> dict:
    return dict(owning_agency=alert.owning_agency, handling_code=alert.handling_code,
                handling_conditions=alert.handling_conditions, classification=alert.classification)


# ---------------------------------------------------------------- responses

def document_alert(alert: m.DocumentAlert) -> pb.DocumentAlert:
    return pb.DocumentAlert(
        alert_id=alert.alert_id, document_number=alert.number, document_type=alert.doc_type,
        issuing_state=alert.issuing_state, reason=pb.DocumentAlert.Reason.Value(alert.reason.name),
        handling_instruction=alert.handling_instruction, issuing_agency=alert.issuing_agency,
        valid_from=fields.format_date(alert.valid_from), valid_to=fields.format_date(alert.valid_to),
        version=alert.version, withdrawn=alert.withdrawn, category=category_number(alert.category),
        **_owned(alert),
    )


def person_alert(alert: m.PersonAlert) -> pb.PersonAlert:
    return pb.PersonAlert(
        alert_id=alert.alert_id, surname=alert.surname, given_names=alert.given_names,
        birth_date=fields.format_date(alert.birth_date), nationality=alert.nationality,
        reason=pb.PersonAlert.Reason.Value(alert.reason.name), handling_instruction=alert.handling_instruction,
        issuing_agency=alert.issuing_agency, valid_from=fields.format_date(alert.valid_from),
        valid_to=fields.format_date(alert.valid_to), matcher_subject_id=alert.matcher_subject_id,
        version=alert.version, withdrawn=alert.withdrawn, **notice_numbers(alert.notice, alert.notice_kind),
        **_owned(alert),
    )


def crossing(row: m.Crossing) -> pb.Crossing:
    message = pb.Crossing(
        crossing_id=row.crossing_id, station_id=row.station.code, border_point=row.border_point.code,
        direction=pb.Crossing.Direction.Value(row.direction.name), occurred_at=fields.format_instant(row.occurred_at),
        document=pb.TravelDocument(number=row.document.number, type=row.document.doc_type,
                                   issuing_state=row.document.issuing_state,
                                   expiry_date=fields.format_date(row.document.expiry_date)),
        traveller=pb.Traveller(surname=row.traveller.surname, given_names=row.traveller.given_names,
                               nationality=row.traveller.nationality, sex=row.traveller.sex,
                               birth_date=fields.format_date(row.traveller.birth_date)),
        decision=pb.Crossing.Decision.Value(row.decision.name), reasons=row.reasons,
        checks=[common_pb2.Check(name=c["name"], status=common_pb2.Check.Status.Value(c["status"]),
                                 reason=c["reason"]) for c in row.checks],
        risk_score=row.risk_score, risk_rules_fired=row.risk_rules_fired, risk_rules_version=row.risk_rules_version,
        recorded_at=fields.format_instant(row.recorded_at),
    )
    if row.face_score is not None:
        message.face_score = row.face_score
    if row.overstay_days is not None:
        message.overstay_days = row.overstay_days
    return message


def stay(row) -> pb.Stay:
    """A row of central.records.history.stays_of."""
    return pb.Stay(entry_day=row.entry_day.isoformat(), exit_day=fields.format_date(row.exit_day),
                   allowed_until=fields.format_date(row.allowed_until), overstay_days=row.overstay_days,
                   alerted_on=fields.format_date(row.alerted_on), border_point=row.border_point, regime=row.regime)


def referral(row: m.Referral) -> pb.Referral:
    return pb.Referral(
        referral_id=row.referral_id, crossing_id=row.crossing.crossing_id,
        status=pb.Referral.Status.Value(row.status.name), reasons=row.reasons,
        opened_at=fields.format_instant(row.opened_at), station_id=row.station.code,
        decisions=[pb.OfficerDecision(officer=d.officer, decision=pb.Referral.Status.Value(d.decision.name),
                                      reason=d.reason, note=d.note, decided_at=fields.format_instant(d.decided_at))
                   for d in row.decisions],
    )
