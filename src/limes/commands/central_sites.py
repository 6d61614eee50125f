"""`limes central sites ...`: border posts and headquarters on PostgreSQL logical replication (docs/SITES.md).

`stand up|down|status`: a local stand (headquarters and posts, each a PostgreSQL cluster on loopback).
`migrate`, `prepare-post`, `prepare-hq`, `subscribe`: the same steps on databases of your own, in the
order docs/SITES.md gives. `status`: one database's subscriptions and slots. `trust publish|materialise`:
trust data from headquarters' trust folder to the posts' (central.sites.trust).
"""
from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.exc import DBAPIError

from central.database.engine import Database, configured_url
from central.intelligence.clearance import LEVELS
from central.sites import clusters, monitoring, replication, trust
from central.sites.migration import migrate_sites
from central.sites.replication import Post, SiteError
from common.output import add_json_flag, emit
from common.signals import StopSignals


def register(commands) -> None:
    sites = commands.add_parser("sites", help="border posts and headquarters on PostgreSQL logical replication "
                                              "(docs/SITES.md)")
    sub = sites.add_subparsers(dest="sites_command", metavar="COMMAND", required=True)

    stand = sub.add_parser("stand", help="a local stand: headquarters and posts, each a PostgreSQL cluster on loopback")
    stand_sub = stand.add_subparsers(dest="stand_command", metavar="ACTION", required=True)
    up = stand_sub.add_parser("up", help="make, migrate (subscribers first), publish and subscribe; print the URLs")
    up.add_argument("directory", type=Path, help="a new or empty folder for the clusters")
    up.add_argument("--posts", type=int, default=2, help="how many border posts (default 2)")
    up.add_argument("--clearance", action="append", choices=LEVELS, default=None,
                    help="the highest alert classification each post receives, once per post in order "
                         "(default RESTRICTED for every post)")
    up.add_argument("--wal-keep", default="1GB", help="max_slot_wal_keep_size of every cluster (default 1GB)")
    up.add_argument("--no-fsync", action="store_true", help="fsync off (tests; loses data on a crash)")
    add_json_flag(up)
    up.set_defaults(func=_stand_up)
    for name, func, text in (("down", _stand_down, "stop the stand's clusters and remove its folder"),
                             ("status", _stand_status, "the stand's clusters and each one's replication state")):
        parser = stand_sub.add_parser(name, help=text)
        parser.add_argument("directory", type=Path, help="the stand's folder")
        add_json_flag(parser)
        parser.set_defaults(func=func)

    status = sub.add_parser("status", help="a database's subscriptions, slots and publications")
    _database_flag(status)
    add_json_flag(status)
    status.set_defaults(func=_status)

    migrate = sub.add_parser("migrate", help="migrate headquarters and posts to head, each revision subscribers first")
    migrate.add_argument("--hq", required=True, metavar="URL", help="headquarters' database")
    migrate.add_argument("--post", action="append", required=True, metavar="URL", help="a post's database (repeat)")
    add_json_flag(migrate)
    migrate.set_defaults(func=_migrate)

    post = sub.add_parser("prepare-post", help="make a migrated database a border post and publish its tables")
    _database_flag(post)
    _post_arguments(post)
    add_json_flag(post)
    post.set_defaults(func=_prepare_post)

    hq = sub.add_parser("prepare-hq", help="make a migrated database headquarters and publish to each post")
    _database_flag(hq)
    hq.add_argument("--post", action="append", required=True, metavar="NAME[:CLEARANCE]",
                    help="a post and the highest alert classification it receives, e.g. post_a:RESTRICTED "
                         "(default RESTRICTED; repeat)")
    add_json_flag(hq)
    hq.set_defaults(func=_prepare_hq)

    subscribe = sub.add_parser("subscribe", help="subscribe this database to a publication of another site")
    _database_flag(subscribe)
    subscribe.add_argument("--name", required=True, help="the subscription, e.g. hq_from_post_a or post_a_from_hq")
    subscribe.add_argument("--publisher", required=True, metavar="CONNINFO",
                           help="libpq connection string of the publishing site, e.g. 'host=hq.example dbname=central "
                                "sslmode=verify-full sslrootcert=hq-ca.pem' (TLS verified unless on loopback)")
    subscribe.add_argument("--publication", required=True, help="limes_up, or limes_down_POST")
    add_json_flag(subscribe)
    subscribe.set_defaults(func=_subscribe)

    trust_parser = sub.add_parser("trust", help="trust data (CSCAs, DSCs, CRLs, deviation lists) replicated down "
                                                "from headquarters to the posts' trust folders")
    trust_sub = trust_parser.add_subparsers(dest="trust_command", metavar="ACTION", required=True)
    publish = trust_sub.add_parser(
        "publish", help="at headquarters: mirror its trust folder into the replicated table",
        description="Load headquarters' trust folder as a gate would (what `limes pki import-ldif` and "
                    "`import-master-list` wrote there, and CSCA or CRL files put there), and mirror it into "
                    "trust_objects, which replicates to every post: new objects added, those no longer in "
                    "the folder marked removed. Refused at a post (the table is written only at headquarters).")
    _database_flag(publish)
    publish.add_argument("--store", type=Path, required=True, metavar="DIR", help="headquarters' trust folder")
    add_json_flag(publish)
    publish.set_defaults(func=_trust_publish)
    materialise_parser = trust_sub.add_parser(
        "materialise", help="at a post: write the replicated trust objects into the folder its gates use",
        description="Write every trust object in force into DIR as hq-* files (atomically), and remove the "
                    "hq-* files of objects headquarters removed; other files in DIR are left alone. Gates "
                    "use a new CRL at their next CRL refresh, a new CSCA or DSC at their next start.")
    _database_flag(materialise_parser)
    materialise_parser.add_argument("--store", type=Path, required=True, metavar="DIR",
                                    help="the trust folder the post's gates load (devices.csca)")
    materialise_parser.add_argument("--every", type=float, default=None, metavar="SECONDS",
                                    help="keep doing it every SECONDS until Ctrl-C or SIGTERM, printing "
                                         "each pass that changed something")
    add_json_flag(materialise_parser)
    materialise_parser.set_defaults(func=_trust_materialise)


def _database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database", metavar="URL", default=None,
                        help="SQLAlchemy URL of a PostgreSQL database (default: $LIMES_CENTRAL_DATABASE)")


def _post_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="the post's name: lower case, digits, _ (e.g. post_a)")
    parser.add_argument("--clearance", choices=LEVELS, default="RESTRICTED",
                        help="the highest alert classification it receives (default RESTRICTED)")


def _fail(error: Exception) -> int:
    print(f"limes central sites: {error}", file=sys.stderr)
    return 1


def _stand_up(args: argparse.Namespace) -> int:
    clearances = args.clearance or []
    if args.posts < 1 or len(clearances) not in (0, args.posts):
        return _fail(SiteError("--posts must be 1 or more, and --clearance given once per post or not at all"))
    try:
        posts = [Post(f"post_{chr(ord('a') + i)}" if i < 26 else f"post_{i + 1}",
                      clearances[i] if clearances else "RESTRICTED") for i in range(args.posts)]
        stand = clusters.build_stand(args.directory.resolve(), posts, wal_keep=args.wal_keep,
                                     fsync=not args.no_fsync)
    except (clusters.ClusterError, SiteError) as error:
        return _fail(error)
    emit(stand.describe(), args.json, _render_stand)
    return 0


def _render_stand(described: dict) -> str:
    lines = [f"stand in {described['directory']}", f"  hq      {described['hq']['url']}"]
    lines += [f"  {p['name']:<7} {p['url']}  (alerts up to {p['clearance']})" for p in described["posts"]]
    return "\n".join(lines)


def _stand_down(args: argparse.Namespace) -> int:
    try:
        stand = clusters.load_stand(args.directory.resolve())
    except clusters.ClusterError as error:
        return _fail(error)
    stand.remove()
    emit({"removed": str(stand.directory)}, args.json, lambda r: f"removed the stand in {r['removed']}")
    return 0


def _stand_status(args: argparse.Namespace) -> int:
    try:
        stand = clusters.load_stand(args.directory.resolve())
    except clusters.ClusterError as error:
        return _fail(error)
    described = stand.describe()
    for site in [described["hq"], *described["posts"]]:
        site["replication"] = replication_state(site["url"]) if site["running"] else None
    emit(described, args.json, _render_stand)
    return 0


def replication_state(url: str) -> dict:
    engine = create_engine(url)
    try:
        return asdict(monitoring.read_state(engine))
    finally:
        engine.dispose()


def _status(args: argparse.Namespace) -> int:
    state = replication_state(configured_url(args.database))
    emit(state, args.json, _render_state)
    return 1 if state["error"] else 0


def _render_state(state: dict) -> str:
    if state["error"]:
        return f"replication state unreadable: {state['error']}"
    lines = [f"publications: {', '.join(state['publications']) or 'none'}"]
    lines += [f"subscription {s['name']}: {'enabled' if s['enabled'] else 'DISABLED'}, worker "
              f"{'running' if s['worker_running'] else 'not running'}, apply errors {s['apply_errors']}, "
              f"copy errors {s['sync_errors']}" for s in state["subscriptions"]]
    lines += [f"slot {s['name']}: {'attached' if s['active'] else 'NO SUBSCRIBER'}, behind {s['lag_bytes']} B, "
              f"retains {s['retained_wal_bytes']} B of WAL ({s['wal_status']})" for s in state["slots"]]
    return "\n".join(lines)


def _migrate(args: argparse.Namespace) -> int:
    steps = migrate_sites(args.hq, args.post)
    emit([asdict(step) for step in steps], args.json,
         lambda done: "\n".join(f"{s['revision']} at {s['site']}" for s in done) or "every site is at head")
    return 0


def _autocommit(args: argparse.Namespace):
    return create_engine(configured_url(args.database), isolation_level="AUTOCOMMIT")


def _prepare_post(args: argparse.Namespace) -> int:
    engine = _autocommit(args)
    try:
        post = Post(args.name, args.clearance)
        with engine.connect() as connection:
            replication.prepare_post(connection, post)
    except SiteError as error:
        return _fail(error)
    finally:
        engine.dispose()
    emit({"post": post.name, "publication": replication.UP_PUBLICATION}, args.json,
         lambda r: f"{r['post']}: publishes {r['publication']}")
    return 0


def _parse_post(text: str) -> Post:
    name, _, clearance = text.partition(":")
    return Post(name, clearance or "RESTRICTED")


def _prepare_hq(args: argparse.Namespace) -> int:
    engine = _autocommit(args)
    try:
        posts = [_parse_post(text) for text in args.post]
        with engine.connect() as connection:
            replication.prepare_headquarters(connection, posts)
    except SiteError as error:
        return _fail(error)
    finally:
        engine.dispose()
    emit({"publications": [p.down_publication for p in posts]}, args.json,
         lambda r: "publishes " + ", ".join(r["publications"]))
    return 0


def _subscribe(args: argparse.Namespace) -> int:
    engine = _autocommit(args)
    try:
        with engine.connect() as connection:
            replication.subscribe(connection, args.name, args.publisher, args.publication)
    except SiteError as error:
        return _fail(error)
    finally:
        engine.dispose()
    emit({"subscription": args.name}, args.json, lambda r: f"subscribed: {r['subscription']}")
    return 0


def _trust_publish(args: argparse.Namespace) -> int:
    database = Database(configured_url(args.database))
    try:
        published = database.run(lambda session: trust.publish(session, args.store, getpass.getuser()))
    except trust.TrustError as error:
        return _fail(error)
    except DBAPIError as error:
        return _fail(error.orig or error)
    finally:
        database.dispose()
    emit(published.to_dict(), args.json, lambda r: (
        f"published {args.store}: {len(r['added'])} added, {len(r['removed'])} removed, {r['unchanged']} unchanged"))
    return 0


def _trust_materialise(args: argparse.Namespace) -> int:
    database = Database(configured_url(args.database))

    def once() -> dict:
        return database.run(lambda session: trust.materialise(session, args.store)).to_dict()

    def render(r: dict) -> str:
        return (f"{args.store}: {len(r['written'])} written, {len(r['removed'])} removed, "
                f"{r['unchanged']} unchanged")
    try:
        if args.every is None:
            emit(once(), args.json, render)
            return 0
        with StopSignals() as stop:
            while not stop.stopped:
                try:
                    done = once()
                except (OSError, DBAPIError, trust.TrustError) as error:  # the next pass tries again
                    print(f"limes central sites trust: {error}", file=sys.stderr)
                else:
                    if done["written"] or done["removed"]:
                        emit(done, args.json, render)
                        sys.stdout.flush()
                stop.wait(args.every)
        return 0
    except (OSError, DBAPIError, trust.TrustError) as error:
        return _fail(error)
    finally:
        database.dispose()
