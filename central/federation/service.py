"""The limes.v1.Federation gRPC service, its server, and the client a central uses towards a partner.

The server listens with our certificate and trusts exactly the CAs of the partners in the trust
configuration; a caller is the partner whose CA issued its client certificate (checked again here, by
signature, so one partner's CA cannot speak for another). Every call, answered or refused, leaves an
audit row naming the partner.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent import futures
from typing import Callable, TypeVar

import grpc

from central.access.audit import audit_row
from central.database import models as m
from central.database.engine import Database
from central.errors import CentralError, InvalidArgument
from central.federation import store
from central.federation.exchange import DeltaRefused
from central.federation.revocation import PartnerRevocations
from central.federation.trust import LISTS, Partner, TrustConfig
from proto.limes.v1 import federation_pb2 as fpb
from proto.limes.v1 import federation_pb2_grpc
from proto.tls import TlsFiles, open_channel

log = logging.getLogger(__name__)
T = TypeVar("T")
_PEER_CERTIFICATE = "x509_pem_cert"
DEFAULT_LIMIT = 1000
CALL_TIMEOUT_S = 10.0


class NotTrusted(Exception):
    """The caller is no partner of ours, or asks for what it is not granted (PERMISSION_DENIED)."""


def _instant(text: str) -> dt.datetime:
    """An RFC 3339 instant from a partner (UTC when it names no zone); InvalidArgument otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else m.utcnow()
    except ValueError:
        raise InvalidArgument("occurred_at", f"{text[:40]!r} is not an RFC 3339 instant") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


class FederationServicer(federation_pb2_grpc.FederationServicer):
    def __init__(self, database: Database, trust: TrustConfig, clock: Callable[[], dt.datetime] = m.utcnow) -> None:
        from cryptography import x509

        self._db = database
        self._trust = trust
        self._clock = clock
        self._cas = {name: x509.load_pem_x509_certificates(partner.ca.read_bytes())
                     for name, partner in trust.partners.items()}
        self._revocations = {name: PartnerRevocations(partner.crls, self._cas[name])
                             for name, partner in trust.partners.items()}

    def _partner(self, context: grpc.ServicerContext) -> Partner:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature

        pem = (context.auth_context() or {}).get(_PEER_CERTIFICATE)
        if not pem:
            raise NotTrusted("no client certificate: partners speak mutual TLS only")
        certificate = x509.load_pem_x509_certificate(pem[0])
        for name, cas in self._cas.items():
            for ca in cas:
                try:
                    certificate.verify_directly_issued_by(ca)
                except (InvalidSignature, ValueError, TypeError):  # not this CA
                    continue
                refusal = self._revocations[name].refusal(certificate, ca, self._clock())
                if refusal:
                    raise NotTrusted(f"{name}: {refusal}")
                return self._trust.partners[name]
        raise NotTrusted(f"the certificate of {certificate.subject.rfc4514_string()[:120]} was issued by no "
                         "partner's CA in our trust configuration")

    def _call(self, method: str, context, subject: str, work: Callable[[Partner], T]) -> T:
        partner_name = "?"
        try:
            partner = self._partner(context)
            partner_name = partner.name
            return work(partner)
        except NotTrusted as exc:
            code, message = grpc.StatusCode.PERMISSION_DENIED, str(exc)
        except (InvalidArgument, DeltaRefused) as exc:
            code, message = grpc.StatusCode.INVALID_ARGUMENT, str(exc)
        except CentralError as exc:
            code, message = grpc.StatusCode.FAILED_PRECONDITION, str(exc)
        except Exception:
            log.exception("federation call %s failed", method)
            code, message = grpc.StatusCode.INTERNAL, "internal error (logged by the answering central)"
        self._db.run(lambda session: session.add(m.AuditEntry(**audit_row(
            store.partner_caller(partner_name), f"Federation{method}", subject, f"{code.name}: {message}",
            "federation: refused"))))
        context.abort(code, message)
        raise AssertionError("context.abort returned")

    def _granted(self, partner: Partner, list_name: str) -> None:
        if list_name not in LISTS:
            raise InvalidArgument("list", f"{list_name[:20]!r} is not one of {', '.join(LISTS)}")
        if list_name not in partner.lists:
            raise NotTrusted(f"list {list_name!r} is not granted to {partner.name} "
                             f"(granted: {', '.join(sorted(partner.lists)) or 'none'})")

    def QueryHit(self, request: fpb.HitQuery, context) -> fpb.HitAnswer:
        subject = request.WhichOneof("subject") or "nothing"

        def work(partner: Partner) -> fpb.HitAnswer:
            self._granted(partner, "documents" if subject == "document" else "persons")
            occurred_at = _instant(request.occurred_at)
            today = self._clock().astimezone(dt.timezone.utc).date()
            return self._db.run(lambda s: store.answer_query(s, partner, request, today, occurred_at))
        return self._call("QueryHit", context, f"hit/no-hit on a {subject}", work)

    def ListDelta(self, request: fpb.ListDeltaRequest, context) -> fpb.SharedDelta:
        def work(partner: Partner) -> fpb.SharedDelta:
            self._granted(partner, request.list)
            if request.since_version < 0:
                raise InvalidArgument("since_version", "must be >= 0")
            limit = min(request.limit or DEFAULT_LIMIT, self._trust.max_delta_alerts)
            if limit < 0:
                raise InvalidArgument("limit", "must be >= 0")
            return self._db.run(lambda s: store.outgoing_delta(s, partner, request.list, request.since_version,
                                                               limit))
        return self._call("ListDelta", context, f"{request.list[:20]} after version {request.since_version}", work)

    def NotifyHit(self, request: fpb.HitNotice, context) -> fpb.HitNoticeReceipt:
        def work(partner: Partner) -> fpb.HitNoticeReceipt:
            if not request.notice_id or len(request.notice_id) > 36:
                raise InvalidArgument("notice_id", "1 to 36 characters are required")
            occurred_at = _instant(request.occurred_at)
            return fpb.HitNoticeReceipt(recorded=self._db.run(
                lambda s: store.take_notice(s, partner, request, occurred_at)))
        return self._call("NotifyHit", context, f"alert {request.alert_id[:36]}", work)


def serve_federation(database: Database, trust: TrustConfig, address: str | None = None,
                     max_workers: int = 4) -> tuple[grpc.Server, int]:
    """Start the Federation service on `address` (default: the trust configuration's listen); (server, port).

    It trusts the partners' CAs only: a client certificate from any other CA (our own gates' included)
    gets no connection.
    """
    if not trust.partners:
        raise ValueError(f"{trust.path}: no [[partner]]: a federation needs at least one partner")
    roots = b"".join(partner.ca.read_bytes().rstrip(b"\n") + b"\n" for partner in trust.partners.values())
    credentials = grpc.ssl_server_credentials([(trust.key.read_bytes(), trust.certificate.read_bytes())],
                                              root_certificates=roots, require_client_auth=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="federation"),
                         options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 4 * 1024 * 1024)])
    federation_pb2_grpc.add_FederationServicer_to_server(FederationServicer(database, trust), server)
    port = server.add_secure_port(address or trust.listen, credentials)
    if port == 0:
        raise OSError(f"federation: cannot listen on {address or trust.listen}")
    server.start()
    return server, port


class PartnerClient:
    """Our side of a conversation with one partner: its CA verifies it, our certificate names us."""

    def __init__(self, trust: TrustConfig, partner: Partner, timeout: float = CALL_TIMEOUT_S) -> None:
        self.partner = partner
        self.timeout = timeout
        self._channel = open_channel(partner.address, TlsFiles(partner.ca, trust.certificate, trust.key),
                                     options=[("grpc.max_receive_message_length", 64 * 1024 * 1024)])
        self.stub = federation_pb2_grpc.FederationStub(self._channel)

    def close(self) -> None:
        self._channel.close()


def query_partner(database: Database, trust: TrustConfig, partner_name: str, query: fpb.HitQuery,
                  caller) -> fpb.HitAnswer:
    """Ask a partner hit or no hit; audited on our side too (the partner audits its answer)."""
    partner = trust.partner(partner_name)
    client = PartnerClient(trust, partner)
    subject = query.WhichOneof("subject") or "nothing"
    try:
        answer = client.stub.QueryHit(query, timeout=client.timeout)
        outcome = f"{'hit' if answer.hit else 'no hit'} ({len(answer.hits)})"
        return answer
    except grpc.RpcError as exc:
        outcome = f"{exc.code().name}: {exc.details()}"
        raise
    finally:
        client.close()
        database.run(lambda s: s.add(m.AuditEntry(**audit_row(
            caller, "FederationAskHit", f"{partner.name}: {subject} {query.query_id}", outcome,
            "federation: hit/no-hit"))))


def sync_partner(database: Database, trust: TrustConfig, partner_name: str, caller, page: int = 1000) -> int:
    """Pull every list we subscribe to from a partner, page by page, each applied whole; the changes applied.

    A refused or failed page is kept on the list's state and audited, and raised.
    """
    partner = trust.partner(partner_name)
    client = PartnerClient(trust, partner)
    changed = 0
    try:
        for list_name in partner.subscribe:
            while True:
                since = database.run(lambda s: store.list_state(s, partner.name, list_name).version)
                try:
                    delta = client.stub.ListDelta(fpb.ListDeltaRequest(list=list_name, since_version=since,
                                                                       limit=page), timeout=client.timeout)
                    changed += database.run(lambda s: store.apply_delta(
                        s, caller, partner, delta, trust.max_delta_alerts, "subscription"))
                except (grpc.RpcError, DeltaRefused) as exc:
                    reason = f"{exc.code().name}: {exc.details()}" if isinstance(exc, grpc.RpcError) else str(exc)
                    database.run(lambda s: store.note_failure(s, caller, partner.name, list_name,
                                                              "FederationTakeDelta", reason))
                    raise
                if not delta.more:
                    break
    finally:
        client.close()
    return changed


class Subscriptions:
    """Pulls every partner's subscribed lists every `sync_every_s` seconds in the background."""

    def __init__(self, database: Database, trust: TrustConfig, caller) -> None:
        self._db, self._trust, self._caller = database, trust, caller
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="federation-sync", daemon=True)

    def start(self) -> None:
        if any(p.subscribe for p in self._trust.partners.values()):
            self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=CALL_TIMEOUT_S + 5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            for name, partner in self._trust.partners.items():
                if partner.subscribe:
                    try:
                        sync_partner(self._db, self._trust, name, self._caller)
                    except Exception as exc:  # a partner away or refused: kept on the state, tried again
                        log.info("federation: %s not synced: %s", name, exc)
            self._stopping.wait(self._trust.sync_every_s)


class HitNotifier:
    """Tells partners of hits at our gates on the alerts they share (central.federation.checks), every
    `every_s` seconds; a notice that does not go out stays queued with its error and is tried again."""

    def __init__(self, database: Database, trust: TrustConfig, caller, every_s: float = 2.0, batch: int = 100) -> None:
        self._db, self._trust, self._caller = database, trust, caller
        self._every_s, self._batch = every_s, batch
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="federation-notices", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=CALL_TIMEOUT_S + 5)

    def send_due(self) -> int:
        """Send every queued notice once; how many went out."""
        from sqlalchemy import select

        due = self._db.run(lambda s: [
            (row.id, row.partner, row.notice_id, row.alert_id, row.place, row.occurred_at)
            for row in s.scalars(select(m.FederationOutbox).where(m.FederationOutbox.sent_at.is_(None))
                                 .order_by(m.FederationOutbox.id).limit(self._batch))])
        sent = 0
        clients: dict[str, PartnerClient] = {}
        try:
            for row_id, partner, notice_id, alert_id, place, occurred_at in due:
                try:
                    if partner not in clients:
                        clients[partner] = PartnerClient(self._trust, self._trust.partner(partner))
                    receipt = clients[partner].stub.NotifyHit(fpb.HitNotice(
                        notice_id=notice_id, alert_id=alert_id, place=place,
                        occurred_at=occurred_at.isoformat()), timeout=CALL_TIMEOUT_S)
                    outcome, error = f"told {partner}{'' if receipt.recorded else ' (known already)'}", ""
                except (grpc.RpcError, ValueError) as exc:  # ValueError: the partner left the trust file
                    error = f"{exc.code().name}: {exc.details()}" if isinstance(exc, grpc.RpcError) else str(exc)
                    outcome = f"not sent: {error}"
                self._db.run(lambda s: self._mark(s, row_id, partner, alert_id, place, outcome, error))
                sent += not error
        finally:
            for client in clients.values():
                client.close()
        return sent

    def _mark(self, session, row_id: int, partner: str, alert_id: str, place: str, outcome: str, error: str) -> None:
        row = session.get(m.FederationOutbox, row_id)
        row.attempts += 1
        row.last_error = error[:400]
        if not error:
            row.sent_at = m.utcnow()
        session.add(m.AuditEntry(**audit_row(self._caller, "FederationSendNotice", f"{partner} alert {alert_id}",
                                             f"{outcome} (hit at {place or '?'})", "federation: hit notice")))

    def _run(self) -> None:
        while not self._stopping.wait(self._every_s):
            try:
                self.send_due()
            except Exception:  # the database away for a moment: the notices wait in the outbox
                log.exception("federation: hit notices not sent this round")
