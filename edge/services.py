"""The gate's view of central and the matcher: domain objects in, plain
answers out. Maps edge objects onto the protobuf messages of proto.clients."""
from __future__ import annotations

import datetime as dt

from drivers.mrz import Mrz
from proto.clients import CentralClient, MatcherClient, central_pb2, face_template

_DIRECTIONS = {"ENTRY": central_pb2.Crossing.ENTRY, "EXIT": central_pb2.Crossing.EXIT}
_DECISIONS = {"open": central_pb2.Crossing.OPEN, "refer": central_pb2.Crossing.REFER}
_CHECK_STATUS = {"pass": 1, "fail": 2, "not_done": 3}


class CentralService:
    def __init__(self, client: CentralClient):
        self.client = client

    def check_document(self, mrz: Mrz) -> list[str]:
        """One line per alert in force on the document; empty when none."""
        reply = self.client.call("CheckDocument", central_pb2.CheckDocumentRequest(
            document_number=mrz.document_number, document_type=mrz.document_type,
            issuing_state=mrz.issuing_state))
        return [
            f"{central_pb2.DocumentAlert.Reason.Name(hit.reason).lower()} ({hit.match}, alert {hit.alert_id})"
            + (f": {hit.handling_instruction}" if hit.handling_instruction else "")
            for hit in reply.hits
        ]

    def record_crossing(self, outcome, mrz: Mrz, station) -> central_pb2.RecordCrossingResponse:
        request = central_pb2.RecordCrossingRequest(
            crossing_id=outcome.crossing_id,
            station_id=station.station_id,
            border_point=station.border_point,
            direction=_DIRECTIONS[station.direction],
            occurred_at=dt.datetime.now(dt.timezone.utc).isoformat(),
            document=central_pb2.TravelDocument(
                number=mrz.document_number, type=mrz.document_type, issuing_state=mrz.issuing_state,
                expiry_date=mrz.expiry_date.isoformat() if mrz.expiry_date else ""),
            traveller=central_pb2.Traveller(
                surname=mrz.surname, given_names=mrz.given_names, nationality=mrz.nationality,
                sex=mrz.sex if mrz.sex in ("M", "F") else "",
                birth_date=mrz.birth_date.isoformat() if mrz.birth_date else ""),
            decision=_DECISIONS[outcome.decision.value],
            reasons=outcome.reasons,
            checks=[{"name": c.name, "status": _CHECK_STATUS[c.status.value], "reason": c.reason}
                    for c in outcome.checks],
        )
        if outcome.face_score is not None:
            request.face_score = outcome.face_score
        return self.client.call("RecordCrossing", request)

    def open_referral(self, outcome, station) -> str:
        referral_id = outcome.crossing_id  # one referral per crossing: reuse the idempotency key
        self.client.call("OpenReferral", central_pb2.OpenReferralRequest(
            referral_id=referral_id, crossing_id=outcome.crossing_id, station_id=station.station_id,
            reasons=outcome.reasons))
        return referral_id


class MatcherService:
    def __init__(self, client: MatcherClient, top_k: int = 5):
        self.client = client
        self.top_k = top_k

    def search(self, gallery: str, template):
        """template: a drivers.face.FaceTemplate; returns the matcher's SearchResponse."""
        return self.client.search(gallery, face_template(template.vector, template.model, template.model_version),
                                  top_k=self.top_k)
