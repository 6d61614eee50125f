"""EF.CardSecurity (Doc 9303 Part 11 section 9.2.11): a copy of the chip's
SecurityInfos (EF.CardAccess's and the Chip Authentication public keys)
signed by the Document Signer, in the Master File. PACE with the Chip
Authentication Mapping takes the chip's static key from here."""
from __future__ import annotations

from dataclasses import dataclass, field

from drivers.emrtd.lds.cardaccess import SecurityInfo, parse_security_infos
from drivers.emrtd.lds.cms import SignedContent, parse_signed_data

FILE = "EF.CardSecurity"
SECURITY_OBJECT_OID = "0.4.0.127.0.7.3.2.1"  # id-SecurityObject (bsi-de)


@dataclass(frozen=True)
class CardSecurity:
    infos: tuple[SecurityInfo, ...]
    signed: SignedContent = field(repr=False)


def parse(data: bytes) -> CardSecurity:
    """A ContentInfo with SignedData of id-SecurityObject holding SecurityInfos; LdsError otherwise."""
    signed = parse_signed_data(data, SECURITY_OBJECT_OID, FILE)
    return CardSecurity(tuple(parse_security_infos(signed.content, FILE)), signed)
