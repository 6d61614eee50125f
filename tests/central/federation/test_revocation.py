"""Partner certificates revoked by their CA (central.federation.revocation): the CRL named in the trust file
is checked on every call, read again when replaced, and an out-of-date, missing or broken one refuses."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from central.database import models as m
from central.federation import trust
from central.federation.service import FederationServicer, NotTrusted, PartnerClient
from proto.dev_pki import DevPki
from proto.limes.v1 import federation_pb2 as fpb

from .conftest import Running, make_side

NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.timezone.utc)


def write_crl(pki: DevPki, path: Path, revoked: tuple[Path, ...] = (), *, next_update: dt.datetime | None = None,
              der: bool = False) -> Path:
    """A CRL of `pki`'s CA listing the certificates in the files `revoked`, written to `path`."""
    ca = x509.load_pem_x509_certificate(pki.ca_path.read_bytes())
    key = serialization.load_pem_private_key((pki.folder / "ca.key").read_bytes(), password=None)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.subject)
               .last_update(NOW - dt.timedelta(days=1))
               .next_update(next_update or dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=7)))
    for file in revoked:
        serial = x509.load_pem_x509_certificate(file.read_bytes()).serial_number
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(NOW - dt.timedelta(hours=1)).build())
    crl = builder.sign(key, hashes.SHA256())
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER if der else serialization.Encoding.PEM))
    return path


def trust_file(folder: Path, partner: DevPki, crls: list[str]) -> Path:
    own = DevPki(folder / "own")
    tls = own.server()
    path = folder / "trust.toml"
    path.write_text(f"""
[self]
name = "LIMES-A"
listen = "127.0.0.1:1"
certificate = "{tls.certificate}"
key = "{tls.key}"

[[partner]]
name = "LIMES-B"
address = "127.0.0.1:2"
ca = "{partner.ca_path}"
lists = ["documents"]
crl = [{", ".join(f'"{c}"' for c in crls)}]
""", encoding="utf-8")
    return path


class Context:
    """What the servicer reads of a call: the peer's certificate."""

    def __init__(self, certificate: Path) -> None:
        self._pem = certificate.read_bytes()

    def auth_context(self):
        return {"x509_pem_cert": [self._pem]}


@pytest.fixture
def partner(tmp_path) -> DevPki:
    return DevPki(tmp_path / "b")


def servicer(path: Path, now=NOW) -> FederationServicer:
    return FederationServicer(None, trust.load(path), clock=lambda: now)


def test_a_certificate_its_ca_revoked_is_refused_and_a_good_one_passes(tmp_path, partner):
    good, stolen = partner.user("b-sync").certificate, partner.user("b-stolen").certificate
    path = trust_file(tmp_path, partner, [str(write_crl(partner, tmp_path / "b.crl", (stolen,), der=True))])
    service = servicer(path)
    assert service._partner(Context(good)).name == "LIMES-B"
    with pytest.raises(NotTrusted, match=r"LIMES-B: the certificate of .*CN=b-stolen.* was revoked by its CA"):
        service._partner(Context(stolen))


def test_a_crl_replaced_on_disk_is_read_at_the_next_call(tmp_path, partner):
    certificate = partner.user("b-sync").certificate
    crl = write_crl(partner, tmp_path / "b.crl")
    service = servicer(trust_file(tmp_path, partner, [str(crl)]))
    assert service._partner(Context(certificate)).name == "LIMES-B"
    write_crl(partner, crl, (certificate,))
    os.utime(crl, ns=(crl.stat().st_atime_ns, crl.stat().st_mtime_ns + 1_000_000))  # a new file, even within a tick
    with pytest.raises(NotTrusted, match="was revoked"):
        service._partner(Context(certificate))


def test_an_out_of_date_crl_refuses_until_a_current_one_is_in_place(tmp_path, partner):
    certificate = partner.user("b-sync").certificate
    crl = write_crl(partner, tmp_path / "b.crl", next_update=NOW + dt.timedelta(hours=1))
    path = trust_file(tmp_path, partner, [str(crl)])
    assert servicer(path)._partner(Context(certificate)).name == "LIMES-B"
    with pytest.raises(NotTrusted, match="was due for renewal at 2026-12-06T13:00:00"):
        servicer(path, now=NOW + dt.timedelta(hours=2))._partner(Context(certificate))


def test_a_crl_that_breaks_after_start_refuses_every_call_of_that_partner(tmp_path, partner):
    certificate = partner.user("b-sync").certificate
    crl = write_crl(partner, tmp_path / "b.crl")
    service = servicer(trust_file(tmp_path, partner, [str(crl)]))
    crl.write_bytes(b"-----BEGIN X509 CRL-----\nbroken\n-----END X509 CRL-----\n")
    with pytest.raises(NotTrusted, match="the partner's CRL cannot be used.*not a CRL"):
        service._partner(Context(certificate))
    crl.unlink()
    with pytest.raises(NotTrusted, match="cannot read"):
        service._partner(Context(certificate))


def test_a_partner_ca_with_no_crl_among_those_named_is_refused(tmp_path, partner):
    """A partner with two CAs names the CRL of one: certificates of the other are not taken on trust."""
    second = DevPki(tmp_path / "b2")
    both = tmp_path / "b-cas.pem"
    both.write_bytes(partner.ca_path.read_bytes() + second.ca_path.read_bytes())
    path = trust_file(tmp_path, partner, [str(write_crl(partner, tmp_path / "b.crl"))])
    path.write_text(path.read_text().replace(f'ca = "{partner.ca_path}"', f'ca = "{both}"'))
    service = servicer(path)
    assert service._partner(Context(partner.user("b-sync").certificate)).name == "LIMES-B"
    with pytest.raises(NotTrusted, match="no CRL of .*the CA that issued the certificate"):
        service._partner(Context(second.user("b-other").certificate))


def test_the_trust_file_refuses_a_crl_of_another_ca_or_one_that_does_not_read(tmp_path, partner):
    stranger = DevPki(tmp_path / "stranger")
    foreign = write_crl(stranger, tmp_path / "stranger.crl")
    with pytest.raises(trust.TrustError, match=r"partner LIMES-B\.crl: .*signed by none of the partner's CAs"):
        trust.load(trust_file(tmp_path, partner, [str(foreign)]))
    junk = tmp_path / "junk.crl"
    junk.write_bytes(b"\x30\x03\x02\x01\x01")
    with pytest.raises(trust.TrustError, match=r"partner LIMES-B\.crl: .*not a CRL"):
        trust.load(trust_file(tmp_path, partner, [str(junk)]))
    with pytest.raises(trust.TrustError, match=r"partner LIMES-B\.crl: .*is not a readable file"):
        trust.load(trust_file(tmp_path, partner, [str(tmp_path / "missing.crl")]))


def test_a_revoked_partner_certificate_gets_permission_denied_from_a_running_central_and_is_audited(tmp_path):
    a, b = make_side(tmp_path, "A"), make_side(tmp_path, "B")
    a.write_trust(b)
    b.write_trust(a)
    crl = write_crl(a.pki, tmp_path / "a.crl")
    b.trust.write_text(b.trust.read_text() + f'crl = ["{crl}"]\n', encoding="utf-8")
    running = Running(b)
    config = trust.load(a.trust)
    client = PartnerClient(config, config.partner(b.name))
    try:
        running.wait_ready()
        query = fpb.HitQuery(query_id=str(uuid.uuid4()), document=fpb.DocumentSubject(number="B7000001"))
        assert not client.stub.QueryHit(query, timeout=10).hit  # trusted while its certificate stands
        write_crl(a.pki, crl, (config.certificate,))
        os.utime(crl, ns=(crl.stat().st_atime_ns, crl.stat().st_mtime_ns + 1_000_000))
        with pytest.raises(grpc.RpcError) as refused:
            client.stub.QueryHit(fpb.HitQuery(query_id=str(uuid.uuid4()),
                                              document=fpb.DocumentSubject(number="B7000001")), timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "was revoked by its CA" in refused.value.details()
    finally:
        client.close()
        running.stop()
    [row] = b.rows(m.AuditEntry, m.AuditEntry.action == "FederationQueryHit",
                   m.AuditEntry.outcome.startswith("PERMISSION_DENIED"))
    assert "was revoked" in row["outcome"]
