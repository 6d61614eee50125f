"""A border post's central asking headquarters' central (docs/SITES.md, "The national stay").

Each post knows only its own crossings; headquarters receives every post's. So a post started with
`limes central serve --headquarters HOST:PORT` asks headquarters' CheckStay first, with a short deadline,
and answers from its own stays when headquarters does not answer (the link is down, it is slow, or it
refuses): the post keeps working, and its answer says which it is (CheckStayResponse.scope).

The post calls as a station that headquarters registered with the role `site` (CheckStay only): under
mutual TLS its own station certificate from the CA headquarters trusts, in plaintext (development) its
name in x-limes-station. It marks the call as asked on behalf of a post (FORWARDED_METADATA), and a
central never passes such a call on: two centrals pointed at each other cannot ask in a circle.

Visas and permits are entered at posts and stay there (`permitted_stays` is LOCAL), so headquarters
judges a post's question on the 90/180 rule alone (`rule_alone`), over every post's crossings; the post
then adds what only it knows (`national_answer`): a permit that exempts, a short-stay visa's limits.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass

import grpc

from central.stays.regime import StayRules
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import central_pb2_grpc
from proto.tls import TlsFiles, open_channel

log = logging.getLogger(__name__)

# Set on a call a post passes on to headquarters; a call that carries it is answered, never passed on.
FORWARDED_METADATA = "x-limes-forwarded-by-post"
DEFAULT_DEADLINE_S = 0.4


@dataclass(frozen=True)
class HeadquartersLink:
    """Where headquarters is and how this post calls it (picklable: each server process opens its own channel).

    `station`: the name headquarters knows this post's central by (the CN of `tls`'s certificate).
    """

    address: str
    station: str
    tls: TlsFiles | None = None
    plaintext: bool = False
    deadline_s: float = DEFAULT_DEADLINE_S


class Headquarters:
    """Headquarters' CheckStay over one channel; None for any answer that did not come in time or at all."""

    def __init__(self, link: HeadquartersLink, station_header: str, purpose_header: str) -> None:
        self.link = link
        self._channel = open_channel(link.address, link.tls, plaintext=link.plaintext)
        self._stub = central_pb2_grpc.CentralStub(self._channel)
        self._headers = (station_header, purpose_header)
        self._answering = True  # so that a link going down, and coming back, is logged once each
        self._lock = threading.Lock()

    def check_stay(self, request: pb.CheckStayRequest, purpose: str) -> pb.CheckStayResponse | None:
        metadata = ((self._headers[0], self.link.station), (self._headers[1], purpose), (FORWARDED_METADATA, "1"))
        try:
            answer = self._stub.CheckStay(request, timeout=self.link.deadline_s, metadata=metadata)
        except grpc.RpcError as error:
            self._state(False, f"{error.code().name}: {error.details()}")
            return None
        self._state(True, "")
        return answer

    def _state(self, answering: bool, why: str) -> None:
        with self._lock:
            changed, self._answering = answering != self._answering, answering
        if changed and not answering:
            log.warning("headquarters %s did not answer CheckStay (%s): stays are judged on this post's "
                        "crossings only until it does", self.link.address, why)
        elif changed:
            log.warning("headquarters %s answers CheckStay again", self.link.address)

    def close(self) -> None:
        self._channel.close()


def rule_alone(rules: StayRules) -> StayRules:
    """The rules headquarters judges a post's question by: nobody needs a visa (it would find none on record)."""
    return dataclasses.replace(rules, visa_required=frozenset())


_NO_LIMIT = (pb.CheckStayResponse.FREE_MOVEMENT, pb.CheckStayResponse.EXEMPT)


def national_answer(own: pb.CheckStayResponse, national: pb.CheckStayResponse) -> pb.CheckStayResponse:
    """The post's answer, given its own (its crossings, its visas and permits) and headquarters' (every post's
    crossings, the rule alone): no limit when the post's own says so (free movement, an exempting document
    or permit); the national answer under the short-stay rule; with a visa, the earlier of the two last days,
    refused when either refuses (the visa's grounds from the post, ground F from headquarters)."""
    answer = pb.CheckStayResponse()
    if own.regime in _NO_LIMIT:
        answer.CopyFrom(own)
    elif own.regime == pb.CheckStayResponse.VISA_REQUIRED:
        answer.CopyFrom(own)
        answer.days_used = max(own.days_used, national.days_used)
        answer.refused = own.refused or national.refused
        # ISO dates compare as text; an empty last day comes with a refusal.
        answer.latest_exit = "" if answer.refused else min(own.latest_exit, national.latest_exit)
    else:
        answer.CopyFrom(national)
    answer.scope = "national"
    return answer
