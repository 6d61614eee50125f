"""Deviation lists (Doc 9303 Part 12 section 10), made with the test PKI: verified against the store's
CSCAs, their deviations shown beside the certificates they name, hostile lists refused with a reason."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.checks import CheckStatus
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.passiveauth import CscaStore, deviationlist
from drivers.emrtd.passiveauth.store import StoreError
from drivers.emrtd.passiveauth.verify import verify
from hardware_sim.chip.hosting import synthetic_photo
from hardware_sim.chip.personalise import personalise
from hardware_sim.pki import make_deviation_list, make_test_pki, pkd_ldif

NOW = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
PKI = make_test_pki("UTO", now=NOW)
OTHER = make_test_pki("D", now=NOW)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
DG_HASH = f"{deviationlist.DEVIATION_LIST_OID}.2.2"
CSCA_ENCODING = f"{deviationlist.DEVIATION_LIST_OID}.1.3"


def _by_issuer_and_serial(signer) -> dict:
    return {"issuer_and_serial": (signer.certificate.issuer.public_bytes(), signer.certificate.serial_number)}


def _store() -> CscaStore:
    return CscaStore.from_certificates([PKI.csca.certificate])


def test_a_list_names_certificates_by_issuer_and_serial_key_identifier_or_digest():
    ski = PKI.dsc.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    csca_digest = hashlib.sha256(PKI.csca.certificate.public_bytes(Encoding.DER)).digest()
    data = make_deviation_list(PKI, [
        (_by_issuer_and_serial(PKI.dsc), [(DG_HASH, "DG2 hash of the 2024 issues")]),
        ({"key_identifier": ski}, [(f"{deviationlist.DEVIATION_LIST_OID}.3.2", None)]),
        ({"certificate_digest": csca_digest}, [(CSCA_ENCODING, "country name as UTF8String")]),
        ({"document_type": "P", "issued": (dt.date(2024, 1, 1), dt.date(2024, 6, 30)),
          "document_numbers": ["C01X00T47"]}, [(DG_HASH, None)]),
    ], now=NOW)
    store = _store()
    assert store.add_deviation_list(data, at=NOW) == "accepted"
    assert store.add_deviation_list(data, at=NOW) == "duplicate"
    assert len(store.deviations) == 4
    store.add_dsc(PKI.dsc.certificate.public_bytes(Encoding.DER))
    dsc = store.dscs[0]
    assert sorted(store.listed_deviations(dsc)) == ["MRZ check digit wrong",
                                                    "data group hash wrong: DG2 hash of the 2024 issues"]
    assert store.listed_deviations(store.cscas[0]) == ("CSCA certificate encoding: country name as UTF8String",)
    documents = next(d for d in store.deviations if d.document_type)
    assert documents.to_dict()["issued"] == ["2024-01-01", "2024-06-30"]
    assert documents.document_numbers == ("C01X00T47",)


def test_the_chain_check_shows_what_the_deviation_list_says():
    files = personalise(TD3, synthetic_photo(3), PKI)
    store = _store()
    store.add_deviation_list(make_deviation_list(PKI, [(_by_issuer_and_serial(PKI.dsc), [(DG_HASH, "DG2")])],
                                                 now=NOW), at=NOW)
    chain = verify(files, store, at=NOW).check("dsc.chain")
    assert chain.status is CheckStatus.PASS
    assert "deviation list: data group hash wrong: DG2" in chain.reason


@pytest.mark.parametrize("make, reason", [
    (lambda: make_deviation_list(PKI, [], now=NOW, eku=None), "lacks the deviationListSigningKey"),
    (lambda: make_deviation_list(OTHER, [], now=NOW), "not issued by a trusted CSCA"),
    (lambda: make_deviation_list(PKI, [], now=NOW - dt.timedelta(days=4 * 366)), "not valid at"),
    (lambda: PKI.master_list, "encapsulated content type"),
    (lambda: b"\x30\x03\x02\x01\x00", "deviation list unreadable"),
])
def test_lists_that_cannot_be_trusted_are_refused_with_the_reason(make, reason):
    store = _store()
    with pytest.raises(StoreError, match=reason):
        store.add_deviation_list(make(), at=NOW)
    assert store.deviations == ()


def test_a_tampered_list_is_refused():
    data = make_deviation_list(PKI, [(_by_issuer_and_serial(PKI.dsc), [(DG_HASH, "DG2 of 2024")])], now=NOW)
    tampered = data.replace(b"DG2 of 2024", b"DG2 of 2025")
    assert tampered != data
    with pytest.raises(StoreError, match="signature invalid"):
        _store().add_deviation_list(tampered, at=NOW)


FUZZ_BASE = make_deviation_list(PKI, [(_by_issuer_and_serial(PKI.dsc), [(DG_HASH, "x")])], now=NOW)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzzed_lists_give_a_clear_error_or_a_list(data):
    base = bytearray(FUZZ_BASE)
    for _ in range(data.draw(st.integers(1, 6))):
        base[data.draw(st.integers(0, len(base) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(base)))
    try:
        deviationlist.parse(bytes(base[:cut]))
    except LdsError:
        pass
    try:
        _store().add_deviation_list(bytes(base[:cut]), at=NOW)
    except StoreError:
        pass


def test_import_ldif_keeps_a_deviation_list_that_pki_list_then_shows(tmp_path):
    """Through the command line, as an operator runs it: import-ldif writes the list into the store, and
    `pki list --dscs --json` shows the deviation beside the certificate it names."""
    store_dir = tmp_path / "csca"
    store_dir.mkdir()
    (store_dir / "uto.pem").write_bytes(PKI.csca.certificate.public_bytes(Encoding.PEM))
    listed = make_deviation_list(PKI, [(_by_issuer_and_serial(PKI.dsc), [(DG_HASH, "DG2 of 2024")])])
    ldif_file = tmp_path / "icaopkd.ldif"
    ldif_file.write_bytes(pkd_ldif([PKI], deviation_lists={"UTO": listed}))
    env = {**os.environ, "LIMES_VAR_DIR": str(tmp_path / "var")}

    def limes(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "limes", "pki", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    imported = limes("import-ldif", str(ldif_file), "--store", str(store_dir), "--json")
    result = json.loads(imported.stdout)
    assert imported.returncode == 0, imported.stderr
    assert [(e["kind"], e["status"]) for e in result["entries"]][-1] == ("deviation-list", "accepted")
    assert any(path.endswith(".dvl") for path in result["written"])

    listing = limes("list", "--store", str(store_dir), "--dscs", "--json")
    assert listing.returncode == 0, listing.stderr
    shown = json.loads(listing.stdout)
    assert shown["deviation_lists"] == 1
    dsc = next(row for row in shown["dscs"] if row["serial"] == str(PKI.dsc.certificate.serial_number))
    assert dsc["listed_deviations"] == ["data group hash wrong: DG2 of 2024"] and dsc["issued_by_store_csca"]
