"""`limes central ...`: run the server, migrate the database, issue alerts, manage identities.

The commands other than serve work on the database directly: whoever runs
them holds the database's credentials and is trusted like an administrator.
Each is audited as station "cli" and the operating-system user.
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import faulthandler
import getpass
import json
import os
import secrets
import signal
import sys
import threading
from functools import partial
from pathlib import Path

from google.protobuf.json_format import MessageToDict

from central import reports
from central.access import audit as audit_log
from central.access import retention, scope
from central.access import roles as access
from central.access.audit import Caller, command_line_caller
from central.access.roles import AccessPolicy
from central.alerts import lists as alert_lists
from central.alerts.matcher_client import GrpcFaceMatcher
from central.database.engine import Database, configured_url
from central.database.models import DocumentAlertCategory, NoticeKind, PersonNotice, utcnow
from central.errors import CentralError, InvalidArgument
from central.intelligence.clearance import LEVELS, set_clearance
from central.passengers import manifest as api
from central.records import evidence, overstay
from central.risk.rules import RiskConfigError, RiskRules
from central.rpc import convert, fields
from central.rpc.fields import format_instant
from central.rpc.headquarters import DEFAULT_DEADLINE_S, HeadquartersLink
from central.rpc.processes import serve_processes
from central.statistics import pseudonym
from central.stays.regime import RulesError, StayRules, rules_file
from central.travellers import files
from central.travellers.finger_gallery import GrpcFingerGallery
from central.web import WebSettings
from central.web.accounts import set_password, web_roles
from central.web.server import serve_web
from common.output import add_json_flag, emit
from common.sealing import Sealer, SealError, add_key, open_or_create
from common.settings import add_key_file_flag, key_file_of
from limes.commands import central_alerts, central_api, central_federation, central_intel, central_sites
from proto.limes.v1 import central_pb2 as pb
from proto.limes.v1 import notices_pb2
from proto.tls import TlsError, TlsFiles, add_tls_arguments, tls_from_arguments

DOCUMENT_REASONS = ("LOST", "STOLEN", "REVOKED", "INVALIDATED")
PERSON_REASONS = ("ENTRY_BAN", "ARREST", "MISSING_PERSON", "DISCREET_CHECK")
ROLES = ("gate", "officer", "supervisor", "analyst", "intelligence", "administrator", "desk")


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", default=None,
                        help="SQLAlchemy URL (default: $LIMES_CENTRAL_DATABASE or sqlite:///var/central.sqlite)")


def _database_url(args: argparse.Namespace) -> str:
    return configured_url(args.database)


def _sealer(args: argparse.Namespace) -> Sealer:
    return open_or_create(key_file_of(args))


def register(central: argparse.ArgumentParser) -> None:
    commands = central.add_subparsers(dest="central_command", metavar="COMMAND", required=True)

    serve = commands.add_parser("serve", help="run the central gRPC server until interrupted")
    serve.add_argument("--listen", metavar="ADDR", default="127.0.0.1:50070", help="host:port (default %(default)s)")
    _database_flag(serve)
    serve.add_argument("--risk-rules", metavar="TOML", default=None, help="risk rule file (default: built-in)")
    serve.add_argument("--stay-rules", metavar="TOML", default=None,
                       help="who the 90/180-day rule applies to, and who gets no traveller file: lists "
                       "free_movement, visa_required, exempt_documents of ICAO codes (default: EU/EEA/CH free "
                       "movement, no visa list, residence permits IR/AR and long-stay visas VD exempt)")
    serve.add_argument("--matcher", metavar="ADDR", default=None,
                       help="limes.v1.Matcher to search faces of person alerts in (default: names only)")
    serve.add_argument("--matcher-gallery", metavar="NAME", default="alerts",
                       help="the matcher gallery holding alert faces (default %(default)s)")
    serve.add_argument("--travellers-gallery", metavar="NAME", default="travellers",
                       help="the --matcher gallery where traveller files are deduplicated (default %(default)s; "
                            "without --matcher no file is opened and gates refer third-country nationals)")
    serve.add_argument("--fingers-gallery", metavar="NAME", default="traveller-fingers",
                       help="the --matcher finger gallery where traveller files' fingers are enrolled and "
                            "deduplicated (default %(default)s)")
    serve.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                       help="serve Prometheus metrics on 127.0.0.1:PORT (server process i: PORT+i)")
    serve.add_argument("--processes", type=int, default=1, metavar="N",
                       help="server processes on the one port, to use more than one core (default 1; "
                            "docs/CENTRAL.md, Throughput)")
    serve.add_argument("--web", metavar="ADDR", default=None,
                       help="also serve the officers' web desk on host:port, e.g. 127.0.0.1:8080 (docs/WEB.md); "
                            "faces are enrolled into --matcher-gallery of --matcher")
    serve.add_argument("--open-access", action="store_true",
                       help="DEMO ONLY: register the demo gate and administrator and let users registered nowhere "
                            "read histories, referrals and crossings as officers (default: closed; docs/CENTRAL.md, "
                            "Roles)")
    # Closed is the default now; the flag is still accepted so that existing scripts keep working.
    serve.add_argument("--closed", action="store_true", help=argparse.SUPPRESS)

    serve.add_argument("--federation", metavar="TRUST.toml", default=None,
                       help="also serve limes.v1.Federation to the partners of this trust file and pull the lists "
                            "it subscribes to (docs/CENTRAL.md, Federation)")
    add_tls_arguments(serve, "central's own (also presented to --matcher)")
    _headquarters_flags(serve)
    add_json_flag(serve)
    add_key_file_flag(serve, "face images")
    serve.set_defaults(func=_serve)

    rotate = commands.add_parser("rotate-key",
                                 help="a new key seals from now on; older keys stay to open what they sealed")
    add_key_file_flag(rotate, "face images")
    add_json_flag(rotate)
    rotate.set_defaults(func=_rotate_key)

    reseal = commands.add_parser("reseal", help="seal every face image under the current key (after rotate-key), "
                                                "in batches; older keys may go once it reports none left")
    _database_flag(reseal)
    add_key_file_flag(reseal, "face images")
    reseal.add_argument("--batch", type=int, default=500, metavar="N", help="images per transaction (default 500)")
    add_json_flag(reseal)
    reseal.set_defaults(func=_reseal)

    web_password = commands.add_parser(
        "web-password", help="set a user's password for the web desk (roles: `limes central identity grant`)",
        description="Set (or reset) the web desk password of a user; it also unlocks the account and ends the "
                    "user's open sessions. The password is read from standard input (one line), or made up "
                    "with --generate and printed.")
    web_password.add_argument("user", help="the user name (as in `limes central identity grant user NAME ROLE`)")
    web_password.add_argument("--generate", action="store_true", help="make up a random password and print it")
    _database_flag(web_password)
    add_json_flag(web_password)
    web_password.set_defaults(func=_web_password)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to the newest revision")
    _database_flag(migrate)
    add_json_flag(migrate)
    migrate.set_defaults(func=_migrate)

    audit = commands.add_parser("audit", help="who read or changed whose data: the newest audit entries")
    audit.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")
    audit.add_argument("--subject", default="", help="only entries whose subject contains this text")
    _database_flag(audit)
    add_json_flag(audit)
    audit.set_defaults(func=_audit)

    identity = commands.add_parser("identity", help="stations and users central knows, and their roles")
    identity_commands = identity.add_subparsers(dest="identity_command", metavar="ACTION", required=True)
    for action, text in (("grant", "give a station or user a role"), ("revoke", "take a role (or all) away")):
        parser = identity_commands.add_parser(action, help=text)
        parser.add_argument("kind", choices=("station", "user"))
        parser.add_argument("name", help="the x-limes-station or x-limes-user it calls with")
        parser.add_argument("role", nargs="?" if action == "revoke" else None, default=None,
                            choices=ROLES, help=", ".join(ROLES))
        _database_flag(parser)
        add_json_flag(parser)
        parser.set_defaults(func=_identity)
    scope_parser = identity_commands.add_parser(
        "scope", help="put a station or user in an agency, optionally at border points, with a clearance "
                      "(need to know: docs/CENTRAL.md, Ownership)")
    scope_parser.add_argument("kind", choices=("station", "user"))
    scope_parser.add_argument("name")
    scope_parser.add_argument("agency", help="its agency, e.g. BPOL, CUSTOMS")
    scope_parser.add_argument("--border-point", action="append", default=[], metavar="CODE",
                              help="limit it to this border point (repeat for several; default: all)")
    scope_parser.add_argument("--clearance", default="OFFICIAL", choices=LEVELS,
                              help="the highest classification it may see (default OFFICIAL)")
    _database_flag(scope_parser)
    add_json_flag(scope_parser)
    scope_parser.set_defaults(func=_identity)
    listing = identity_commands.add_parser("list", help="every station and user with its roles")
    _database_flag(listing)
    add_json_flag(listing)
    listing.set_defaults(func=_identity)

    clearance = commands.add_parser("clearance", help="a user's unit and the highest classification of "
                                                      "intelligence they may read (need to know)")
    clearance.add_argument("user", help="the user name (as in `limes central identity grant user NAME ROLE`)")
    clearance.add_argument("unit", help="their unit, e.g. RAU (reports are read by their unit and those shared with)")
    clearance.add_argument("level", choices=LEVELS, help="the highest classification they may read")
    _database_flag(clearance)
    add_json_flag(clearance)
    clearance.set_defaults(func=_clearance)

    overstays = commands.add_parser("overstays", help="travellers still in the country after their authorised stay")
    overstays.add_argument("--today", default="", metavar="YYYY-MM-DD", help="measure open stays to this day")
    overstays.add_argument("--include-exited", action="store_true", help="also those who left after the limit")
    _database_flag(overstays)
    add_json_flag(overstays)
    overstays.set_defaults(func=_overstays)

    rebuild = commands.add_parser("rebuild-stays", help="rebuild every traveller's stays from the crossings "
                                  "(once after upgrading to revision 0006, or after changing --stay-rules)")
    rebuild.add_argument("--stay-rules", metavar="TOML", default=None, help="as for serve (default: built-in)")
    _database_flag(rebuild)
    add_json_flag(rebuild)
    rebuild.set_defaults(func=_rebuild_stays)

    alerts = commands.add_parser("overstay-alerts", help="raise an overstay alert for every traveller still in the "
                                 "country after their authorised stay (run daily); lists the alerts raised")
    alerts.add_argument("--on", default="", metavar="YYYY-MM-DD", help="the day to raise them on (default today, UTC)")
    _database_flag(alerts)
    add_json_flag(alerts)
    alerts.set_defaults(func=_overstay_alerts)

    count_trends = commands.add_parser("count-trends", help="count the weekly trend indicators up to now for the "
                                       "trend dashboard and the bulletin (run hourly or daily, like overstay-alerts)")
    _database_flag(count_trends)
    add_json_flag(count_trends)
    count_trends.set_defaults(func=_count_trends)

    add_stay = commands.add_parser("add-stay", help="record a residence permit, long-stay or short-stay visa of a "
                                   "travel document's holder")
    add_stay.add_argument("--state", default="", help="issuing state of the travel document (of the visa with "
                          "--visa-mrz, taken from it)")
    add_stay.add_argument("--number", default="", help="travel document number (with --visa-mrz: the visa's)")
    add_stay.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD")
    add_stay.add_argument("--to", dest="end", default="", metavar="YYYY-MM-DD",
                          help="last day of validity (with --visa-mrz, taken from it)")
    add_stay.add_argument("--reference", default="", help="visa or permit number")
    add_stay.add_argument("--kind", choices=("residence-permit", "long-stay-visa", "short-stay-visa"),
                          default="residence-permit", help="residence permits and long-stay visas lift the "
                          "90-day limit while valid; a short-stay visa narrows it (default %(default)s)")
    add_stay.add_argument("--entries", type=int, default=None, help="short-stay visa: entries allowed "
                          "(omit for multiple)")
    add_stay.add_argument("--duration-days", type=int, default=None, help="short-stay visa: days of stay allowed "
                          "(1-90, default 90)")
    add_stay.add_argument("--visa-mrz", metavar="FILE", default=None,
                          help="a short-stay visa's MRZ (MRV-A/B; - reads stdin): visa number, issuing state, "
                          "holder and end of validity come from it; the holder must have crossed before")
    _database_flag(add_stay)
    add_json_flag(add_stay)
    add_stay.set_defaults(func=_add_stay)

    purge = commands.add_parser("purge", help="delete personal and biometric data past retention; keep statistics")
    purge.add_argument("--personal-days", type=int, default=1095,
                       help="crossings, referrals, travellers and documents older than this go (default %(default)s)")
    purge.add_argument("--evidence-days", type=int, default=30,
                       help="face scores and check results older than this are cleared (default %(default)s)")
    purge.add_argument("--overstay-days", type=int, default=1825,
                       help="a traveller file that records an overstay, and its crossings, go this long after the "
                            "last crossing instead (default %(default)s)")
    purge.add_argument("--report-days", type=int, default=retention.DEFAULT_REPORT_DAYS,
                       help="an intelligence report nobody reviewed goes this long after its review-by date "
                            "(default %(default)s)")
    purge.add_argument("--today", default="", metavar="YYYY-MM-DD", help="count the periods back from this day")
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.add_argument("--matcher", metavar="ADDR", default=None,
                       help="remove the purged traveller files' faces from --travellers-gallery of this matcher "
                            "(without it they are only listed, as traveller_file_ids)")
    purge.add_argument("--travellers-gallery", metavar="NAME", default="travellers",
                       help="the matcher gallery of the traveller files (default %(default)s)")
    purge.add_argument("--fingers-gallery", metavar="NAME", default="traveller-fingers",
                       help="the matcher's finger gallery of the traveller files' fingers, emptied of the purged "
                            "files' too (default %(default)s)")
    add_tls_arguments(purge, "central's own (presented to --matcher)")
    _database_flag(purge)
    add_json_flag(purge)
    purge.set_defaults(func=_purge)

    export = commands.add_parser("export", help="crossings for analysts, travellers replaced by keyed pseudonyms")
    export.add_argument("--pseudonymise", action="store_true", required=True,
                        help="required: only pseudonymised exports are offered")
    export.add_argument("--key-file", default=None, metavar="FILE",
                        help="the secret HMAC key, >= 16 bytes (default: $LIMES_PSEUDONYM_KEY)")
    export.add_argument("--from", dest="start", default="", metavar="YYYY-MM-DD")
    export.add_argument("--to", dest="end", default="", metavar="YYYY-MM-DD")
    export_format = export.add_mutually_exclusive_group()
    export_format.add_argument("--csv", action="store_true", help="print CSV (the default is JSON lines)")
    add_json_flag(export_format)
    _database_flag(export)
    export.set_defaults(func=_export)

    central_api.register(commands)
    central_alerts.register(commands)
    central_federation.register(commands)
    central_intel.register(commands)
    central_sites.register(commands)

    import_api = commands.add_parser("import-api",
                                     help="pre-screen a flight manifest (API) against alerts and risk rules")
    import_api.add_argument("manifest", metavar="FILE", help="a .csv (column mrz, optional reference, flight) or .json")
    import_api.add_argument("--flight", default="", help="flight number, when the file does not name it")
    import_api.add_argument("--border-point", default="", help="border point of arrival")
    import_api.add_argument("--risk-rules", metavar="TOML", default=None, help="risk rule file (default: built-in)")
    _database_flag(import_api)
    add_json_flag(import_api)
    import_api.set_defaults(func=_import_api)

    add_alert = commands.add_parser("add-alert", help="issue a document or person alert")
    kinds = add_alert.add_subparsers(dest="alert_kind", metavar="KIND", required=True)

    document = kinds.add_parser("document", help="a lost, stolen, revoked or invalidated document")
    document.add_argument("--number", required=True, help="document number")
    document.add_argument("--type", default="", help="ICAO document code, e.g. P (default: any)")
    document.add_argument("--state", default="", help="issuing state, e.g. DEU (default: any)")
    document.add_argument("--reason", required=True, choices=DOCUMENT_REASONS)
    document.add_argument("--category", default="", choices=[c.value for c in DocumentAlertCategory],
                          help="lost/stolen category (default: the reason's; none for STOLEN)")
    _alert_common(document)
    document.set_defaults(func=_add_document_alert)

    person = kinds.add_parser("person", help="an alert on a person")
    person.add_argument("--surname", required=True)
    person.add_argument("--given-names", default="")
    person.add_argument("--birth-date", default="", metavar="YYYY-MM-DD")
    person.add_argument("--nationality", default="", help="ICAO three-letter code")
    person.add_argument("--reason", required=True, choices=PERSON_REASONS)
    person.add_argument("--matcher-subject-id", default="", help="the subject's id in the matcher's gallery")
    person.add_argument("--notice", default="", choices=[n.value for n in PersonNotice],
                        help="the international notice the alert carries out (docs/FEEDS.md)")
    person.add_argument("--notice-kind", default="", choices=[k.value for k in NoticeKind],
                        help="NOTICE (default with --notice) or DIFFUSION")
    _alert_common(person)
    person.set_defaults(func=_add_person_alert)


def _alert_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--instruction", default="", help="handling instruction for the officer")
    parser.add_argument("--handling-code", default="P", choices=("P", "C"),
                        help="3x5x2 handling: P lawful sharing permitted (default), C only under "
                             "--handling-conditions; the owner is your agency "
                             "(`limes central identity scope user $USER AGENCY`)")
    parser.add_argument("--handling-conditions", default="", help="the conditions of handling code C")
    parser.add_argument("--classification", default="OFFICIAL", choices=LEVELS,
                        help="at most your clearance (default OFFICIAL)")
    parser.add_argument("--agency", default="", help="issuing agency")
    parser.add_argument("--valid-from", default="", metavar="YYYY-MM-DD")
    parser.add_argument("--valid-to", default="", metavar="YYYY-MM-DD")
    parser.add_argument("--id", default="", help="alert UUID (default: a new one); makes the call idempotent")
    _database_flag(parser)
    add_json_flag(parser)


# Calls under way when central is told to stop get this long to finish; the process is gone
# STOP_LIMIT_S later at the latest.
STOP_GRACE_S = 5.0
STOP_LIMIT_S = 10.0


def _headquarters_flags(serve: argparse.ArgumentParser) -> None:
    group = serve.add_argument_group("border post: ask headquarters for the national stay (docs/SITES.md)")
    group.add_argument("--headquarters", metavar="HOST:PORT", default=None,
                       help="headquarters' central: CheckStay asks it first, on every post's crossings, and answers "
                            "from this post's own when it does not answer within --headquarters-deadline")
    group.add_argument("--headquarters-station", metavar="NAME", default=None,
                       help="the name headquarters knows this post by (granted the role `site` there); under TLS the "
                            "CN of --headquarters-cert")
    group.add_argument("--headquarters-cert", metavar="PEM", default=None,
                       help="this post's station certificate for headquarters (OU station), from the CA of --tls-ca")
    group.add_argument("--headquarters-key", metavar="PEM", default=None, help="its private key")
    group.add_argument("--headquarters-deadline", metavar="SECONDS", type=float, default=DEFAULT_DEADLINE_S,
                       help="how long a gate's CheckStay waits for headquarters (default %(default)s)")


def _headquarters_link(args: argparse.Namespace) -> HeadquartersLink | None:
    """The link of --headquarters and its flags; TlsError or ValueError saying what is missing."""
    given = [args.headquarters_station, args.headquarters_cert, args.headquarters_key]
    if not args.headquarters:
        if any(given):
            raise ValueError("--headquarters-station, --headquarters-cert and --headquarters-key need --headquarters")
        return None
    if not args.headquarters_station:
        raise ValueError("--headquarters needs --headquarters-station: the name headquarters knows this post by")
    if not 0 < args.headquarters_deadline <= 10:
        raise ValueError("--headquarters-deadline: more than 0 and at most 10 seconds")
    if args.plaintext:
        tls = TlsFiles.from_options(None, args.headquarters_cert, args.headquarters_key, True, "--headquarters")
    else:
        tls = TlsFiles.from_options(args.tls_ca, args.headquarters_cert, args.headquarters_key, False,
                                    "--headquarters (--tls-ca, --headquarters-cert, --headquarters-key)")
        tls.read()
    return HeadquartersLink(args.headquarters, args.headquarters_station, tls, args.plaintext,
                            args.headquarters_deadline)


def _serve(args: argparse.Namespace) -> int:
    if args.processes < 1:
        print("error: --processes must be at least 1", file=sys.stderr)
        return 2
    if args.open_access and args.closed:
        print("error: --open-access and --closed contradict each other", file=sys.stderr)
        return 2
    try:
        tls = tls_from_arguments(args, "limes central serve")
        headquarters = _headquarters_link(args)
    except (TlsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    matcher_factory = travellers_factory = fingers_factory = None
    if args.matcher:
        # Each server process (and the web desk) opens its own channel to the matcher.
        matcher_factory = partial(GrpcFaceMatcher, args.matcher, args.matcher_gallery, tls=tls,
                                  plaintext=args.plaintext)
        travellers_factory = partial(GrpcFaceMatcher, args.matcher, args.travellers_gallery, tls=tls,
                                     plaintext=args.plaintext)
        fingers_factory = partial(GrpcFingerGallery, args.matcher, args.fingers_gallery, tls=tls,
                                  plaintext=args.plaintext)
    try:
        sealer = _sealer(args)
        stay_rules = rules_file(args.stay_rules)
    except (SealError, RulesError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    server, port = serve_processes(args.processes, args.listen, _database_url(args), tls=tls, sealer=sealer,
                                   plaintext=args.plaintext, face_matcher_factory=matcher_factory,
                                   traveller_gallery_factory=travellers_factory,
                                   finger_gallery_factory=fingers_factory,
                                   metrics_port=args.metrics_port,
                                   risk_rules=Path(args.risk_rules) if args.risk_rules else None,
                                   stay_rules=stay_rules, headquarters=headquarters,
                                   access=AccessPolicy.demo() if args.open_access else AccessPolicy())
    try:
        federation = _federation(args)
    except (OSError, ValueError) as exc:  # central.federation.trust.TrustError is a ValueError
        server.stop(None)
        print(f"error: {exc}", file=sys.stderr)
        return 2
    web = None
    if args.web:
        settings = WebSettings(stay_rules=stay_rules or StayRules())
        if secret := os.environ.get("LIMES_WEB_SECRET_KEY"):
            settings = dataclasses.replace(settings, secret_key=secret)
        web = serve_web(args.web, _database_url(args), sealer=sealer,
                        enroller=matcher_factory() if matcher_factory else None, settings=settings)
    # Ready to stop before it says it serves: whoever reads the address may stop it at once.
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    host = args.listen.rsplit(":", 1)[0]
    emit({"address": f"{host}:{port}", "port": port, "database": _database_url(args), "processes": args.processes,
          "transport": "plaintext" if tls is None else "mutual TLS", "web": web.url if web else None,
          "federation": federation[2] if federation else None,
          "headquarters": headquarters.address if headquarters else None}, args.json,
         lambda r: f"central listening on {r['address']} ({r['transport']}, database {r['database']}, "
                   f"{r['processes']} process{'es' if r['processes'] > 1 else ''})"
                   + (f"; web desk on {r['web']}" if r["web"] else "")
                   + (f"; federation on {r['federation']}" if r["federation"] else "")
                   + (f"; stays asked of headquarters {r['headquarters']}" if r["headquarters"] else ""))
    sys.stdout.flush()
    try:
        stopped.wait()
    except KeyboardInterrupt:
        pass
    # A stop that does not end in time (a call stuck past its grace, a thread that never finishes,
    # seen once in CI without a cause found) must not leave a half-stopped server behind: every
    # thread's stack goes to stderr, where the next such stop shows what held it, and the process exits 1.
    faulthandler.dump_traceback_later(STOP_GRACE_S + STOP_LIMIT_S, exit=True)
    if web is not None:
        web.stop()
    if federation is not None:
        for worker in federation[1]:
            worker.stop()
        federation[0].stop(grace=STOP_GRACE_S).wait()
    server.stop(grace=STOP_GRACE_S).wait()
    return 0


def _federation(args: argparse.Namespace):
    """With --federation: (the Federation server, its subscriptions and hit notifier, its address); else None."""
    if not args.federation:
        return None
    from central.federation import trust
    from central.federation.service import HitNotifier, Subscriptions, serve_federation

    config = trust.load(args.federation)
    database = Database(_database_url(args))
    server, port = serve_federation(database, config)
    workers = (Subscriptions(database, config, Caller(station="federation", purpose="federation: subscription")),
               HitNotifier(database, config, Caller(station="federation", purpose="federation: hit notice")))
    for worker in workers:
        worker.start()
    return server, workers, f"{config.listen.rsplit(':', 1)[0]}:{port}"


def _web_password(args: argparse.Namespace) -> int:
    password = secrets.token_urlsafe(12) if args.generate else sys.stdin.readline().rstrip("\n")
    database = Database(_database_url(args))
    database.migrate()
    try:
        new, roles = database.run(lambda s: (
            set_password(s, Caller("cli", getpass.getuser()), args.user, password, utcnow()),
            sorted(r.value for r in web_roles(s, args.user))))
    except InvalidArgument as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    result = {"user": args.user, "created": new, "roles": roles, **({"password": password} if args.generate else {})}
    emit(result, args.json, lambda r: f"web password {'set' if r['created'] else 'changed'} for {r['user']} "
         f"(roles: {', '.join(r['roles']) or 'none: grant one with limes central identity grant'})"
         + (f"; password {r['password']}" if "password" in r else ""))
    return 0


def _migrate(args: argparse.Namespace) -> int:
    database = Database(_database_url(args))
    revision = database.migrate()
    database.dispose()
    emit({"database": database.url, "revision": revision}, args.json,
         lambda r: f"{r['database']} at revision {r['revision']}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("audit review (limes central audit)")
    try:
        entries = database.run(lambda session: [
            {"at": format_instant(e.at), "station": e.station, "user": e.user_name, "action": e.action,
             "subject": e.subject, "purpose": e.purpose, "outcome": e.outcome}
            for e in audit_log.read_audit(session, caller, args.limit, args.subject)])
    except CentralError as exc:
        print(f"limes central audit: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    emit(entries, args.json, lambda rows: "\n".join(
        f"{r['at']}  {r['station'] or '-'}/{r['user'] or '-'}  {r['action']}  {r['subject']}  "
        f"[{r['purpose']}] -> {r['outcome']}" for r in rows) or "no audit entries")
    return 0


def _identity(args: argparse.Namespace) -> int:
    caller = _cli_caller("identity administration (limes central identity)")

    def work(session) -> dict:
        if args.identity_command == "list":
            rows = access.principals(session)
            audit_log.audit(session, caller, "ManageIdentities", "principals", f"listed {len(rows)}",
                          "identity administration")
            return {"principals": [{"kind": r.kind, "name": r.name, "role": r.role} for r in rows]}
        if args.identity_command == "scope":
            row = scope.set_scope(session, caller, access.parse_kind(args.kind), args.name, args.agency,
                                  tuple(args.border_point), args.clearance)
            return {"kind": row.kind, "name": row.name, "agency": row.agency, "border_points": row.border_points,
                    "clearance": row.clearance}
        kind, role = access.parse_kind(args.kind), args.role and access.parse_role(args.role)
        if args.identity_command == "grant":
            changed = int(access.grant(session, kind, args.name, role))
        else:
            changed = access.revoke(session, kind, args.name, role or None)
        outcome = f"{args.identity_command} {role.value if role else 'all roles'}: {changed} change(s)"
        audit_log.audit(session, caller, "ManageIdentities", f"{kind.value} {args.name}", outcome,
                      "identity administration")
        return {"kind": kind.value, "name": args.name, "action": args.identity_command,
                "role": role.value if role else "", "changed": changed}

    database = Database(_database_url(args))
    database.migrate()
    try:
        result = database.run(work)
    except CentralError as exc:
        print(f"limes central identity: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    if args.identity_command == "scope":
        emit(result, args.json, lambda r: f"{r['kind']} {r['name']}: agency {r['agency']}, {r['clearance']}, at "
                                          f"{', '.join(r['border_points']) or 'every border point'}")
    elif "principals" in result:
        emit(result, args.json, lambda r: "\n".join(
            f"{p['kind']:8} {p['name']:24} {p['role']}" for p in r["principals"]) or "no identities")
    else:
        emit(result, args.json, lambda r: f"{r['kind']} {r['name']}: {r['action']} "
                                          f"{r['role'] or 'all roles'} ({r['changed']} change(s))")
    return 0


def _rebuild_stays(args: argparse.Namespace) -> int:
    from central.records.stays import rebuild_all

    try:
        rules = rules_file(args.stay_rules) or StayRules()
    except (RulesError, OSError, ValueError) as exc:
        print(f"limes central rebuild-stays: {exc}", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("stays (limes central rebuild-stays)")
    try:
        travellers = rebuild_all(database, rules)
        database.run(lambda session: audit_log.audit(session, caller, "RebuildStays", "every traveller's stays",
                                                     f"{travellers} traveller(s)", "stays"))
    finally:
        database.dispose()
    emit({"travellers": travellers}, args.json, lambda r: f"stays rebuilt for {r['travellers']} traveller(s)")
    return 0


def _overstay_alerts(args: argparse.Namespace) -> int:
    try:
        on = dt.date.fromisoformat(args.on) if args.on else dt.datetime.now(dt.timezone.utc).date()
    except ValueError:
        print("limes central overstay-alerts: --on: YYYY-MM-DD is required", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("overstay alerts (limes central overstay-alerts)")
    try:
        rows = database.run(lambda session: [s.as_dict() for s in reports.overstay_alerts(session, caller, on)])
    finally:
        database.dispose()
    emit(rows, args.json, lambda rs: "\n".join(
        f"overstay alert {on}: {r['surname']}, {r['given_names']} ({r['nationality']}, {r['document']}) entered "
        f"{r['entered_on']} at {r['border_point']}, authorised until {r['allowed_until']}" for r in rs)
        or f"no new overstay alert on {on}")
    return 0


def _count_trends(args: argparse.Namespace) -> int:
    from central.intelligence import weekly_counts

    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("trend counts (limes central count-trends)")
    try:
        counted = database.run(lambda session: weekly_counts.refresh(session, caller, utcnow()))
    finally:
        database.dispose()
    emit(counted, args.json, lambda r: f"{r['weekly_counts']} weekly count(s) from the week of {r['from_week']} "
                                       f"to {r['counted_until']}")
    return 0


def _clearance(args: argparse.Namespace) -> int:
    caller = _cli_caller("need to know administration (limes central clearance)")
    database = Database(_database_url(args))
    database.migrate()
    try:
        row = database.run(lambda s: set_clearance(s, caller, args.user, args.unit, args.level))
        result = {"user": row.user_name, "unit": row.unit, "level": row.level}
    except CentralError as exc:
        print(f"limes central clearance: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    emit(result, args.json, lambda r: f"{r['user']}: unit {r['unit']}, cleared to {r['level']}")
    return 0


def _overstays(args: argparse.Namespace) -> int:
    try:
        today = dt.date.fromisoformat(args.today) if args.today else dt.datetime.now(dt.timezone.utc).date()
    except ValueError:
        print("limes central overstays: --today: YYYY-MM-DD is required", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("overstay review (limes central overstays)")

    try:
        rows = database.run(lambda session: [s.as_dict() for s in reports.list_overstays(
            session, caller, today, args.include_exited)])
    except CentralError as exc:
        print(f"limes central overstays: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    emit(rows, args.json, lambda rs: "\n".join(
        f"{r['surname']}, {r['given_names']} ({r['nationality']}, {r['document']}) entered {r['entered_on']} at "
        f"{r['border_point']}, allowed until {r['allowed_until']}, "
        f"{'left ' + r['left_on'] if r['left_on'] else 'still in'}: {r['days_over']} day(s) over" for r in rs)
        or "no overstays")
    return 0


def _add_stay(args: argparse.Namespace) -> int:
    from central.database.models import PermitKind
    from central.records.stays import holder
    from central.records.visas import read_visa_mrz

    caller = _cli_caller("permitted stays (limes central add-stay)")
    kind = PermitKind[args.kind.upper().replace("-", "_")]

    def work(session) -> dict:
        state, number, end, traveller_id = args.state, args.number, args.end, None
        if args.visa_mrz is not None:
            try:
                text = sys.stdin.read() if args.visa_mrz == "-" else Path(args.visa_mrz).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InvalidArgument("visa_mrz", f"cannot read {args.visa_mrz}: {exc}") from None
            visa = read_visa_mrz(text)
            if kind is not PermitKind.SHORT_STAY_VISA:
                raise InvalidArgument("kind", "a visa MRZ is a short-stay visa's: give --kind short-stay-visa")
            traveller_id = holder(session, "", "", visa.name_key, visa.birth_date, visa.nationality)
            if traveller_id is None:
                raise InvalidArgument("visa_mrz", "no traveller recorded with the visa's names, birth date and "
                                      "nationality: record the visa against their passport (--state, --number)")
            state, number, end = visa.issuing_state, visa.number, visa.valid_until.isoformat()
        stay = overstay.add_permitted_stay(session, fields.required("state", state), fields.required("number", number),
                                           fields.required_date("from", args.start), fields.required_date("to", end),
                                           args.reference, kind, args.entries, args.duration_days, traveller_id)
        audit_log.audit(session, caller, "AddPermittedStay", f"document {stay.issuing_state} {stay.number_norm}",
                      f"{kind.name} until {stay.valid_to}", "permitted stays")
        return {"issuing_state": stay.issuing_state, "number": stay.number_norm, "kind": kind.name,
                "valid_from": stay.valid_from.isoformat(), "valid_to": stay.valid_to.isoformat(),
                "entries": stay.entries, "duration_days": stay.duration_days, "traveller_id": stay.traveller_id,
                "reference": stay.reference}
    database = Database(_database_url(args))
    database.migrate()
    try:
        result = database.run(work)
    except CentralError as exc:
        print(f"limes central add-stay: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    emit(result, args.json, lambda r: f"{r['kind'].lower()} {r['issuing_state']} {r['number']}: "
                                      f"{r['valid_from']}..{r['valid_to']}")
    return 0


def _today(text: str):
    return dt.date.fromisoformat(text) if text else dt.datetime.now(dt.timezone.utc).date()


def _rotate_key(args: argparse.Namespace) -> int:
    path = key_file_of(args)
    try:
        key_id = add_key(path)
    except SealError as exc:
        print(f"limes central rotate-key: {exc}", file=sys.stderr)
        return 2
    emit({"key_file": str(path), "current": key_id}, args.json,
         lambda r: f"{r['key_file']}: new current key {r['current']}; run `limes central reseal` to seal every "
                   f"image under it")
    return 0


def _reseal(args: argparse.Namespace) -> int:
    if args.batch < 1:
        print("limes central reseal: --batch must be at least 1", file=sys.stderr)
        return 2
    try:
        database = Database(_database_url(args), sealer=_sealer(args))
    except SealError as exc:
        print(f"limes central reseal: {exc}", file=sys.stderr)
        return 2
    database.migrate()
    resealed = 0
    try:
        while done := database.run(lambda session: evidence.reseal_images(session, args.batch)
                                   + files.reseal_templates(session, args.batch)):
            resealed += done
    except SealError as exc:
        print(f"limes central reseal: {exc} ({resealed} image(s) resealed before it)", file=sys.stderr)
        return 1
    finally:
        database.dispose()
    emit({"resealed": resealed, "current_key": database.sealer.current}, args.json,
         lambda r: f"{r['resealed']} face image(s) sealed under key {r['current_key']}; none is left under another")
    return 0


def _purge(args: argparse.Namespace) -> int:
    try:
        policy = retention.RetentionPolicy(args.personal_days, args.evidence_days, args.overstay_days,
                                           args.report_days)
        today = _today(args.today)
    except (CentralError, ValueError) as exc:
        print(f"limes central purge: {exc}", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("retention (limes central purge)")
    try:
        report = database.run(lambda session: reports.purge(session, caller, today, policy, args.dry_run))
    finally:
        database.dispose()
    left = _remove_purged_faces(args, report) if args.matcher and not report.dry_run else None
    emit({**report.as_dict(), "removed_from_matcher": left is not None and not left,
          "left_in_matcher": list(left or [])}, args.json,
         lambda _: ("dry run, would have: " if report.dry_run else "") + report.summary()
         + (f"; {len(left)} traveller face(s) NOT removed from the matcher" if left else ""))
    return 1 if left else 0


def _remove_purged_faces(args: argparse.Namespace, report) -> list[str]:
    """Take the purged files' faces out of the matcher's travellers gallery (committed first: a face left
    there matches no file); the ids it could not remove."""
    try:
        gallery = GrpcFaceMatcher(args.matcher, args.travellers_gallery,
                                  tls=tls_from_arguments(args, "limes central purge"), plaintext=args.plaintext)
    except TlsError as exc:
        print(f"limes central purge: --matcher: {exc}", file=sys.stderr)
        return list(report.traveller_file_ids)
    fingers = GrpcFingerGallery(args.matcher, args.fingers_gallery, tls=tls_from_arguments(args, "limes central purge"),
                                plaintext=args.plaintext)
    left = []
    try:
        for file_id in report.traveller_file_ids:
            try:
                gallery.remove(file_id)
                fingers.remove(file_id)  # a file without fingers is no error (NOT_FOUND)
            except CentralError as exc:
                print(f"limes central purge: {file_id}: {exc}", file=sys.stderr)
                left.append(file_id)
    finally:
        gallery.close()
        fingers.close()
    return left


def _export(args: argparse.Namespace) -> int:
    try:
        if args.key_file:
            key = Path(args.key_file).read_bytes()
        else:
            key = os.environ.get("LIMES_PSEUDONYM_KEY", "").encode()
        pseudonym.check_key(key)
        start = _today(args.start) if args.start else None
        end = _today(args.end) if args.end else None
    except (CentralError, OSError, ValueError) as exc:
        print(f"limes central export: {exc}", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("pseudonymised export (limes central export)")
    try:
        rows = database.run(lambda session: reports.export_pseudonymised(session, caller, key, start, end))
    finally:
        database.dispose()
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(pseudonym.ExportRow.FIELDS)
        writer.writerows([getattr(r, f) for f in pseudonym.ExportRow.FIELDS] for r in rows)
    elif args.json:
        json.dump([r.as_dict() for r in rows], sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        for row in rows:
            print(json.dumps(row.as_dict()))
    return 0


def _import_api(args: argparse.Namespace) -> int:
    try:
        manifest = api.read_manifest(Path(args.manifest), args.flight, args.border_point)
        rules = RiskRules.load(Path(args.risk_rules) if args.risk_rules else None)
    except (CentralError, RiskConfigError, OSError) as exc:
        print(f"limes central import-api: {exc}", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller("")
    try:
        reports = database.run(lambda session: [r.as_dict() for r in api.prescreen(
            session, caller, manifest, rules, dt.datetime.now(dt.timezone.utc))])
    except CentralError as exc:
        print(f"limes central import-api: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    result = {"flight": manifest.flight, "passengers": len(reports),
              "hits": sum(r["status"] == "HIT" for r in reports), "reports": reports}

    def render(r: dict) -> str:
        lines = [f"flight {r['flight']}: {r['passengers']} passenger(s), {r['hits']} hit(s)"]
        for p in r["reports"]:
            who = p["error"] if p["status"] == "INVALID" else (
                f"{p['surname']}, {p['given_names']} {p['issuing_state']} {p['document_number']}")
            found = [f"document {h['reason']} ({h['match']})" for h in p["document_hits"]]
            found += [f"person {h['reason']} ({h['explanation']})" for h in p["person_hits"]]
            found += p["risk_rules_fired"]
            lines.append(f"{p['index']:4} {p['status']:8} {who}" + (f": {'; '.join(found)}" if found else ""))
        return "\n".join(lines)
    emit(result, args.json, render)
    return 0


def _cli_caller(purpose: str = "alert administration (limes central add-alert)") -> Caller:
    return command_line_caller(purpose)


def _add_alert(args: argparse.Namespace, build_request, to_new, add, to_message) -> int:
    try:
        new = to_new(build_request())
    except CentralError as exc:
        print(f"limes central add-alert: {exc}", file=sys.stderr)
        return 2
    database = Database(_database_url(args))
    database.migrate()
    caller = _cli_caller()
    try:
        message = database.run(lambda session: to_message(add(session, caller, new)))
    except CentralError as exc:
        print(f"limes central add-alert: {exc}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    result = MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)
    emit(result, args.json, lambda r: f"alert {r['alert_id']} {r['reason']} at version {r['version']}")
    return 0


def _add_document_alert(args: argparse.Namespace) -> int:
    return _add_alert(args, lambda: pb.AddDocumentAlertRequest(
        alert_id=args.id, document_number=args.number, document_type=args.type, issuing_state=args.state,
        reason=pb.DocumentAlert.Reason.Value(args.reason), handling_instruction=args.instruction,
        issuing_agency=args.agency, valid_from=args.valid_from, valid_to=args.valid_to,
        category=notices_pb2.DocumentAlertCategory.Value(f"CATEGORY_{args.category}") if args.category else 0,
        handling_code=args.handling_code, handling_conditions=args.handling_conditions,
        classification=args.classification),
        convert.new_document_alert, alert_lists.add_document_alert, convert.document_alert)


def _add_person_alert(args: argparse.Namespace) -> int:
    return _add_alert(args, lambda: pb.AddPersonAlertRequest(
        alert_id=args.id, surname=args.surname, given_names=args.given_names, birth_date=args.birth_date,
        nationality=args.nationality, reason=pb.PersonAlert.Reason.Value(args.reason),
        handling_instruction=args.instruction, issuing_agency=args.agency, valid_from=args.valid_from,
        valid_to=args.valid_to, matcher_subject_id=args.matcher_subject_id,
        notice=notices_pb2.PersonNotice.Value(f"NOTICE_{args.notice}") if args.notice else 0,
        notice_kind=notices_pb2.NoticeKind.Value(f"NOTICE_KIND_{args.notice_kind}") if args.notice_kind else 0,
        handling_code=args.handling_code, handling_conditions=args.handling_conditions,
        classification=args.classification),
        convert.new_person_alert, alert_lists.add_person_alert, convert.person_alert)
