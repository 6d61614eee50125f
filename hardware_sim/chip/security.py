"""What a virtual chip offers beyond BAC, and the keys and files that go with it.

A `ChipProfile` names the access control (BAC, PACE protocols), Chip
Authentication and Active Authentication a chip offers. `make_keys` creates
its private keys; `security_files` builds what publishes them:

* EF.CardAccess (Master File, unsigned): a PACEInfo per PACE protocol;
* EF.CardSecurity (Master File, signed by the Document Signer): those
  PACEInfos and the Chip Authentication infos, when the chip offers PACE;
* DG14: PACE, Chip Authentication and (for ECDSA) Active Authentication infos;
* DG15: the Active Authentication public key.

DG14 and DG15 are hashed into the SOD by the personaliser like any data
group, so a chip that copies them cannot change them. Chip Authentication
keys are published with explicit curve parameters, as Doc 9303 asks.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field, replace
from typing import Callable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from drivers.emrtd.chipauth.aa import ECDSA_PLAIN_SHA256
from drivers.emrtd.chipauth.ca import CaProtocol, ChipAuthenticationError
from drivers.emrtd.lds import dg14, dg15
from drivers.emrtd.lds.cardaccess import (
    ID_PK_DH,
    ID_PK_ECDH,
    encode_aa_info,
    encode_ca_info,
    encode_ca_public_key_info,
    encode_pace_domain_parameter_info,
    encode_pace_info,
    encode_security_infos,
)
from drivers.emrtd.lds.cardsecurity import SECURITY_OBJECT_OID
from drivers.emrtd.lds.publickey import encode_dh_public_key, encode_domain_parameters, encode_ec_public_key
from drivers.emrtd.pace import PaceError, PaceProtocol, standard_group
from drivers.emrtd.pace.curves import Curve, GroupError
from drivers.emrtd.pace.groups import EcGroup, Group, ModpGroup, ec_group
from drivers.emrtd.pace.protocol import FIRST_PROPRIETARY_PARAMETER_ID, pace_group

DEFAULT_EC_PARAMETERS = 13  # brainpoolP256r1, the usual choice of issuing states
DEFAULT_DH_PARAMETERS = 2  # the 2048-bit MODP group with a 256-bit subgroup
AA_HASHES = {"SHA1": "sha1", "SHA224": "sha224", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512"}
ECDSA_PLAIN = {"sha224": "0.4.0.127.0.7.1.1.4.1.2", "sha256": ECDSA_PLAIN_SHA256,
               "sha384": "0.4.0.127.0.7.1.1.4.1.4", "sha512": "0.4.0.127.0.7.1.1.4.1.5"}
_LIBRARY_CURVES = {"P256": ec.SECP256R1, "P384": ec.SECP384R1, "P521": ec.SECP521R1,
                   "BRAINPOOLP256R1": ec.BrainpoolP256R1, "BRAINPOOLP384R1": ec.BrainpoolP384R1,
                   "BRAINPOOLP512R1": ec.BrainpoolP512R1}


@dataclass(frozen=True)
class PaceOffer:
    protocol: PaceProtocol
    parameter_id: int  # as the PACEInfo announces it: a standardized id, or a proprietary one (explicit)
    explicit: int | None = None  # the standardized id whose parameters the chip gives explicitly instead
    other_generator: bool = False  # ... with another generator: as strong, but not a standardized group

    @classmethod
    def parse(cls, text: str) -> "PaceOffer":
        """'ECDH-GM-AES-128' or 'DH-IM-3DES:0' (protocol name, optionally ':' the domain parameter id);
        'ECDH-GM-AES-128:13@32' gives id 13's parameters explicitly (PACEDomainParameterInfo) under
        the proprietary id 32, 'ECDH-GM-AES-128:13@32/other-generator' the same with another generator."""
        offer, _, variant = text.partition("/")
        offer, _, proprietary = offer.partition("@")
        name, _, number = offer.partition(":")
        try:
            protocol = PaceProtocol.from_name(name.strip())
            default = DEFAULT_EC_PARAMETERS if protocol.agreement == "ECDH" else DEFAULT_DH_PARAMETERS
            parameter_id = int(number) if number else default
            pace_group(protocol, parameter_id)  # do protocol and parameters fit?
            explicit_id = int(proprietary) if proprietary else None
        except PaceError as error:
            raise ValueError(f"PACE offer {text!r}: {error}") from error
        except ValueError:
            raise ValueError(f"PACE offer {text!r}: domain parameter ids must be numbers") from None
        if variant not in ("", "other-generator"):
            raise ValueError(f"PACE offer {text!r}: the only variant is '/other-generator'")
        if variant and explicit_id is None:
            raise ValueError(f"PACE offer {text!r}: '/other-generator' needs explicit parameters ('@ID')")
        if explicit_id is None:
            return cls(protocol, parameter_id)
        if not FIRST_PROPRIETARY_PARAMETER_ID <= explicit_id <= 0xFF:
            raise ValueError(f"PACE offer {text!r}: explicit parameters need a proprietary id "
                             f"({FIRST_PROPRIETARY_PARAMETER_ID}-255)")
        return cls(protocol, explicit_id, parameter_id, bool(variant))

    @property
    def group(self) -> Group:
        if self.explicit is None:
            return standard_group(self.parameter_id)
        return with_other_generator(self.explicit) if self.other_generator else standard_group(self.explicit)

    def __str__(self) -> str:
        if self.explicit is None:
            return f"{self.protocol.name}:{self.parameter_id}"
        variant = "/other-generator" if self.other_generator else ""
        return f"{self.protocol.name}:{self.explicit}@{self.parameter_id}{variant}"


@functools.cache
def with_other_generator(parameter_id: int) -> Group:
    """A standardized group with its generator doubled (squared): the same subgroup, so as strong,
    yet not Doc 9303's parameters, which is all a reader can know of explicit ones."""
    group = standard_group(parameter_id)
    generator = group.power(group.generator, 2)
    if isinstance(group, EcGroup):
        curve = group.curve
        return ec_group(Curve.explicit(curve.p, curve.a, curve.b, generator, curve.n, curve.h))
    return ModpGroup(f"{group.name}, other generator", group.prime, generator, group.order)


@dataclass(frozen=True)
class ChipProfile:
    """What the chip offers. Text forms: pace 'ECDH-GM-AES-128[:13]', ca 'ECDH-AES-128[:13]' or
    'DH-3DES[:2]', aa 'RSA-2048[-SHA256]' or 'ECDSA-P256[-SHA256]'."""

    bac: bool = True
    pace: tuple[PaceOffer, ...] = ()
    ca: str | None = None
    aa: str | None = None
    can: str | None = None  # the Card Access Number printed on the document (PACE's second password)

    @classmethod
    def build(cls, *, bac: bool = True, pace: tuple[str, ...] | list[str] = (), ca: str | None = None,
              aa: str | None = None, can: str | None = None) -> "ChipProfile":
        profile = cls(bac, tuple(PaceOffer.parse(p) for p in pace), ca, aa, can)
        if not profile.bac and not profile.pace:
            raise ValueError("a chip without BAC must offer PACE")
        if profile.ca:
            _ca_spec(profile.ca)
        if profile.aa:
            _aa_spec(profile.aa)
        if can is not None and not (can.isdigit() and len(can) == 6):
            raise ValueError(f"CAN must be six digits, got {can!r}")
        cams = {offer.parameter_id for offer in profile.pace if offer.protocol.mapping == "CAM"}
        if len(cams) > 1:
            raise ValueError("PACE-CAM offers must share one domain parameter id (it is the CA key's id)")
        for offer in profile.pace:
            if any(other.parameter_id == offer.parameter_id and other.group is not offer.group
                   for other in profile.pace):
                raise ValueError(f"PACE offers under id {offer.parameter_id} must share its domain parameters")
        return profile

    @property
    def cam(self) -> PaceOffer | None:
        return next((offer for offer in self.pace if offer.protocol.mapping == "CAM"), None)

    def describe(self) -> str:
        parts = (["BAC"] if self.bac else []) + [f"PACE {offer}" for offer in self.pace]
        parts += [f"CA {self.ca}"] if self.ca else []
        parts += [f"AA {self.aa}"] if self.aa else []
        return ", ".join(parts)


def _ca_spec(text: str) -> tuple[CaProtocol, int]:
    name, _, number = text.partition(":")
    try:
        protocol = CaProtocol.from_name(name.strip())
        parameter_id = int(number) if number else (DEFAULT_EC_PARAMETERS if protocol.agreement == "ECDH"
                                                   else DEFAULT_DH_PARAMETERS)
        kind = standard_group(parameter_id).kind
    except (ChipAuthenticationError, GroupError) as error:
        raise ValueError(f"CA {text!r}: {error}") from error
    except ValueError:
        raise ValueError(f"CA {text!r}: domain parameter id must be a number") from None
    if kind != protocol.agreement:
        raise ValueError(f"CA {text}: parameter id {parameter_id} does not fit {protocol.agreement}")
    return protocol, parameter_id


def ca_protocol(profile: ChipProfile) -> CaProtocol | None:
    """The Chip Authentication protocol the chip runs (announced in DG14), if any."""
    return _ca_spec(profile.ca)[0] if profile.ca else None


def _aa_spec(text: str) -> tuple[str, str, str]:
    """(kind 'RSA'/'ECDSA', size or curve, hash name)."""
    parts = text.upper().split("-")
    if len(parts) not in (2, 3) or parts[0] not in ("RSA", "ECDSA"):
        raise ValueError(f"AA {text!r}: expected RSA-<bits>[-<hash>] or ECDSA-<curve>[-<hash>]")
    kind, size = parts[0], parts[1]
    hash_name = AA_HASHES.get(parts[2] if len(parts) == 3 else ("SHA1" if kind == "RSA" else "SHA256"))
    if hash_name is None:
        raise ValueError(f"AA {text!r}: unknown hash; one of {', '.join(AA_HASHES)}")
    if kind == "RSA" and (not size.isdigit() or int(size) not in (1024, 1536, 2048, 3072)):
        raise ValueError(f"AA {text!r}: RSA key sizes 1024, 1536, 2048 or 3072")
    if kind == "ECDSA" and (size not in _LIBRARY_CURVES or hash_name == "sha1"):
        raise ValueError(f"AA {text!r}: curves {', '.join(_LIBRARY_CURVES)} with SHA-224 to SHA-512")
    return kind, size, hash_name


@dataclass(frozen=True)
class ChipKeys:
    """The chip's private keys (what a copy of its files does not give)."""

    ca_group: Group | None = field(default=None, repr=False)
    ca_private: int | None = field(default=None, repr=False)
    ca_key_id: int | None = None
    aa_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    aa_hash: str = "sha1"

    def counterfeit(self, random: Callable[[int], bytes] = os.urandom) -> "ChipKeys":
        """Keys of the same kinds that are not these: what a cloned chip has."""
        aa_key = self.aa_key
        if isinstance(aa_key, rsa.RSAPrivateKey):
            aa_key = rsa.generate_private_key(public_exponent=65537, key_size=aa_key.key_size)
        elif aa_key is not None:
            aa_key = ec.generate_private_key(aa_key.curve)
        ca_private = self.ca_group.private_key(random) if self.ca_group is not None else None
        return replace(self, ca_private=ca_private, aa_key=aa_key)


def make_keys(profile: ChipProfile, random: Callable[[int], bytes] = os.urandom) -> ChipKeys:
    ca_group, key_id = None, None
    if profile.cam is not None:
        ca_group, key_id = profile.cam.group, profile.cam.parameter_id
    elif profile.ca:
        ca_group = standard_group(_ca_spec(profile.ca)[1])
    aa_key, aa_hash = None, "sha1"
    if profile.aa:
        kind, size, aa_hash = _aa_spec(profile.aa)
        aa_key = (rsa.generate_private_key(public_exponent=65537, key_size=int(size)) if kind == "RSA"
                  else ec.generate_private_key(_LIBRARY_CURVES[size]()))
    return ChipKeys(ca_group, ca_group.private_key(random) if ca_group else None, key_id, aa_key, aa_hash)


def _ca_public_key(keys: ChipKeys) -> bytes:
    group = keys.ca_group
    public = group.power(group.generator, keys.ca_private)
    if isinstance(group, EcGroup):
        return encode_ca_public_key_info(ID_PK_ECDH, encode_ec_public_key(group.curve, public), keys.ca_key_id)
    return encode_ca_public_key_info(ID_PK_DH, encode_dh_public_key(group, public), keys.ca_key_id)


def _domain_parameter_protocol(offer: PaceOffer) -> str:
    """id-PACE-ECDH-GM, id-PACE-DH-IM, ...: the PACE OID without its cipher arc."""
    return offer.protocol.oid.rsplit(".", 1)[0]


def security_files(profile: ChipProfile, keys: ChipKeys, sign: Callable[[str, bytes], bytes]
                   ) -> tuple[dict[int, bytes], dict[int, bytes]]:
    """(data groups {14: DG14, 15: DG15} as the chip needs, Master File files {FID: bytes}).
    sign(content_type, content) makes the CMS SignedData for EF.CardSecurity."""
    pace_infos = [encode_pace_info(offer.protocol.oid, offer.parameter_id) for offer in profile.pace]
    explicit = {offer.parameter_id: offer for offer in profile.pace if offer.explicit is not None}
    pace_infos += [encode_pace_domain_parameter_info(_domain_parameter_protocol(offer), encode_domain_parameters(
        offer.group), parameter_id) for parameter_id, offer in explicit.items()]
    ca_infos = []
    if keys.ca_group is not None:
        if profile.ca:
            ca_infos.append(encode_ca_info(_ca_spec(profile.ca)[0].oid, keys.ca_key_id))
        ca_infos.append(_ca_public_key(keys))
    aa_infos = []
    groups: dict[int, bytes] = {}
    if keys.aa_key is not None:
        public = keys.aa_key.public_key().public_bytes(serialization.Encoding.DER,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
        groups[15] = dg15.encode(public)
        if isinstance(keys.aa_key, ec.EllipticCurvePrivateKey):
            aa_infos.append(encode_aa_info(ECDSA_PLAIN[keys.aa_hash]))
    if pace_infos or ca_infos or aa_infos:
        groups[14] = dg14.encode(pace_infos + ca_infos + aa_infos)
    master: dict[int, bytes] = {}
    if pace_infos:
        master[0x011C] = encode_security_infos(pace_infos)
        master[0x011D] = sign(SECURITY_OBJECT_OID, encode_security_infos(pace_infos + ca_infos))
    return groups, master


def aa_hash_algorithm(name: str) -> hashes.HashAlgorithm:
    return {"sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
            "sha512": hashes.SHA512}[name]()


# Named profiles for the command line, the scenarios and the benchmark.
PROFILES = {
    "bac": ChipProfile.build(),
    "passport": ChipProfile.build(pace=["ECDH-GM-AES-128"], ca="ECDH-AES-128", aa="RSA-2048"),
    "pace-cam": ChipProfile.build(pace=["ECDH-CAM-AES-128", "ECDH-GM-AES-128"], ca="ECDH-AES-128",
                                  aa="ECDSA-BRAINPOOLP256R1"),
    "id-card": ChipProfile.build(bac=False, pace=["ECDH-GM-AES-128"], ca="ECDH-AES-128", can="123456"),
    "bac-aa": ChipProfile.build(aa="RSA-1024"),
}
