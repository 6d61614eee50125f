"""Replication's state at one site, for Prometheus and the administrators' page (docs/SITES.md, Monitoring).

At a subscriber (headquarters for UP, a post for DOWN): each subscription, whether it is enabled and
its worker running, how long since it last heard from its publisher, and its apply and sync errors
(PostgreSQL 15's pg_stat_subscription_stats). At a publisher: each logical slot, whether a subscriber
is attached, and the WAL it retains (what an offline site pins: bounded by max_slot_wal_keep_size).

Nothing here is personal data: names of sites, positions in the WAL, counts.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector
from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    name: str
    enabled: bool
    worker_running: bool
    last_message_age_s: float | None  # None: nothing heard since the worker started
    apply_errors: int
    sync_errors: int


@dataclass(frozen=True)
class Slot:
    name: str
    active: bool
    retained_wal_bytes: int
    lag_bytes: int | None  # WAL written since what the subscriber confirmed
    wal_status: str  # reserved, extended, unreserved or lost (lost: the subscriber must be rebuilt)


@dataclass(frozen=True)
class ReplicationState:
    subscriptions: list[Subscription] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    publications: list[str] = field(default_factory=list)
    error: str = ""  # why the state could not be read

    @property
    def replicating(self) -> bool:
        return bool(self.subscriptions or self.slots or self.publications)


_SUBSCRIPTIONS = text("""
SELECT s.subname, s.subenabled, st.pid IS NOT NULL,
       EXTRACT(EPOCH FROM clock_timestamp() - st.last_msg_receipt_time),
       COALESCE(ss.apply_error_count, 0), COALESCE(ss.sync_error_count, 0)
FROM pg_subscription s
LEFT JOIN pg_stat_subscription st ON st.subid = s.oid AND st.relid IS NULL
LEFT JOIN pg_stat_subscription_stats ss ON ss.subid = s.oid
WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY s.subname""")

_SLOTS = text("""
SELECT slot_name, active, COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint, COALESCE(wal_status, '')
FROM pg_replication_slots WHERE slot_type = 'logical' AND database = current_database()
ORDER BY slot_name""")


def read_state(engine: Engine) -> ReplicationState:
    """The state now; on SQLite, none (a single site); a failed query is reported, never raised."""
    if engine.dialect.name != "postgresql":
        return ReplicationState()
    try:
        with engine.connect() as connection:
            subscriptions = [Subscription(name, enabled, running, None if age is None else float(age),
                                          int(apply), int(sync))
                             for name, enabled, running, age, apply, sync in connection.execute(_SUBSCRIPTIONS)]
            slots = [Slot(name, active, int(retained), None if lag is None else int(lag), status)
                     for name, active, retained, lag, status in connection.execute(_SLOTS)]
            publications = list(connection.scalars(text("SELECT pubname FROM pg_publication ORDER BY pubname")))
    except Exception as error:  # a scrape or a page must say so, not fail
        log.warning("replication state unreadable: %s", error)
        return ReplicationState(error=str(error).splitlines()[0])
    return ReplicationState(subscriptions, slots, publications)


class ReplicationCollector(Collector):
    """Prometheus metrics read from the database at each scrape."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def collect(self):
        state = read_state(self.engine)
        up = GaugeMetricFamily("limes_central_replication_readable",
                               "1 if central could read its replication state at this scrape")
        up.add_metric([], 0 if state.error else 1)
        yield up
        by_subscription = ["subscription"]
        enabled = GaugeMetricFamily("limes_central_subscription_enabled",
                                    "1 while a subscription is enabled (disable_on_error turns it off)",
                                    labels=by_subscription)
        running = GaugeMetricFamily("limes_central_subscription_worker_running",
                                    "1 while the subscription's apply worker runs", labels=by_subscription)
        age = GaugeMetricFamily("limes_central_subscription_last_message_age_seconds",
                                "Seconds since the subscription last heard from its publisher",
                                labels=by_subscription)
        apply = CounterMetricFamily("limes_central_subscription_apply_errors",
                                    "Errors applying replicated changes (pg_stat_subscription_stats)",
                                    labels=by_subscription)
        sync = CounterMetricFamily("limes_central_subscription_sync_errors",
                                   "Errors in the initial copy of tables (pg_stat_subscription_stats)",
                                   labels=by_subscription)
        for s in state.subscriptions:
            enabled.add_metric([s.name], int(s.enabled))
            running.add_metric([s.name], int(s.worker_running))
            if s.last_message_age_s is not None:
                age.add_metric([s.name], s.last_message_age_s)
            apply.add_metric([s.name], s.apply_errors)
            sync.add_metric([s.name], s.sync_errors)
        yield from (enabled, running, age, apply, sync)
        retained = GaugeMetricFamily("limes_central_replication_slot_retained_wal_bytes",
                                     "WAL a logical slot keeps for its subscriber", labels=["slot"])
        lag = GaugeMetricFamily("limes_central_replication_slot_lag_bytes",
                                "WAL written since the subscriber's last confirmed position", labels=["slot"])
        active = GaugeMetricFamily("limes_central_replication_slot_active",
                                   "1 while a subscriber is attached to the slot", labels=["slot"])
        lost = GaugeMetricFamily("limes_central_replication_slot_lost",
                                 "1 once the slot lost WAL past max_slot_wal_keep_size (rebuild the subscriber)",
                                 labels=["slot"])
        for slot in state.slots:
            retained.add_metric([slot.name], slot.retained_wal_bytes)
            if slot.lag_bytes is not None:
                lag.add_metric([slot.name], slot.lag_bytes)
            active.add_metric([slot.name], int(slot.active))
            lost.add_metric([slot.name], int(slot.wal_status == "lost"))
        yield from (retained, lag, active, lost)


_registered: ReplicationCollector | None = None


def export(engine: Engine) -> None:
    """Serve this database's replication state with central's other metrics (one collector per process)."""
    global _registered
    if engine.dialect.name != "postgresql":
        return
    if _registered is not None:
        REGISTRY.unregister(_registered)
    _registered = ReplicationCollector(engine)
    REGISTRY.register(_registered)
