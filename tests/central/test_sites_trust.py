"""Trust data from headquarters' trust folder to a post's (central.sites.trust, docs/SITES.md, Trust data).

These run on SQLite in the main pass: publish at "headquarters" and materialise at "a post" share one
database here, standing for what logical replication carries between them (that part, with a revoked
DSC refused at the post once headquarters' CRL arrives, is in tests/central/test_sites.py's stand).
"""
from __future__ import annotations

import datetime as dt
import json

import cv2
import numpy as np
import pytest
from asn1crypto import pem
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from central.database import models as m
from central.database.engine import Database
from central.sites import trust
from drivers.checks import CheckStatus
from drivers.emrtd.passiveauth import CscaStore, verify
from edge.runtime import CrlRefresher
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import faulty_csca, make_test_pki, pkd_ldif
from limes.cli import main
from limes.commands.pki import import_ldif

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
PKI = make_test_pki("UTO", now=NOW)


@pytest.fixture(scope="module")
def revoked_document() -> dict[int, bytes]:
    """A chip's files signed by the DSC that PKI's CRL revokes."""
    ok, photo = cv2.imencode(".jpg", np.full((64, 48, 3), 150, np.uint8))
    assert ok
    return personalise(TD3, photo.tobytes(), PKI, faults=["revoked_dsc"])


@pytest.fixture
def database(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'central.sqlite'}")
    database.migrate()
    yield database
    database.dispose()


def publish(database: Database, folder, at=NOW) -> trust.Published:
    return database.run(lambda session: trust.publish(session, folder, "hq-admin", at))


def materialise(database: Database, folder) -> trust.Materialised:
    return database.run(lambda session: trust.materialise(session, folder))


def revocation(document: dict[int, bytes], store: CscaStore):
    return verify(document, store, at=NOW).check("dsc.revocation")


def test_a_crl_published_at_headquarters_revokes_at_a_running_post_gate(database, tmp_path, revoked_document):
    hq, post = tmp_path / "hq-csca", tmp_path / "post-csca"
    hq.mkdir()
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    assert len(publish(database, hq).added) == 1
    digest = PKI.csca.certificate.fingerprint(SHA256()).hex()
    assert materialise(database, post).written == [f"hq-csca-{digest[:24]}.pem"]
    gate = CscaStore()  # what a gate at the post loads at start, and keeps re-reading the CRLs of
    gate.load_dir(post)
    refresher = CrlRefresher(gate, [post], every_s=3600)
    assert revocation(revoked_document, gate).status is CheckStatus.NOT_DONE  # no CRL yet: not revoked
    (hq / "uto.crl").write_bytes(PKI.crl.public_bytes(Encoding.DER))
    published = publish(database, hq)
    assert (len(published.added), published.unchanged) == (1, 1)
    assert [name.startswith("hq-crl-") for name in materialise(database, post).written] == [True]
    assert [load.status for load in refresher.refresh()] == ["accepted"]
    check = revocation(revoked_document, gate)
    assert check.status is CheckStatus.FAIL and "revoked on" in check.reason
    fresh = CscaStore()  # a gate started afterwards has it from the start
    fresh.load_dir(post)
    assert revocation(revoked_document, fresh).status is CheckStatus.FAIL


def test_what_the_pki_import_commands_wrote_at_headquarters_is_what_the_post_trusts(database, tmp_path):
    hq, post = tmp_path / "hq-csca", tmp_path / "post-csca"
    hq.mkdir()
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    assert import_ldif(pkd_ldif([PKI]), hq, at=NOW)["refused"] == 0  # master list, 3 DSCs, CRL
    published = publish(database, hq)
    kinds = database.run(lambda s: sorted(row.kind for row in s.scalars(select(m.TrustObject))))
    assert kinds == ["crl", "csca", "dsc", "dsc", "dsc"] and len(published.added) == 5
    materialise(database, post)
    at_hq, at_post = trust.load_folder(hq), trust.load_folder(post)
    assert {c.der for c in at_post.cscas} == {c.der for c in at_hq.cscas}
    assert {c.der for c in at_post.dscs} == {c.der for c in at_hq.dscs}
    assert at_post.crls == at_hq.crls
    assert materialise(database, post).to_dict() == {"written": [], "removed": [], "unchanged": 5}
    assert publish(database, hq).to_dict() == {"added": [], "removed": [], "unchanged": 5}


def test_a_csca_accepted_with_deviations_at_headquarters_is_accepted_at_the_post(database, tmp_path):
    hq, post = tmp_path / "hq-csca", tmp_path / "post-csca"
    hq.mkdir()
    not_a_ca = faulty_csca(PKI.csca, "no-basic-constraints")
    with pytest.raises(trust.TrustError, match="not a CA certificate"):  # refused as a plain file, as gates do
        (hq / "odd.der").write_bytes(not_a_ca)
        publish(database, hq)
    (hq / "odd.der").unlink()
    # `limes pki import-master-list` marks what a master list vouched for despite deviations
    (hq / "odd.pem").write_bytes(b"Limes-Deviations-Accepted: no basicConstraints\n"
                                 + pem.armor("CERTIFICATE", not_a_ca))
    publish(database, hq)
    row = database.run(lambda s: s.scalars(select(m.TrustObject)).one())
    assert row.deviations_accepted
    materialise(database, post)
    assert [c.der for c in trust.load_folder(post).cscas] == [not_a_ca]


def test_what_headquarters_removes_leaves_the_post_and_files_of_the_post_stay(database, tmp_path):
    hq, post = tmp_path / "hq-csca", tmp_path / "post-csca"
    hq.mkdir()
    post.mkdir()
    other = make_test_pki("D", now=NOW)
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    (hq / "d.pem").write_bytes(other.csca.certificate.public_bytes(Encoding.PEM))
    (post / "local.pem").write_bytes(other.csca.certificate.public_bytes(Encoding.PEM))  # put there by hand
    publish(database, hq)
    materialise(database, post)
    (hq / "uto.pem").unlink()
    published = publish(database, hq, at=NOW + dt.timedelta(days=1))
    assert len(published.removed) == 1 and published.unchanged == 1
    removed = database.run(lambda s: s.scalars(select(m.TrustObject).where(m.TrustObject.removed_at.is_not(None)))
                           .one().sha256)
    assert removed == published.removed[0]
    done = materialise(database, post)
    assert len(done.removed) == 1 and done.removed[0].startswith("hq-csca-")
    assert {c.der for c in trust.load_folder(post).cscas} == {other.csca.certificate.public_bytes(Encoding.DER)}
    assert (post / "local.pem").exists()
    # Put back at headquarters, it comes back at the post.
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    assert publish(database, hq).added == removed.split()
    assert len(materialise(database, post).written) == 1


def test_a_folder_that_does_not_load_publishes_nothing(database, tmp_path):
    hq = tmp_path / "hq-csca"
    hq.mkdir()
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    publish(database, hq)
    (hq / "broken.crl").write_bytes(b"\x30\x03\x02\x01\x00")
    with pytest.raises(trust.TrustError, match="not a PEM or DER CRL"):
        publish(database, hq)
    with pytest.raises(trust.TrustError, match="does not exist"):
        publish(database, tmp_path / "nowhere")
    assert database.run(lambda s: [(r.kind, r.removed_at) for r in s.scalars(select(m.TrustObject))]) == [
        ("csca", None)]


def test_the_trust_commands_publish_and_materialise(database, tmp_path, capsys):
    hq, post = tmp_path / "hq-csca", tmp_path / "post-csca"
    hq.mkdir()
    (hq / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    (hq / "uto.crl").write_bytes(PKI.crl.public_bytes(Encoding.DER))
    url = database.url
    assert main(["central", "sites", "trust", "publish", "--database", url, "--store", str(hq), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["added"]) == 2
    assert main(["central", "sites", "trust", "materialise", "--database", url, "--store", str(post), "--json"]) == 0
    assert sorted(name[:7] for name in json.loads(capsys.readouterr().out)["written"]) == ["hq-crl-", "hq-csca"]
    assert main(["central", "sites", "trust", "publish", "--database", url, "--store", str(tmp_path / "no")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_a_trust_object_of_a_kind_this_build_does_not_know_stops_materialising_and_says_so(database, tmp_path):
    database.run(lambda s: s.add(m.TrustObject(kind="future", sha256="ab" * 32, der=b"\x30\x00", description="",
                                               added_by="hq-admin")))
    with pytest.raises(trust.TrustError, match="kind 'future', none of csca, dsc, crl, deviation_list"):
        materialise(database, tmp_path / "post-csca")
