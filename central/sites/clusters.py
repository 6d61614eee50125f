"""Local PostgreSQL clusters on loopback, and a stand of headquarters and border posts made of them.

For development and the tests (`limes central sites stand`): each cluster is initdb'd into a folder
of its own (as the postgres user when run as root, as PostgreSQL refuses to run as root), listens
on 127.0.0.1 on a free port, with wal_level=logical and max_slot_wal_keep_size set, and is stopped
and removed by its folder, never by a process name.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text

from central.sites import replication
from central.sites.migration import migrate_sites
from central.sites.replication import Post

DATABASE = "central"
USER = "limes"
STAND_FILE = "stand.json"


class ClusterError(Exception):
    """A cluster that could not be made, started or reached."""


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries installed (Debian's /usr/lib/postgresql/N/bin), 15 or later."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if not found or not found[-1].parent.parent.name.isdigit() or int(found[-1].parent.parent.name) < 15:
        raise ClusterError("PostgreSQL 15 or later server binaries not found under /usr/lib/postgresql "
                           "(Debian: apt-get install postgresql)")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@dataclass
class Cluster:
    name: str
    directory: Path
    port: int
    bin_dir: Path

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def conninfo(self) -> str:
        """What a subscription on another cluster connects with."""
        return f"host=127.0.0.1 port={self.port} user={USER} dbname={DATABASE}"

    def _run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(_as_owner([str(self.bin_dir / argv[0]), *argv[1:]]), capture_output=True, text=True)
        if check and done.returncode:
            raise ClusterError(f"{self.name}: {argv[0]} failed: {(done.stderr or done.stdout).strip()[-400:]}")
        return done

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)

    @property
    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False).returncode == 0

    def remove(self) -> None:
        # Immediate: its data goes anyway, and a fast stop waits for walsenders of other clusters' slots.
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def create_cluster(name: str, directory: Path, *, wal_keep: str = "1GB", fsync: bool = True) -> Cluster:
    """A new cluster in `directory` (which must not exist), started, with an empty database `central`."""
    bin_dir = postgres_bin()
    directory.mkdir(parents=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = Cluster(name, directory, free_port(), bin_dir)
    cluster._run("initdb", "-D", str(cluster.data), "-U", USER, "--auth=trust", "--no-sync")
    settings = {
        "listen_addresses": "'127.0.0.1'", "port": cluster.port, "unix_socket_directories": f"'{directory}'",
        "wal_level": "logical", "max_slot_wal_keep_size": f"'{wal_keep}'", "max_replication_slots": 16,
        "max_wal_senders": 16, "max_logical_replication_workers": 8, "fsync": "on" if fsync else "off",
        "shared_buffers": "'32MB'", "wal_sender_timeout": "'10s'", "wal_receiver_timeout": "'10s'",
    }
    with (cluster.data / "postgresql.conf").open("a") as conf:
        conf.write("\n# limes central sites (central/sites/clusters.py)\n")
        conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
    cluster.start()
    cluster._run("createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", USER, DATABASE)
    return cluster


@dataclass
class Stand:
    """Headquarters and its posts, each on a cluster of its own."""

    directory: Path
    hq: Cluster
    posts: list[tuple[Post, Cluster]] = field(default_factory=list)

    def clusters(self) -> list[Cluster]:
        return [self.hq, *(cluster for _, cluster in self.posts)]

    def post(self, name: str) -> Cluster:
        return next(cluster for post, cluster in self.posts if post.name == name)

    def save(self) -> None:
        record = {"directory": str(self.directory), "hq": _cluster_record(self.hq),
                  "posts": [{**asdict(post), **_cluster_record(cluster)} for post, cluster in self.posts]}
        (self.directory / STAND_FILE).write_text(json.dumps(record, indent=2))

    def describe(self) -> dict:
        return {"directory": str(self.directory), "hq": {"url": self.hq.url, "running": self.hq.running},
                "posts": [{"name": post.name, "clearance": post.clearance,
                           "url": cluster.url, "running": cluster.running} for post, cluster in self.posts]}

    def remove(self) -> None:
        for cluster in self.clusters():
            cluster.remove()
        shutil.rmtree(self.directory, ignore_errors=True)


def _cluster_record(cluster: Cluster) -> dict:
    return {"name": cluster.name, "cluster_dir": str(cluster.directory), "port": cluster.port,
            "bin_dir": str(cluster.bin_dir)}


def _cluster_of(record: dict) -> Cluster:
    return Cluster(record["name"], Path(record["cluster_dir"]), record["port"], Path(record["bin_dir"]))


def load_stand(directory: Path) -> Stand:
    path = directory / STAND_FILE
    if not path.exists():
        raise ClusterError(f"no stand in {directory} (no {STAND_FILE})")
    record = json.loads(path.read_text())
    posts = [(Post(r["name"], r["clearance"]), _cluster_of(r)) for r in record["posts"]]
    return Stand(Path(record["directory"]), _cluster_of(record["hq"]), posts)


def build_stand(directory: Path, posts: list[Post], *, wal_keep: str = "1GB", fsync: bool = True,
                sync_timeout_s: float = 60.0) -> Stand:
    """A headquarters and `posts` in `directory`: clusters made and started, migrated subscribers first,
    made into their sites, published and subscribed both ways, the first copy of every table done."""
    if directory.exists() and any(directory.iterdir()):
        raise ClusterError(f"{directory} is not empty: a stand is made in a new folder")
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    stand = Stand(directory, create_cluster("hq", directory / "hq", wal_keep=wal_keep, fsync=fsync))
    try:
        for post in posts:
            stand.posts.append((post, create_cluster(post.name, directory / post.name, wal_keep=wal_keep,
                                                     fsync=fsync)))
        stand.save()
        migrate_sites(stand.hq.url, [cluster.url for _, cluster in stand.posts])
        with _autocommit(stand.hq.url) as hq:
            replication.prepare_headquarters(hq, posts)
        for post, cluster in stand.posts:
            with _autocommit(cluster.url) as connection:
                replication.prepare_post(connection, post)
                replication.subscribe(connection, post.subscription_at_post, stand.hq.conninfo,
                                      post.down_publication)
            with _autocommit(stand.hq.url) as hq:
                replication.subscribe(hq, post.subscription_at_hq, cluster.conninfo, replication.UP_PUBLICATION)
        for cluster in stand.clusters():
            wait_for_initial_copy(cluster.url, sync_timeout_s)
    except BaseException:
        stand.remove()
        raise
    return stand


class _autocommit:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def __enter__(self):
        self.connection = self.engine.connect()
        return self.connection

    def __exit__(self, *exc) -> None:
        self.connection.close()
        self.engine.dispose()


def wait_for_initial_copy(url: str, timeout_s: float) -> None:
    """Until every table of every subscription of the database is ready (its first copy done)."""
    engine = create_engine(url)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with engine.connect() as connection:
                waiting = connection.scalar(text("SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'"))
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise ClusterError(f"{url}: {waiting} table(s) not copied after {timeout_s:.0f} s")
            time.sleep(0.2)
    finally:
        engine.dispose()
