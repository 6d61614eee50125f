"""A message as delivered (file, gRPC, inbox) to stored and screened data: read, then stored in one transaction."""
from __future__ import annotations

import datetime as dt

from central.access.audit import Caller
from central.database.engine import Database
from central.errors import InvalidArgument
from central.passengers.reading import Unusable, read_message
from central.passengers.storage import Imported, store_message
from central.risk.rules import RiskRules
from central.stays.regime import StayRules

MAX_MESSAGE_BYTES = 20_000_000


def import_message(database: Database, caller: Caller, data: bytes, now: dt.datetime | None = None,
                   rules: RiskRules | None = None, stay_rules: StayRules | None = None) -> Imported:
    """Read, store and screen one PAXLST or PNRGOV message; InvalidArgument when nothing usable is in it.

    `rules`: the risk rules the gates are scored with (default: the built-in ones); `stay_rules`: who the
    90/180 rule applies to (default: StayRules()).

    Reading happens before the transaction, so a message that cannot be read leaves nothing behind; a
    failure while storing rolls the whole message back."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise InvalidArgument("message", f"larger than {MAX_MESSAGE_BYTES} bytes")
    now = now or dt.datetime.now(dt.timezone.utc)
    try:
        message = read_message(data, today=now.date())
    except Unusable as exc:
        raise InvalidArgument("message", str(exc)) from None
    rules = rules or RiskRules.load()
    return database.run(lambda session: store_message(session, caller, message, data, now, rules, stay_rules))
