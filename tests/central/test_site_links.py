"""The replication link's connection string (central.sites.links): a publisher off this machine is reached
only over TLS that verifies it; loopback and Unix sockets (the local stand) are exempt."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from central.sites.links import LinkError, check_publisher


@pytest.mark.parametrize("conninfo", [
    "host=127.0.0.1 port=5433 user=limes dbname=central",        # what the stand writes
    "host=::1 dbname=central",
    "host=localhost dbname=central",
    "host=/var/run/postgresql dbname=central",
    "dbname=central",                                              # libpq's default: the Unix socket
    "host=hq.example.org dbname=central sslmode=verify-full sslrootcert=/etc/limes/hq-ca.pem",
    "postgresql://replicator@10.0.0.5:5432/central?sslmode=verify-ca&sslrootcert=ca.pem",
])
def test_loopback_or_a_verified_tls_link_is_taken(conninfo):
    check_publisher(conninfo)


@pytest.mark.parametrize("conninfo, mode", [
    ("host=hq.example.org dbname=central", "prefer"),
    ("host=10.0.0.5 dbname=central sslmode=require", "require"),
    ("postgresql://replicator@hq.example.org/central?sslmode=disable", "disable"),
    ("host=localhost,hq.example.org dbname=central", "prefer"),     # a fall-back host off the machine
    ("host=localhost hostaddr=192.0.2.7 dbname=central", "prefer"),  # where libpq really connects
])
def test_a_link_off_the_machine_without_verified_tls_is_refused(conninfo, mode):
    with pytest.raises(LinkError, match=rf"without a verified TLS connection \(sslmode={mode}\).*verify-full"):
        check_publisher(conninfo)


def test_a_connection_string_that_does_not_read_is_refused():
    with pytest.raises(LinkError, match="does not read"):
        check_publisher("host='unterminated")


@given(st.text(max_size=200))
def test_any_text_is_taken_or_refused_with_a_reason(text):
    try:
        check_publisher(text)
    except LinkError as exc:
        assert str(exc)
