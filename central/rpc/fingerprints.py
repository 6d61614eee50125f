"""The limes.v1.TravellerFingerprints gRPC service (central.travellers.fingerprints), served by central beside
limes.v1.Central and limes.v1.Desk.

EnrolFileFingerprints is an officer's act at a desk: the caller is the desk station (role "desk") and the
author the officer of the session the request carries, bound to that station (central.rpc.desk), never a
name the desk sends. VerifyFileFingerprints is a gate's or desk's check; GetFileFingerprints an officer's read.
"""
from __future__ import annotations

from central.access import audit as audit_log
from central.rpc import convert, fields
from central.rpc.desk import DeskServicer
from central.rpc.servicer import CentralServicer
from central.travellers import fingerprints
from proto.limes.v1 import fingerprints_pb2 as fpb
from proto.limes.v1 import fingerprints_pb2_grpc


class FingerprintServicer(fingerprints_pb2_grpc.TravellerFingerprintsServicer):
    """Shares the Central servicer's database, access checks, audit and error mapping, and the Desk
    servicer's officer sessions. `gallery`: the matcher's finger gallery of the files' fingers."""

    def __init__(self, central: CentralServicer, gallery: fingerprints.FingerGallery | None = None) -> None:
        self._central = central
        self._desk = DeskServicer(central)
        self._gallery = gallery

    def EnrolFileFingerprints(self, request, context) -> fpb.EnrolFileFingerprintsResponse:
        def work(caller: audit_log.Caller) -> fpb.EnrolFileFingerprintsResponse:
            crossing_id = fields.client_uuid("crossing_id", request.crossing_id)
            captured = [fingerprints.CapturedFinger(f.position, f.iso19794_2, f.wsq, f.quality)
                        for f in request.fingers]
            fingerprints.check_captured(captured)  # a malformed request is refused before the session is used
            face = convert.face_template("face", request.face) if request.face.vector else None

            def transaction(db) -> fingerprints.FingersEnrolled:
                officer = self._desk._officer(caller, db, request.session_token)
                return fingerprints.enrol_fingers(
                    db, officer, crossing_id, captured, self._gallery, face=face,
                    live_jpeg=request.live_capture_jpeg, traveller_gallery=self._central._travellers,
                    rules=self._central._stay_rules)
            done = self._desk._as_officer(caller, "EnrolFileFingerprints", transaction)
            return fpb.EnrolFileFingerprintsResponse(
                file_id=done.file_id, positions=list(done.positions), file_opened=done.file_opened,
                reason=done.reason, duplicates=[fpb.FingerDuplicate(file_id=d.file_id, score=d.score)
                                                for d in done.duplicates])
        return self._central._call("EnrolFileFingerprints", context, work)

    def VerifyFileFingerprints(self, request, context) -> fpb.VerifyFileFingerprintsResponse:
        def work(caller: audit_log.Caller) -> fpb.VerifyFileFingerprintsResponse:
            file_id = fields.client_uuid("file_id", request.file_id)
            live = [fingerprints.LiveFinger(f.position, f.iso19794_2) for f in request.fingers]
            done = self._central._db.run(lambda db: fingerprints.verify_fingers(db, caller, file_id, live))
            return fpb.VerifyFileFingerprintsResponse(
                status=fpb.VerifyFileFingerprintsResponse.Status.Value(done.status), reason=done.reason,
                threshold=fingerprints.compare.THRESHOLD,
                fingers=[fpb.FingerComparison(position=c.position, score=c.score, match=c.match)
                         for c in done.fingers])
        return self._central._call("VerifyFileFingerprints", context, work)

    def GetFileFingerprints(self, request, context) -> fpb.FileFingerprints:
        def work(caller: audit_log.Caller) -> fpb.FileFingerprints:
            file_id = fields.client_uuid("file_id", request.file_id)

            def transaction(db) -> fpb.FileFingerprints:
                view = fingerprints.read_fingers(db, caller, file_id, caller.purpose or "traveller file review")
                return fpb.FileFingerprints(file_id=file_id, fingers=[fpb.FileFinger(
                    position=f.position, quality=f.quality, minutiae=f.minutiae,
                    enrolled_at=fields.format_instant(f.enrolled_at), enrolled_by=f.enrolled_by_user,
                    enrolled_at_station=f.enrolled_by_station) for f in view.fingers])
            return self._central._db.run(transaction)
        return self._central._call("GetFileFingerprints", context, work)
