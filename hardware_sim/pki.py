"""A throw-away ICAO PKI for test documents: a Country Signing CA, Document
Signers (valid, expired, revoked), a CRL and a signed CSCA master list.

The API speaks ICAO three-letter state codes; certificates carry the ISO
two-letter code in C=, as real ones do (UTO -> UT for the ICAO test state).
"""
from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import ldif
from asn1crypto import cms, core
from asn1crypto import keys as asn1_keys
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from drivers.emrtd.lds.publickey import encode_ec_public_key, parse_public_key
from drivers.emrtd.passiveauth import deviationlist
from drivers.emrtd.passiveauth.countries import iso2
from drivers.emrtd.passiveauth.masterlist import MASTER_LIST_OID, MASTER_LIST_SIGNER_EKU, encode_content

# ecdsa-brainpool-explicit: brainpoolP256r1 keys whose certificates spell the curve's parameters
# out instead of naming it, as several states' CSCAs and Document Signers do.
KeyKind = Literal["ecdsa-p256", "ecdsa-brainpool-explicit", "rsa-2048", "rsa-pss-2048"]
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

_HASHES = {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
           "sha384": hashes.SHA384, "sha512": hashes.SHA512}
_YEAR = dt.timedelta(days=365)


@dataclass(frozen=True)
class Signer:
    """A certificate with its private key and the signature scheme it uses."""
    certificate: x509.Certificate
    key: PrivateKey
    pss: bool = False  # RSA keys: sign with RSASSA-PSS instead of PKCS#1 v1.5

    def sign(self, data: bytes, hash_alg: str = "sha256", key: PrivateKey | None = None) -> bytes:
        """Sign data; `key` overrides the signer's own key (for forged documents)."""
        key = key or self.key
        algorithm = _HASHES[hash_alg]()
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(algorithm))
        return key.sign(data, _rsa_padding(self.pss, algorithm), algorithm)

    def signature_algorithm(self, hash_alg: str) -> dict:
        """The CMS signatureAlgorithm value (asn1crypto native form)."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return {"algorithm": f"{hash_alg}_ecdsa"}
        if self.pss:
            size = _HASHES[hash_alg].digest_size
            return {"algorithm": "rsassa_pss", "parameters": {
                "hash_algorithm": {"algorithm": hash_alg},
                "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": {"algorithm": hash_alg}},
                "salt_length": size,
                "trailer_field": "trailer_field_bc"}}
        return {"algorithm": f"{hash_alg}_rsa"}


def _rsa_padding(pss: bool, algorithm: hashes.HashAlgorithm) -> padding.AsymmetricPadding:
    if pss:
        return padding.PSS(mgf=padding.MGF1(algorithm), salt_length=algorithm.digest_size)
    return padding.PKCS1v15()


@dataclass(frozen=True)
class TestPki:
    __test__ = False  # not a pytest test class, despite the name

    country: str  # ICAO three-letter code
    key_kind: str
    csca: Signer
    dsc: Signer
    expired_dsc: Signer  # validity ended before `now`
    revoked_dsc: Signer  # listed on the CRL
    master_list_signer: Signer
    crl: x509.CertificateRevocationList
    master_list: bytes  # DER ContentInfo, the content of a .ml file

    def save(self, directory: Path) -> None:
        """Write every certificate, key and the CRL as PEM, the master list as DER."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name, signer in self._signers().items():
            (directory / f"{name}.pem").write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
            (directory / f"{name}.key").write_bytes(signer.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        (directory / "crl.pem").write_bytes(self.crl.public_bytes(serialization.Encoding.PEM))
        (directory / "masterlist.ml").write_bytes(self.master_list)
        (directory / "pki.json").write_text(json.dumps({"country": self.country, "key": self.key_kind}))

    @classmethod
    def load(cls, directory: Path) -> "TestPki":
        directory = Path(directory)
        meta = json.loads((directory / "pki.json").read_text())
        pss = meta["key"] == "rsa-pss-2048"

        def signer(name: str) -> Signer:
            certificate = x509.load_pem_x509_certificate((directory / f"{name}.pem").read_bytes())
            key = serialization.load_pem_private_key((directory / f"{name}.key").read_bytes(), None)
            return Signer(certificate, key, pss)  # type: ignore[arg-type]

        return cls(meta["country"], meta["key"], signer("csca"), signer("dsc"), signer("dsc-expired"),
                   signer("dsc-revoked"), signer("mls"),
                   x509.load_pem_x509_crl((directory / "crl.pem").read_bytes()),
                   (directory / "masterlist.ml").read_bytes())

    def _signers(self) -> dict[str, Signer]:
        return {"csca": self.csca, "dsc": self.dsc, "dsc-expired": self.expired_dsc,
                "dsc-revoked": self.revoked_dsc, "mls": self.master_list_signer}


def new_key(kind: str) -> PrivateKey:
    if kind == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ecdsa-brainpool-explicit":
        return ec.generate_private_key(ec.BrainpoolP256R1())
    if kind in ("rsa-2048", "rsa-pss-2048"):
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key kind {kind!r}: use ecdsa-p256, ecdsa-brainpool-explicit, rsa-2048 or rsa-pss-2048")


def subject_name(country: str, common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, country),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Limes test PKI"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def key_usage(**flags: bool) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: flags.get(name, False) for name in names})


def issue(subject: x509.Name, key: PrivateKey, issuer: Signer | None, not_before: dt.datetime,
           not_after: dt.datetime, *, ca: bool, usage: x509.KeyUsage,
           eku: str | None = None, pss: bool = False, explicit_curve: bool = False) -> Signer:
    """A certificate for key, signed by issuer (self-signed when issuer is None);
    explicit_curve: an EC key's domain parameters spelt out rather than named."""
    signing_key = issuer.key if issuer else key
    issuer_name = issuer.certificate.subject if issuer else subject
    issuer_public = signing_key.public_key()
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
               .add_extension(usage, critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public),
                              critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(eku)]), critical=True)
    algorithm = hashes.SHA256()
    rsa_padding = _rsa_padding(pss, algorithm) if isinstance(signing_key, rsa.RSAPrivateKey) else None
    certificate = builder.sign(signing_key, algorithm, rsa_padding=rsa_padding)
    if explicit_curve:
        certificate = _with_explicit_curve(certificate, signing_key, algorithm)
    return Signer(certificate, key, pss)


def _with_explicit_curve(certificate: x509.Certificate, signing_key: ec.EllipticCurvePrivateKey,
                         algorithm: hashes.HashAlgorithm) -> x509.Certificate:
    """The certificate with its EC key's curve given by explicit parameters, signed again."""
    original = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    tbs = original["tbs_certificate"]
    key = parse_public_key(tbs["subject_public_key_info"].dump(), "certificate")  # the named curve, as ours
    tbs["subject_public_key_info"] = asn1_keys.PublicKeyInfo.load(
        encode_ec_public_key(key.group.curve, key.public, named=False))
    tbs_der = tbs.dump(force=True)
    signed = asn1_x509.Certificate({
        "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
        "signature_algorithm": original["signature_algorithm"],
        "signature_value": signing_key.sign(tbs_der, ec.ECDSA(algorithm)),
    })
    return x509.load_der_x509_certificate(signed.dump())


def sign_cms(content_type: str, content: bytes, signer: Signer, hash_alg: str = "sha256", *,
             signing_key: PrivateKey | None = None,
             signing_time: dt.datetime | None = None) -> bytes:
    """DER ContentInfo/SignedData encapsulating content, as ICAO uses for the
    SOD and master lists: signed attributes (contentType, messageDigest,
    signingTime) and the signer's certificate embedded."""
    digest = hashes.Hash(_HASHES[hash_alg]())
    digest.update(content)
    attributes = [
        cms.CMSAttribute({"type": "content_type", "values": [content_type]}),
        cms.CMSAttribute({"type": "message_digest", "values": [digest.finalize()]}),
        cms.CMSAttribute(
            {
                "type": "signing_time",
                "values": [cms.Time(name="utc_time", value=signing_time or dt.datetime.now(dt.timezone.utc))],
            }
        ),
    ]
    attributes.sort(key=lambda a: a.dump())  # DER orders a SET OF by encoding
    signed_attributes = cms.CMSAttributes(attributes)
    certificate = asn1_x509.Certificate.load(signer.certificate.public_bytes(serialization.Encoding.DER))
    signer_info = cms.SignerInfo({
        "version": "v1",
        "sid": cms.SignerIdentifier({"issuer_and_serial_number": {
            "issuer": certificate.issuer, "serial_number": certificate.serial_number}}),
        "digest_algorithm": {"algorithm": hash_alg},
        "signed_attrs": signed_attributes,
        "signature_algorithm": signer.signature_algorithm(hash_alg),
        "signature": signer.sign(signed_attributes.dump(), hash_alg, signing_key),
    })
    signed_data = cms.SignedData({
        "version": "v3",
        "digest_algorithms": [{"algorithm": hash_alg}],
        "encap_content_info": {"content_type": content_type, "content": content},
        "certificates": [certificate],
        "signer_infos": [signer_info],
    })
    return cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump()


def make_test_pki(country: str = "UTO", *, key: KeyKind = "ecdsa-p256", now: dt.datetime | None = None,
                  csca_validity: dt.timedelta = 20 * _YEAR, dsc_validity: dt.timedelta = 10 * _YEAR,
                  revoke_dsc: bool = False) -> TestPki:
    """A complete test PKI for one state, valid at `now` (default: the current time).

    The CSCA's validity starts five years before `now` so that the expired
    Document Signer, which ran from five to one year before `now`, was issued
    inside it. revoke_dsc puts the regular DSC on the CRL as well.
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    code = iso2(country)
    if code is None:
        raise ValueError(f"{country!r} is not an ICAO state code")
    pss, explicit = key == "rsa-pss-2048", key == "ecdsa-brainpool-explicit"
    ca_start = now - 5 * _YEAR
    csca = issue(subject_name(code, f"CSCA {country}"), new_key(key), None, ca_start, ca_start + csca_validity,
                  ca=True, usage=key_usage(key_cert_sign=True, crl_sign=True), pss=pss, explicit_curve=explicit)

    def document_signer(label: str, start: dt.datetime, end: dt.datetime) -> Signer:
        return issue(subject_name(code, f"Document Signer {country} {label}"), new_key(key), csca, start, end,
                      ca=False, usage=key_usage(digital_signature=True), pss=pss, explicit_curve=explicit)

    start = now - dt.timedelta(days=1)
    dsc = document_signer("1", start, start + dsc_validity)
    expired = document_signer("expired", ca_start, now - _YEAR)
    revoked = document_signer("revoked", start, start + dsc_validity)
    mls = issue(subject_name(code, f"Master List Signer {country}"), new_key(key), csca, start, start + 3 * _YEAR,
                 ca=False, usage=key_usage(digital_signature=True), eku=MASTER_LIST_SIGNER_EKU, pss=pss,
                 explicit_curve=explicit)

    crl = make_crl(csca, [revoked] + ([dsc] if revoke_dsc else []), now)
    der = lambda s: s.certificate.public_bytes(serialization.Encoding.DER)  # noqa: E731
    master_list = sign_cms(MASTER_LIST_OID, encode_content([der(csca)]), mls, signing_time=now)
    return TestPki(country, key, csca, dsc, expired, revoked, mls, crl, master_list)


def make_crl(csca: Signer, revoked: list[Signer], now: dt.datetime,
             next_update: dt.timedelta = dt.timedelta(days=90), number: int = 1) -> x509.CertificateRevocationList:
    """A CRL from the CSCA listing the given certificates as revoked a day before `now`
    (thisUpdate a day before `now`, nextUpdate `next_update` after it; CRL number `number`)."""
    builder = (x509.CertificateRevocationListBuilder()
               .issuer_name(csca.certificate.subject)
               .last_update(now - dt.timedelta(days=1))
               .next_update(now + next_update)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(csca.key.public_key()),
                              critical=False)
               .add_extension(x509.CRLNumber(number), critical=False))
    for signer in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(signer.certificate.serial_number)
            .revocation_date(now - dt.timedelta(days=1))
            .build())
    algorithm = hashes.SHA256()
    rsa_padding = _rsa_padding(csca.pss, algorithm) if isinstance(csca.key, rsa.RSAPrivateKey) else None
    return builder.sign(csca.key, algorithm, rsa_padding=rsa_padding)


# -- certificates as real national PKIs make them --------------------------------------------

# faults seen in real CSCA master lists; each one made cryptography's loader drop current CSCAs
CscaFault = Literal["trailing-tbs-data", "no-basic-constraints", "ca-false", "no-key-usage",
                    "serial-zero", "serial-negative"]
CSCA_FAULTS: tuple[str, ...] = ("trailing-tbs-data", "no-basic-constraints", "ca-false", "no-key-usage",
                                "serial-zero", "serial-negative")


def faulty_csca(csca: Signer, fault: CscaFault) -> bytes:
    """DER of `csca`'s certificate with one fault, signed again with its key. Subject and key
    are unchanged, so the Document Signers and master list signer of `csca` chain to it."""
    original = asn1_x509.Certificate.load(csca.certificate.public_bytes(serialization.Encoding.DER))
    tbs = original["tbs_certificate"]
    if fault == "trailing-tbs-data":  # an element after the extensions, inside the TBSCertificate
        tbs_der = asn1_parser.emit(0, 1, 16, tbs.contents + core.OctetString(b"LIMES").dump())
    else:
        if fault in ("no-basic-constraints", "ca-false", "no-key-usage"):
            dropped = "key_usage" if fault == "no-key-usage" else "basic_constraints"
            extensions = [e for e in tbs["extensions"] if e["extn_id"].native != dropped]
            if fault == "ca-false":
                extensions.insert(0, asn1_x509.Extension({"extn_id": "basic_constraints", "critical": True,
                                                          "extn_value": {"ca": False}}))
            tbs["extensions"] = asn1_x509.Extensions(extensions)
        elif fault in ("serial-zero", "serial-negative"):
            tbs["serial_number"] = 0 if fault == "serial-zero" else -0x1234567
        else:
            raise ValueError(f"unknown CSCA fault {fault!r}: use one of {', '.join(CSCA_FAULTS)}")
        tbs_der = tbs.dump(force=True)
    return asn1_x509.Certificate({
        "tbs_certificate": asn1_x509.TbsCertificate.load(tbs_der),
        "signature_algorithm": original["signature_algorithm"],
        "signature_value": csca.sign(tbs_der),
    }).dump()


@dataclass(frozen=True)
class Rollover:
    """A CSCA key roll-over (Doc 9303 Part 12 section 5.5.1): a new self-signed CSCA, the link
    certificate new-by-old (the new key certified by the old) and old-by-new, and a Document
    Signer under the new key. The master list is signed by the old PKI's list signer."""
    old: Signer
    new: Signer
    new_by_old: Signer
    old_by_new: Signer
    dsc: Signer
    master_list: bytes  # lists old, new and both link certificates


def roll_over(pki: TestPki, now: dt.datetime | None = None, *, rename: bool = True) -> Rollover:
    """Roll `pki`'s CSCA over to a new key at `now`; with rename the new CSCA also gets a new
    name (CN 'CSCA <state> 2'), else it keeps the old one."""
    now = now or dt.datetime.now(dt.timezone.utc)
    code, old = iso2(pki.country) or "XX", pki.csca
    name = subject_name(code, f"CSCA {pki.country} 2") if rename else old.certificate.subject
    pss, explicit = pki.key_kind == "rsa-pss-2048", pki.key_kind == "ecdsa-brainpool-explicit"
    usage = key_usage(key_cert_sign=True, crl_sign=True)
    end = now + 15 * _YEAR
    new = issue(name, new_key(pki.key_kind), None, now, end, ca=True, usage=usage, pss=pss, explicit_curve=explicit)
    new_by_old = issue(name, new.key, old, now, old.certificate.not_valid_after_utc, ca=True, usage=usage, pss=pss,
                       explicit_curve=explicit)
    old_by_new = issue(old.certificate.subject, old.key, new, now, old.certificate.not_valid_after_utc, ca=True,
                       usage=usage, pss=pss, explicit_curve=explicit)
    dsc = issue(subject_name(code, f"Document Signer {pki.country} 2"), new_key(pki.key_kind), new, now,
                now + 10 * _YEAR, ca=False, usage=key_usage(digital_signature=True), pss=pss, explicit_curve=explicit)
    der = lambda s: s.certificate.public_bytes(serialization.Encoding.DER)  # noqa: E731
    listed = [der(old), der(new), der(new_by_old), der(old_by_new)]
    master_list = sign_cms(MASTER_LIST_OID, encode_content(listed), pki.master_list_signer, signing_time=now)
    return Rollover(old, new, new_by_old, old_by_new, dsc, master_list)


def make_deviation_list(pki: TestPki, deviations: list[tuple[dict, list[tuple[str, str | None]]]], *,
                        now: dt.datetime | None = None, eku: str | None = deviationlist.DEVIATION_LIST_SIGNER_EKU,
                        digest_algorithm: str | None = "sha256") -> bytes:
    """A deviation list of the test PKI's state (deviationlist.encode_content's arguments), signed by a
    Deviation List Signer its CSCA issues (with the given extended key usage)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    code = iso2(pki.country) or "XX"
    signer = issue(subject_name(code, f"Deviation List Signer {pki.country}"), new_key(pki.key_kind), pki.csca,
                   now - dt.timedelta(days=1), now + 3 * _YEAR, ca=False, usage=key_usage(digital_signature=True),
                   eku=eku, pss=pki.key_kind == "rsa-pss-2048")
    content = deviationlist.encode_content(deviations, digest_algorithm)
    return sign_cms(deviationlist.DEVIATION_LIST_OID, content, signer, signing_time=now)


PKD_BASE = "dc=data,dc=download,dc=pkd,dc=icao,dc=int"


def pkd_ldif(pkis: list[TestPki], *, master_lists: bool = True, dscs: bool = True, crls: bool = True,
             deviation_lists: dict[str, bytes] | None = None) -> bytes:
    """An LDIF file laid out as the ICAO PKD's downloads are: a container entry, then per state its
    master list (o=ml, pkdMasterListContent), Document Signer certificates (o=dsc,
    userCertificate;binary), CRL (o=crl, certificateRevocationList;binary) and deviation list (o=dl,
    pkdDeviationListContent) when deviation_lists has one for its country."""
    out = io.BytesIO()
    writer = ldif.LDIFWriter(out)
    writer.unparse(PKD_BASE, {"objectClass": [b"top", b"domain"], "dc": [b"data"]})
    for pki in pkis:
        c = iso2(pki.country) or "XX"
        branch = f"c={c},{PKD_BASE}"
        if master_lists:
            writer.unparse(f"cn={pki.country} master list,o=ml,{branch}", {
                "objectClass": [b"top", b"person", b"pkdMasterList", b"pkdDownload"],
                "cn": [pki.country.encode()], "sn": [b"1"], "pkdVersion": [b"1"],
                "pkdMasterListContent": [pki.master_list]})
        if dscs:
            for signer in (pki.dsc, pki.expired_dsc, pki.revoked_dsc):
                cert = signer.certificate
                writer.unparse(f"cn={_escape_dn(cert.subject.rfc4514_string())}+sn={cert.serial_number:X},o=dsc,"
                               f"{branch}", {
                                   "objectClass": [b"top", b"person", b"organizationalPerson", b"inetOrgPerson",
                                                   b"pkdDownload"],
                                   "cn": [cert.subject.rfc4514_string().encode()],
                                   "sn": [f"{cert.serial_number:X}".encode()], "pkdVersion": [b"1"],
                                   "userCertificate;binary": [cert.public_bytes(serialization.Encoding.DER)]})
        if crls:
            writer.unparse(f"cn={_escape_dn(pki.crl.issuer.rfc4514_string())},o=crl,{branch}", {
                "objectClass": [b"top", b"cRLDistributionPoint", b"pkdDownload"],
                "cn": [pki.crl.issuer.rfc4514_string().encode()], "pkdVersion": [b"1"],
                "certificateRevocationList;binary": [pki.crl.public_bytes(serialization.Encoding.DER)]})
        if deviation_lists and pki.country in deviation_lists:
            writer.unparse(f"cn={pki.country} deviation list,o=dl,{branch}", {
                "objectClass": [b"top", b"person", b"pkdDeviationList", b"pkdDownload"],
                "cn": [pki.country.encode()], "sn": [b"1"], "pkdVersion": [b"1"],
                "pkdDeviationListContent": [deviation_lists[pki.country]]})
    return out.getvalue()


def _escape_dn(value: str) -> str:
    """An RFC 4514 name as one attribute value inside another DN (as the PKD nests them)."""
    return "".join("\\" + ch if ch in ',+"\\<>;=' else ch for ch in value)
