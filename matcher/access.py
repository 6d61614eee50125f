"""Who may call the matcher, and the audit trail of its writes, template reads and refusals.

Under mutual TLS the caller is the holder of its client certificate (proto.tls:
CN the name, OU the kind). Least privilege by kind:

* `station` (a gate): the read-only match calls only, SEARCH_CALLS, and not on the
  galleries kept for services (SERVICE_ONLY: the traveller files' faces, which central
  searches for the gates; a gate has no business running 1:N over every traveller);
* `service` (central, the web desk, the router): every call, including enrolment,
  removal, template reads (Get) and gallery administration (CREATE / WRITE /
  TEMPLATE_READ below);
* `user`: every call when the matcher names that user an administrator
  (`--administrator NAME`), else nothing: central's officers hold user
  certificates of the same CA, and an officer has no business in the galleries;
* a certificate of no known kind: nothing.

A refusal is PERMISSION_DENIED. Every write, every template read and every
refusal is audited with the authenticated caller as its author (`Audit`): one
JSON line appended to `audit.jsonl` in the matcher's data folder and fsync'd
before the answer goes out, and the same line logged on the `matcher.audit`
logger (a router, which has no data folder, has the log only).

Plaintext (`--plaintext`) has no identities: every call is allowed, as before,
and audited with the author "plaintext <peer address>".
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from pathlib import Path

import grpc

from proto.limes.v1 import matcher_pb2
from proto.tls import peer_identity

log = logging.getLogger("matcher.audit")
SERVICE_NAME = matcher_pb2.DESCRIPTOR.services_by_name["Matcher"].full_name  # "limes.v1.Matcher"
AUDIT_FILE = "audit.jsonl"

# What a gate (station certificate) may call: matching and reading the galleries' public figures.
SEARCH_CALLS = frozenset({"Search", "SearchBatch", "Verify", "GalleryStats", "ListGalleries",
                          "FingerSearch", "FingerVerify"})
# Audited on every call, and only for services and administrators.
WRITE_CALLS = frozenset({"CreateGallery", "Enrol", "EnrolBatch", "Remove",
                         "CreateFingerGallery", "FingerEnrol", "FingerRemove"})
TEMPLATE_READS = frozenset({"Get"})
# Galleries only services and administrators may call at all: the traveller files' faces
# (central.travellers.files searches them; the gates ask central).
SERVICE_ONLY = frozenset({"travellers"})


def subjects_of(method: str, request) -> list[str]:
    if method == "EnrolBatch":
        return [item.subject_id for item in request.items]
    subject = getattr(request, "subject_id", "")
    return [subject] if subject else []


class Audit:
    """Appends one JSON line per audited call to `path` (fsync'd), and logs it; `path` None: the log only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, caller: str, method: str, gallery: str, subjects: list[str], outcome: str) -> None:
        entry = {"at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                 "caller": caller, "method": method, "gallery": gallery, "subjects": subjects, "outcome": outcome}
        line = json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
        log.info("%s", line)
        if self.path is None:
            return
        with self._lock, open(self.path, "a", encoding="utf-8") as file:  # opened per line: nothing to close
            file.write(line + "\n")
            file.flush()
            os.fsync(file.fileno())


def read_audit(path: Path) -> list[dict]:
    """The audit entries of a data folder's file (for tests and for people reading it), oldest first."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def refusal(kind: str, method: str, gallery: str = "", name: str = "",
            administrators: frozenset[str] = frozenset()) -> str | None:
    """Why the holder of a certificate of this kind and name may not call `method` on `gallery`; None when
    it may."""
    if kind == "service":
        return None
    if kind == "user":
        return None if name in administrators else (
            f"{method}: user {name!r} is not an administrator of this matcher (--administrator)")
    if kind == "station":
        if gallery in SERVICE_ONLY:
            return f"{method}: gallery {gallery!r} is searched by central only, not by a station (gate)"
        if method in SEARCH_CALLS:
            return None
        return f"{method}: a station (gate) certificate may only search and verify"
    return f"{method}: the client certificate names no station, user or service (its OU)"


class AccessInterceptor(grpc.ServerInterceptor):
    """Checks every limes.v1.Matcher call against the caller's certificate kind and audits it."""

    def __init__(self, audit: Audit, administrators: frozenset[str] = frozenset()) -> None:
        self.audit = audit
        self.administrators = frozenset(administrators)

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        prefix = f"/{SERVICE_NAME}/"
        if handler is None or handler.unary_unary is None or not handler_call_details.method.startswith(prefix):
            return handler  # health, reflection: not the matcher's data
        method = handler_call_details.method[len(prefix):]
        inner = handler.unary_unary

        def guarded(request, context):
            peer = peer_identity(context)
            gallery = getattr(request, "gallery", "") or (
                request.queries[0].gallery if method == "SearchBatch" and request.queries else "")
            if peer is None:
                caller, why = f"plaintext {context.peer()}", None
            else:
                caller = f"{peer.kind or 'unknown'} {peer.name}"
                why = refusal(peer.kind, method, gallery, peer.name, self.administrators)
                if why is None and method == "SearchBatch" and peer.kind == "station":
                    why = next((refusal(peer.kind, method, q.gallery) for q in request.queries
                                if q.gallery in SERVICE_ONLY), None)
            if why is not None:
                self.audit.write(caller, method, gallery, subjects_of(method, request), f"PERMISSION_DENIED: {why}")
                context.abort(grpc.StatusCode.PERMISSION_DENIED, why)
            if method not in WRITE_CALLS and method not in TEMPLATE_READS:
                return inner(request, context)
            try:
                response = inner(request, context)
            except BaseException:
                code = context.code() if hasattr(context, "code") else None
                details = context.details() if hasattr(context, "details") else ""
                self.audit.write(caller, method, gallery, subjects_of(method, request),
                                 f"{getattr(code, 'name', 'ERROR')}: {details or 'failed'}")
                raise
            self.audit.write(caller, method, gallery, subjects_of(method, request), "OK")
            return response

        return grpc.unary_unary_rpc_method_handler(guarded, request_deserializer=handler.request_deserializer,
                                                   response_serializer=handler.response_serializer)
