"""central.database.group_commit: concurrent writes share commits; a failed unit of work is undone alone; a failed
commit fails every call in it (no row, no access). And the role cache of central.access.roles."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, insert, select

from central.access.audit import Caller, audit_row
from central.access.roles import Role, RoleCache
from central.database import models as m
from central.database.engine import Database
from central.database.group_commit import CommitFailed, GroupCommit
from central.errors import FailedPrecondition
from proto.limes.v1 import central_pb2 as pb

from .conftest import GATE_METADATA, crossing_request


@pytest.fixture
def database(database_url):
    database = Database(database_url, pool_size=8)
    database.migrate()
    yield database
    database.dispose()


def count(database: Database, model) -> int:
    return database.read(lambda connection: connection.scalar(select(func.count()).select_from(model)))


def row(action: str = "CheckDocument") -> dict:
    return audit_row(Caller(station="G1"), action, "document UTO X1", "0 hit(s)", "test")


def in_threads(calls: list) -> list:
    """Run the calls at once; what each returned or raised."""
    results: list = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:
            results[index] = exc
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def wait_until(condition, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def commits() -> tuple[float, float]:
    from prometheus_client import REGISTRY

    return (REGISTRY.get_sample_value("limes_central_group_commits_total") or 0.0,
            REGISTRY.get_sample_value("limes_central_group_commit_writes_total") or 0.0)


def storing(action: str):
    """A unit of work that writes one audit row and returns "stored"."""
    def work(connection) -> str:
        connection.execute(insert(m.AuditEntry), [row(action)])
        return "stored"
    return work


def refusing(action: str):
    """A unit of work that writes one audit row, then is refused."""
    def work(connection) -> None:
        connection.execute(insert(m.AuditEntry), [row(action)])
        raise FailedPrecondition("not this one")
    return work


def test_every_row_is_committed_before_its_call_returns(database):
    group = GroupCommit(database)
    before = commits()
    assert in_threads([lambda: group.add_row(row()) for _ in range(40)]) == [None] * 40
    assert count(database, m.AuditEntry) == 40
    batches, writes = (after - earlier for after, earlier in zip(commits(), before))
    assert writes == 40 and 1 <= batches <= 40


def test_concurrent_rows_share_commits(database):
    """While one commit is under way the others queue behind it and then go in together."""
    group = GroupCommit(database)
    entered, release = threading.Event(), threading.Event()

    def slow_unit(connection) -> str:
        entered.set()
        release.wait(timeout=30)
        connection.execute(insert(m.AuditEntry), [row("Slow")])
        return "slow"
    results: list = []
    first = threading.Thread(target=lambda: results.append(group.run(slow_unit)))
    first.start()
    assert entered.wait(timeout=30)
    before = commits()
    waiting = [threading.Thread(target=lambda: results.append(group.add_row(row()))) for _ in range(10)]
    for thread in waiting:
        thread.start()
    wait_until(lambda: len(group._pending) == 10)  # all ten queued behind the slow commit
    release.set()
    for thread in [first, *waiting]:
        thread.join(timeout=60)
    batches, writes = (after - earlier for after, earlier in zip(commits(), before))
    assert sorted(results, key=str) == [None] * 10 + ["slow"]
    assert (batches, writes) == (2, 11)  # the slow one's commit, then the ten that waited in one commit
    assert count(database, m.AuditEntry) == 11


def test_a_failing_unit_is_undone_alone(database):
    group = GroupCommit(database)
    good, refused = storing("Good"), refusing("Refused")
    results = in_threads([lambda: group.run(good), lambda: group.run(refused), lambda: group.add_row(row())] * 5)
    assert results.count("stored") == 5 and results.count(None) == 5
    assert [type(r) for r in results if isinstance(r, Exception)] == [FailedPrecondition] * 5
    actions = database.read(lambda c: [a for (a,) in c.execute(select(m.AuditEntry.action))])
    assert sorted(actions) == ["CheckDocument"] * 5 + ["Good"] * 5


def test_a_units_audit_row_goes_in_with_the_batch_only_when_the_unit_succeeds(database):
    """Units in one batch, one refused: the batch runs again with savepoints, and the audit rows of
    the units that succeeded (and asked for one) are stored, the refused unit's not."""
    group = GroupCommit(database)
    entered, release = threading.Event(), threading.Event()

    def slow_unit(connection) -> str:
        entered.set()
        release.wait(timeout=30)
        return "slow"
    stored, refused = storing("Unit"), refusing("Unit")
    first = threading.Thread(target=lambda: group.run(slow_unit))
    first.start()
    assert entered.wait(timeout=30)
    before = commits()
    results: list = []

    def call(work, audit) -> None:
        try:
            results.append(group.run(work, audit=audit))
        except FailedPrecondition as exc:
            results.append(exc)
    calls = [(stored, lambda result: row(f"Audit-{result}")), (refused, lambda result: row("Audit-refused")),
             (stored, lambda result: None), (stored, lambda result: row(f"Audit-{result}"))]
    waiting = [threading.Thread(target=call, args=pair) for pair in calls]
    for thread in waiting:
        thread.start()
    wait_until(lambda: len(group._pending) == 4)
    release.set()
    for thread in [first, *waiting]:
        thread.join(timeout=60)
    assert sorted(map(str, results)) == ["not this one"] + ["stored"] * 3
    assert tuple(after - earlier for after, earlier in zip(commits(), before)) == (2, 5)
    actions = database.read(lambda c: sorted(a for (a,) in c.execute(select(m.AuditEntry.action))))
    assert actions == ["Audit-stored"] * 2 + ["Unit"] * 3


def test_a_failed_commit_fails_every_call_in_it(database):
    """A row that cannot be stored takes its whole commit down: none of those calls may answer."""
    group = GroupCommit(database)
    entered, release = threading.Event(), threading.Event()

    def first_unit(connection) -> None:
        entered.set()
        release.wait(timeout=30)
    first = threading.Thread(target=lambda: group.run(first_unit))
    first.start()
    assert entered.wait(timeout=30)
    results: list = []
    bad = dict(row(), action=None)  # NOT NULL: the INSERT of the batch's rows fails

    def call(how) -> None:
        try:
            results.append(how())
        except Exception as exc:
            results.append(exc)
    waiting = [threading.Thread(target=call, args=(lambda: group.add_row(row()),)),
               threading.Thread(target=call, args=(lambda: group.add_row(bad),)),
               threading.Thread(target=call, args=(lambda: group.run(
                   lambda c: c.execute(insert(m.AuditEntry), [row("Unit")])),))]
    for thread in waiting:
        thread.start()
    wait_until(lambda: len(group._pending) == 3)  # one batch: the good, the bad and the unit
    release.set()
    for thread in [first, *waiting]:
        thread.join(timeout=60)
    assert len(results) == 3 and all(isinstance(r, CommitFailed) for r in results), results
    assert count(database, m.AuditEntry) == 0
    group.add_row(row())  # the next commit is not affected
    assert count(database, m.AuditEntry) == 1


def test_recorded_crossings_and_reads_through_the_server_leave_one_row_each(stub, database_url):
    requests = [crossing_request() for _ in range(12)]
    calls = [lambda r=r: stub.RecordCrossing(r, metadata=GATE_METADATA, timeout=30) for r in requests]
    calls += [lambda r=r: stub.CheckDocument(pb.CheckDocumentRequest(document_number=r.document.number),
                                             metadata=GATE_METADATA, timeout=30) for r in requests]
    results = in_threads(calls)
    assert not [r for r in results if isinstance(r, Exception)]
    database = Database(database_url)
    try:
        rows = database.read(lambda c: c.execute(select(m.AuditEntry.action, func.count())
                                                 .group_by(m.AuditEntry.action)).all())
        assert dict(rows) == {"RecordCrossing": 12, "CheckDocument": 12}
        assert count(database, m.Crossing) == 12
    finally:
        database.dispose()


# ---------------------------------------------------------------- role cache

def test_role_cache_keeps_roles_for_its_lifetime_only():
    now = [100.0]
    cache = RoleCache(ttl_s=5.0, clock=lambda: now[0])
    cache.put("G1", "", {Role.GATE}, cache.generation)
    assert cache.get("G1", "") == {Role.GATE}
    now[0] += 5.0
    assert cache.get("G1", "") is None


def test_roles_read_before_a_change_are_not_kept_after_it():
    cache = RoleCache(ttl_s=5.0)
    generation = cache.generation  # a call starts reading roles...
    cache.clear()                  # ...a GrantRole commits meanwhile...
    cache.put("G1", "", set(), generation)
    assert cache.get("G1", "") is None  # ...and the stale answer is dropped


def test_a_role_granted_through_the_server_holds_at_once(stub):
    bob = (("x-limes-user", "bob"),)
    with pytest.raises(Exception):
        stub.ListReferrals(pb.ListReferralsRequest(), metadata=bob)  # refused, and remembered
    stub.GrantRole(pb.RoleRequest(principal=pb.Principal(kind="user", name="bob", role="officer")))
    assert not stub.ListReferrals(pb.ListReferralsRequest(), metadata=bob).referrals


def test_a_role_revoked_elsewhere_holds_within_the_cache_lifetime(database_url, dev_pki):
    import time

    import grpc

    from central.access.roles import AccessPolicy, Kind
    from limes.cli import main

    from .conftest import serve_central

    server, central = serve_central(database_url, dev_pki, role_cache_s=0.5,
                                    access=AccessPolicy(bootstrap={(Kind.USER, "carol"): (Role.OFFICER,)}))
    try:
        carol = central.stub()
        metadata = (("x-limes-user", "carol"),)
        carol.ListReferrals(pb.ListReferralsRequest(), metadata=metadata)
        assert main(["central", "identity", "revoke", "user", "carol", "--database", database_url]) == 0
        time.sleep(0.6)
        with pytest.raises(grpc.RpcError) as refused:
            carol.ListReferrals(pb.ListReferralsRequest(), metadata=metadata)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    finally:
        central.close()
        server.stop(None)
