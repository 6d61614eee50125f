"""`limes central federation ...`: partners in the trust file, the exchange's state, hit/no-hit, subscriptions
pulled now, signed bundles out and in, and the hit notices of our agencies (docs/CENTRAL.md, Federation)."""
from __future__ import annotations

import argparse
import sys
import uuid
from pathlib import Path

from central.access.audit import audit, command_line_caller
from central.database.engine import Database, configured_url
from central.database.models import utcnow
from central.errors import CentralError
from central.federation import bundle, store, trust
from central.federation.exchange import DeltaRefused
from common.output import add_json_flag, emit
from proto.limes.v1 import federation_pb2 as fpb


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", default=None,
                        help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")


def _trust_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trust", metavar="TRUST.toml", help="the trust configuration (docs/CENTRAL.md, Federation)")


def register(commands) -> None:
    federation = commands.add_parser("federation", help="exchange with partner centrals: trust, hit/no-hit, "
                                                        "subscriptions, signed bundles")
    actions = federation.add_subparsers(dest="federation_command", metavar="ACTION", required=True)

    check = actions.add_parser("check", help="read a trust file and show who is trusted with what")
    _trust_argument(check)
    add_json_flag(check)
    check.set_defaults(func=_check)

    add = actions.add_parser("add-partner", help="add a [[partner]] to a trust file (checked before it is kept)")
    _trust_argument(add)
    add.add_argument("--name", required=True, help="the partner's name (the issuer of its bundles)")
    add.add_argument("--address", required=True, metavar="HOST:PORT", help="its Federation service")
    add.add_argument("--ca", required=True, metavar="PEM", help="the CA that issues its certificates")
    add.add_argument("--bundle-key", default="", metavar="PEM", help="the public key its bundles are signed with")
    add.add_argument("--lists", nargs="*", default=[], choices=trust.LISTS, help="what it may query and subscribe to")
    add.add_argument("--handling-codes", nargs="*", default=["P"], choices=trust.HANDLING,
                     help="alerts of which handling codes go to it (default P)")
    add.add_argument("--classification", default="OFFICIAL", choices=trust.LEVELS,
                     help="the highest classification that goes to it (default OFFICIAL)")
    add.add_argument("--disclose", nargs="*", default=[], choices=trust.DISCLOSABLE,
                     help="on a hit, beyond its fact and handling instruction")
    add.add_argument("--subscribe", nargs="*", default=[], choices=trust.LISTS, help="its lists we keep a copy of")
    add.add_argument("--crl", nargs="*", default=[], metavar="FILE",
                     help="its CAs' CRLs (PEM or DER); once named, revoked or out-of-date means refused")
    add_json_flag(add)
    add.set_defaults(func=_add_partner)

    status = actions.add_parser("status", help="each partner's lists as we hold them, and unread hit notices")
    _database_flag(status)
    add_json_flag(status)
    status.set_defaults(func=_status)

    query = actions.add_parser("query", help="ask a partner hit or no hit on a document or a person")
    _trust_argument(query)
    query.add_argument("partner")
    subject = query.add_mutually_exclusive_group(required=True)
    subject.add_argument("--document", metavar="NUMBER", help="a document number")
    subject.add_argument("--person", metavar="SURNAME", help="a person's surname")
    query.add_argument("--issuing-state", default="", help="the document's issuing state")
    query.add_argument("--given-names", default="")
    query.add_argument("--birth-date", default="", metavar="YYYY-MM-DD")
    query.add_argument("--nationality", default="")
    query.add_argument("--place", default="", help="where the document or person was met (a border point)")
    _database_flag(query)
    add_json_flag(query)
    query.set_defaults(func=_query)

    sync = actions.add_parser("sync", help="pull the lists we subscribe to from partners now")
    _trust_argument(sync)
    sync.add_argument("partner", nargs="?", default="", help="one partner (default: every one with subscriptions)")
    _database_flag(sync)
    add_json_flag(sync)
    sync.set_defaults(func=_sync)

    export = actions.add_parser("export-bundle", help="a signed bundle of a list for a partner with no link")
    _trust_argument(export)
    export.add_argument("partner")
    export.add_argument("list", choices=trust.LISTS)
    export.add_argument("--since", type=int, default=0, metavar="VERSION",
                        help="the version the partner holds (its `status`; default 0: the whole list)")
    export.add_argument("--valid-days", type=float, default=7.0, help="how long it may be taken in (default 7)")
    export.add_argument("--out", required=True, metavar="FILE", help="where the bundle (a compact JWS) goes")
    _database_flag(export)
    add_json_flag(export)
    export.set_defaults(func=_export)

    take = actions.add_parser("import-bundle", help="verify a partner's signed bundle and apply it whole")
    _trust_argument(take)
    take.add_argument("partner")
    take.add_argument("file", metavar="FILE")
    _database_flag(take)
    add_json_flag(take)
    take.set_defaults(func=_import)

    notices = actions.add_parser("notices", help="partners' hits on our alerts: where and when (marks them read)")
    notices.add_argument("--agency", default="", help="only this owning agency's")
    notices.add_argument("--limit", type=int, default=100)
    _database_flag(notices)
    add_json_flag(notices)
    notices.set_defaults(func=_notices)


def _fail(command: str, exc: Exception) -> int:
    print(f"limes central federation {command}: {exc}", file=sys.stderr)
    return 2


def _database(args) -> Database:
    database = Database(configured_url(args.database))
    database.migrate()
    return database


def _check(args) -> int:
    try:
        config = trust.load(args.trust)
    except trust.TrustError as exc:
        return _fail("check", exc)
    emit(config.as_dict(), args.json, lambda c: "\n".join(
        [f"we are {c['name']}, listening on {c['listen']}"] + [
            f"  {p['name']} at {p['address']}: may ask for {', '.join(p['lists']) or 'nothing'} "
            f"(handling {', '.join(p['handling_codes'])}, up to {p['classification']}, discloses "
            f"{', '.join(['fact', 'handling instruction', *p['disclose']])}); we take "
            f"{', '.join(p['subscribe']) or 'nothing'}; "
            + (f"revocation checked against {len(p['crl'])} CRL(s)" if p["crl"] else
               "no CRL named: a revoked certificate of theirs would still be accepted")
            for p in c["partners"]]))
    return 0


def _add_partner(args) -> int:
    path = Path(args.trust)
    try:
        before = path.read_text(encoding="utf-8")
        table = trust.partner_table(args.name, args.address, args.ca, args.bundle_key, args.lists,
                                    args.handling_codes, args.classification, args.disclose, args.subscribe,
                                    args.crl)
        config = trust.parse(before + table, path.resolve())  # the whole file as it would be, checked first
    except (OSError, trust.TrustError) as exc:
        return _fail("add-partner", exc)
    path.write_text(before + table, encoding="utf-8")
    emit(config.partner(args.name).as_dict(), args.json, lambda p: f"partner {p['name']} added to {path}")
    return 0


def _status(args) -> int:
    database = _database(args)
    try:
        result = database.run(store.status)
    finally:
        database.dispose()
    emit(result, args.json, lambda r: "\n".join(
        [f"{s['partner']:16} {s['list']:9} version {s['version']:>6}  {s['alerts']:>6} alert(s)  synced "
         f"{s['synced_at'] or 'never'}" + (f"  last error: {s['last_error']}" if s["last_error"] else "")
         for s in r["lists"]] + [f"{r['unread_notices']} unread hit notice(s)"]))
    return 0


def _query(args) -> int:
    import grpc

    from central.federation.service import query_partner

    query = fpb.HitQuery(query_id=str(uuid.uuid4()), place=args.place,
                         occurred_at=utcnow().isoformat(timespec="seconds"))
    if args.document:
        query.document.CopyFrom(fpb.DocumentSubject(number=args.document, issuing_state=args.issuing_state))
    else:
        query.person.CopyFrom(fpb.PersonSubject(surname=args.person, given_names=args.given_names,
                                                birth_date=args.birth_date, nationality=args.nationality))
    database = _database(args)
    try:
        config = trust.load(args.trust)
        answer = query_partner(database, config, args.partner, query,
                               command_line_caller("federation: hit/no-hit (limes central federation query)"))
    except trust.TrustError as exc:
        return _fail("query", exc)
    except grpc.RpcError as exc:
        return _fail("query", f"{args.partner} answered {exc.code().name}: {exc.details()}")
    finally:
        database.dispose()
    result = {"query_id": query.query_id, "hit": answer.hit,
              "hits": [{"list": h.list, "handling_instruction": h.handling_instruction, "alert_id": h.alert_id,
                        "reason": h.reason, "owning_agency": h.owning_agency} for h in answer.hits]}
    emit(result, args.json, lambda r: ("HIT: " + "; ".join(
        h["handling_instruction"] or "no instruction" for h in r["hits"])) if r["hit"] else "no hit")
    return 0


def _sync(args) -> int:
    import grpc

    from central.federation.service import sync_partner

    database = _database(args)
    caller = command_line_caller("federation: subscription (limes central federation sync)")
    try:
        config = trust.load(args.trust)
        names = [args.partner] if args.partner else [n for n, p in config.partners.items() if p.subscribe]
        result = {name: sync_partner(database, config, name, caller) for name in names}
    except (trust.TrustError, DeltaRefused) as exc:
        return _fail("sync", exc)
    except grpc.RpcError as exc:
        return _fail("sync", f"{exc.code().name}: {exc.details()}")
    finally:
        database.dispose()
    emit({"changes": result}, args.json, lambda r: "\n".join(
        f"{name}: {count} change(s)" for name, count in r["changes"].items()) or "no partner with subscriptions")
    return 0


def _export(args) -> int:
    import datetime as dt

    database = _database(args)
    caller = command_line_caller("federation: bundle out (limes central federation export-bundle)")
    try:
        config = trust.load(args.trust)
        partner = config.partner(args.partner)
        if args.list not in partner.lists:
            raise trust.TrustError(f"list {args.list!r} is not granted to {partner.name}")
        if config.bundle_key is None:
            raise trust.TrustError(f"{config.path}: [self].bundle_key is needed to sign bundles")
        key = bundle.load_private_key(config.bundle_key)
        delta = database.run(lambda s: store.outgoing_delta(s, partner, args.list, args.since,
                                                            config.max_delta_alerts))
        token = bundle.sign(delta, key, config.name, partner.name, utcnow(), dt.timedelta(days=args.valid_days))
        Path(args.out).write_text(token + "\n", encoding="ascii")
        database.run(lambda s: audit(s, caller, "FederationExportBundle", f"{partner.name} {args.list}",
                                           f"{len(delta.alerts)} alert(s), versions {args.since}.."
                                           f"{delta.current_version}", store.PURPOSE))
    except (trust.TrustError, bundle.BundleRefused, CentralError, OSError) as exc:
        return _fail("export-bundle", exc)
    finally:
        database.dispose()
    result = {"file": args.out, "partner": partner.name, "list": args.list, "since_version": args.since,
              "current_version": delta.current_version, "alerts": len(delta.alerts), "more": delta.more}
    emit(result, args.json, lambda r: f"{r['alerts']} alert(s) of {r['list']} up to version {r['current_version']} "
                                      f"signed for {r['partner']} in {r['file']}"
                                      + (" (more remain: export again from that version)" if r["more"] else ""))
    return 0


def _import(args) -> int:
    database = _database(args)
    caller = command_line_caller("federation: bundle in (limes central federation import-bundle)")
    partner_name, list_name = args.partner, "?"
    try:
        config = trust.load(args.trust)
        partner = config.partner(args.partner)
        if partner.bundle_key is None:
            raise trust.TrustError(f"partner {partner.name}: no bundle_key in {config.path}")
        data = Path(args.file).read_bytes()
        taken = bundle.read(data, bundle.load_public_key(partner.bundle_key), issuer=partner.name,
                            audience=config.name, now=utcnow(), max_alerts=config.max_delta_alerts)
        list_name = taken.delta.list
        changed = database.run(lambda s: store.take_bundle(s, caller, partner, taken, config.max_delta_alerts))
    except (bundle.BundleRefused, DeltaRefused) as exc:
        reason = str(exc)
        database.run(lambda s: store.note_failure(s, caller, partner_name, list_name, "FederationImportBundle",
                                                  reason))
        return _fail("import-bundle", f"refused: {exc}")
    except (trust.TrustError, OSError) as exc:
        return _fail("import-bundle", exc)
    finally:
        database.dispose()
    result = {**bundle.describe(taken), "changes": changed}
    emit(result, args.json, lambda r: f"bundle {r['bundle_id']} from {r['issuer']}: {r['changes']} change(s) to "
                                      f"{r['list']}, now at version {r['current_version']}")
    return 0


def _notices(args) -> int:
    database = _database(args)
    caller = command_line_caller("federation: hit notices (limes central federation notices)")
    try:
        rows = database.run(lambda s: [
            {"owning_agency": n.owning_agency, "alert_id": n.alert_id, "partner": n.partner, "place": n.place,
             "occurred_at": n.occurred_at.isoformat(), "noticed_at": n.noticed_at.isoformat()}
            for n in store.notices(s, caller, args.agency.strip().upper(), args.limit)])
    finally:
        database.dispose()
    emit(rows, args.json, lambda r: "\n".join(
        f"{n['noticed_at']}  alert {n['alert_id']} of {n['owning_agency'] or '-'}: hit at {n['partner']} "
        f"{n['place'] or '?'} on {n['occurred_at']}" for n in r) or "no hit notices")
    return 0
