"""PACE with explicit domain parameters: PACEDomainParameterInfo parsed to its
group, a PACEInfo matched to it, and the rule that explicit parameters are
used only when they are one of Doc 9303's standardized groups."""
from __future__ import annotations

from dataclasses import replace

import pytest
from asn1crypto import core, keys
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.emrtd.lds.cardaccess import (
    PaceDomainParameterInfo,
    PaceInfo,
    encode_pace_domain_parameter_info,
    encode_pace_info,
    encode_security_infos,
    explicit_domain_parameters,
    parse_security_infos,
)
from drivers.emrtd.lds.errors import LdsError
from drivers.emrtd.lds.publickey import (
    DH_PUBLIC_NUMBER,
    EC_PUBLIC_KEY,
    encode_domain_parameters,
    parse_domain_parameters,
)
from drivers.emrtd.pace import PASSWORD_MRZ, PaceProtocol, PaceResult, PaceUnsupported, standard_group
from drivers.emrtd.pace.groups import standard_parameter_id
from drivers.emrtd.pace.protocol import pace_group
from drivers.emrtd.reader import PaceChoice, choose_pace
from hardware_sim.chip.security import with_other_generator

ID_PACE = "0.4.0.127.0.7.2.2.4"
ECDH_GM_AES_128 = ID_PACE + ".2.2"
ECDH_GM_AES_256 = ID_PACE + ".2.4"
DH_GM_AES_128 = ID_PACE + ".1.2"
ECDH_GM, DH_GM = ID_PACE + ".2", ID_PACE + ".1"
STANDARD_IDS = [0, 1, 2, *range(8, 19)]
NOT_KNOWN_SECURE = "explicit domain parameters that are not a standardized group: not known to be secure"


def card_access(*infos: bytes) -> list:
    return parse_security_infos(encode_security_infos(list(infos)))


def domain_info(group, parameter_id: int | None = 32, protocol: str = ECDH_GM) -> bytes:
    return encode_pace_domain_parameter_info(protocol, encode_domain_parameters(group), parameter_id)


# -- parsing -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("parameter_id", STANDARD_IDS)
def test_explicit_parameters_of_a_standardized_group_parse_to_that_group(parameter_id):
    group = standard_group(parameter_id)
    protocol = ECDH_GM if group.kind == "ECDH" else DH_GM
    [info] = card_access(domain_info(group, 32, protocol))
    assert info == PaceDomainParameterInfo(protocol, EC_PUBLIC_KEY if group.kind == "ECDH" else DH_PUBLIC_NUMBER, 32,
                                           encode_domain_parameters(group))
    assert info.group() is group
    assert standard_parameter_id(info.group()) == parameter_id


def test_a_named_curve_is_its_standardized_group():
    group = standard_group(13)
    assert parse_domain_parameters(encode_domain_parameters(group, named=True), "EF.CardAccess") is group


@pytest.mark.parametrize("parameter_id", [2, 13])
def test_explicit_parameters_of_another_group_parse_but_are_not_standardized(parameter_id):
    [info] = card_access(domain_info(with_other_generator(parameter_id)))
    group, standard = info.group(), standard_group(parameter_id)
    assert group.order == standard.order and group.generator != standard.generator
    assert standard_parameter_id(group) is None


def _specified_curve(**changes) -> bytes:
    curve = standard_group(13).curve
    fields = {"version": 1, "field_id": {"field_type": "prime_field", "parameters": curve.p},
              "curve": {"a": curve.a.to_bytes(32, "big"), "b": curve.b.to_bytes(32, "big")},
              "base": curve.encode(curve.generator), "order": curve.n, "cofactor": 1, **changes}
    parameters = keys.ECDomainParameters(name="specified", value=keys.SpecifiedECDomain(fields))
    return _algorithm(EC_PUBLIC_KEY, parameters)


class _AlgorithmIdentifier(core.Sequence):
    _fields = [("algorithm", core.ObjectIdentifier), ("parameters", core.Any, {"optional": True})]


def _algorithm(oid: str, parameters: core.Asn1Value | None) -> bytes:
    fields = {"algorithm": oid}
    if parameters is not None:
        fields["parameters"] = core.Any.load(parameters.dump())
    return _AlgorithmIdentifier(fields).dump()


CURVE = standard_group(13).curve
MALFORMED = {
    "EC without parameters": (_algorithm(EC_PUBLIC_KEY, None), "EC domain parameters missing"),
    "DH without parameters": (_algorithm(DH_PUBLIC_NUMBER, None), "DH domain parameters missing"),
    "RSA": (_algorithm("1.2.840.113549.1.1.1", core.Null()), "not supported"),
    "unknown named curve": (_algorithm(EC_PUBLIC_KEY, core.ObjectIdentifier("1.2.3.4")), "malformed|not one"),
    "wrong order": (_specified_curve(order=CURVE.n - 2), "inconsistent"),
    "compressed base": (_specified_curve(base=b"\x02" + CURVE.gx.to_bytes(32, "big")), "uncompressed"),
    "huge field": (_specified_curve(field_id={"field_type": "prime_field", "parameters": 1 << 4000}),
                   "larger than any Doc 9303 uses"),
    "huge DH prime": (_algorithm(DH_PUBLIC_NUMBER, keys.DomainParameters({"p": (1 << 5000) + 1, "g": 2, "q": 3})),
                      "larger than any Doc 9303 uses"),
    "DH generator out of range": (_algorithm(DH_PUBLIC_NUMBER, keys.DomainParameters({"p": 23, "g": 1, "q": 11})),
                                  "out of range"),
    "parameters not a SEQUENCE": (_algorithm(DH_PUBLIC_NUMBER, core.Integer(5)), "malformed"),
}


@pytest.mark.parametrize("data, reason", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_domain_parameters_are_a_clear_lds_error(data, reason):
    [info] = card_access(encode_pace_domain_parameter_info(ECDH_GM, data, 32))
    with pytest.raises(LdsError, match=reason) as caught:
        info.group()
    assert caught.value.file == "EF.CardAccess"


VALID_PARAMETERS = [encode_domain_parameters(standard_group(13)), encode_domain_parameters(standard_group(2)),
                    encode_domain_parameters(with_other_generator(12))]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VALID_PARAMETERS), st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)),
                                                   min_size=1, max_size=3))
def test_mutated_domain_parameters_give_a_group_or_an_lds_error(original, flips):
    data = bytearray(original)
    for position, mask in flips:
        data[position % len(data)] ^= mask
    try:
        group = parse_domain_parameters(bytes(data), "EF.CardAccess")
    except LdsError:
        return
    assert group.kind in ("ECDH", "DH")


# -- which PACEInfo goes with which PACEDomainParameterInfo ---------------------------------------------------------

def test_standardized_explicit_parameters_under_a_proprietary_id_are_chosen():
    infos = card_access(encode_pace_info(ECDH_GM_AES_128, 32), domain_info(standard_group(13), 32),
                        domain_info(with_other_generator(12), 33))
    choice = choose_pace(infos)
    assert choice == PaceChoice(PaceInfo(ECDH_GM_AES_128, 2, 32), PaceProtocol.from_oid(ECDH_GM_AES_128),
                                standard_group(13))


def test_a_pace_info_without_id_takes_the_only_domain_parameter_info():
    infos = card_access(encode_pace_info(DH_GM_AES_128, None), domain_info(standard_group(1), 40, DH_GM))
    pace_info = next(info for info in infos if isinstance(info, PaceInfo))
    assert explicit_domain_parameters(pace_info, infos) is standard_group(1)
    assert choose_pace(infos).explicit is standard_group(1)


def test_standardized_ids_ignore_domain_parameter_infos():
    infos = card_access(encode_pace_info(ECDH_GM_AES_128, 12), domain_info(with_other_generator(13), 12))
    choice = choose_pace(infos)
    assert choice.explicit is None and choice.info.parameter_id == 12


def test_non_standard_explicit_parameters_are_refused_with_the_reason():
    infos = card_access(encode_pace_info(ECDH_GM_AES_128, 32), domain_info(with_other_generator(13), 32))
    assert choose_pace(infos) == f"{ECDH_GM_AES_128}: {NOT_KNOWN_SECURE}"


def test_a_refused_offer_falls_back_to_the_next_one():
    infos = card_access(encode_pace_info(ECDH_GM_AES_256, 32), domain_info(with_other_generator(13), 32),
                        encode_pace_info(ECDH_GM_AES_128, 13))
    assert choose_pace(infos).info == PaceInfo(ECDH_GM_AES_128, 2, 13)


@pytest.mark.parametrize("pace_id, domains, count", [
    (32, [(standard_group(13), 33)], 0),
    (32, [], 0),
    (32, [(standard_group(13), 32), (standard_group(12), 32)], 2),
    (None, [(standard_group(13), 32), (standard_group(12), 33)], 2),
    (None, [], 0),
])
def test_no_or_several_matching_domain_parameter_infos_are_refused(pace_id, domains, count):
    infos = card_access(encode_pace_info(ECDH_GM_AES_128, pace_id), *[domain_info(g, i) for g, i in domains])
    reason = choose_pace(infos)
    assert isinstance(reason, str) and f"needs exactly one PACEDomainParameterInfo to go with it, there are {count}" \
        in reason


def test_malformed_domain_parameters_refuse_only_their_pace_info():
    broken = encode_pace_domain_parameter_info(ECDH_GM, MALFORMED["wrong order"][0], 32)
    infos = card_access(encode_pace_info(ECDH_GM_AES_256, 32), broken)
    assert "inconsistent" in choose_pace(infos)
    assert choose_pace([*infos, PaceInfo(ECDH_GM_AES_128, 2, 13)]).info.parameter_id == 13


def test_explicit_parameters_must_fit_the_protocol_and_use_a_proprietary_id():
    protocol = PaceProtocol.from_oid(ECDH_GM_AES_128)
    with pytest.raises(PaceUnsupported, match="does not fit"):
        pace_group(protocol, 32, standard_group(2))
    with pytest.raises(PaceUnsupported, match="not a proprietary one"):
        pace_group(protocol, 13, standard_group(13))
    with pytest.raises(PaceUnsupported, match=NOT_KNOWN_SECURE):
        pace_group(protocol, 32, with_other_generator(13))
    with pytest.raises(PaceUnsupported, match="integrated mapping"):
        pace_group(PaceProtocol.from_name("ECDH-IM-AES-128"), 32, standard_group(10))
    assert pace_group(protocol, None, standard_group(12)) is standard_group(12)


def test_the_access_description_says_the_parameters_were_given_explicitly():
    protocol = PaceProtocol.from_oid(ECDH_GM_AES_128)
    result = PaceResult(protocol, standard_group(13), None, PASSWORD_MRZ, b"", b"", b"", explicit_parameters=True)
    assert result.describe() == "PACE ECDH-GM-AES-128 on brainpoolP256r1 (given explicitly) with the MRZ"
    result = replace(result, parameter_id=32)
    assert result.describe() == "PACE ECDH-GM-AES-128 on brainpoolP256r1 (given explicitly, id 32) with the MRZ"


def test_parameters_shared_by_many_pace_infos_are_checked_once(monkeypatch):
    parsed = []
    monkeypatch.setattr("drivers.emrtd.lds.cardaccess.parse_domain_parameters",
                        lambda data, file: parsed.append(data) or parse_domain_parameters(data, file))
    costly = encode_domain_parameters(with_other_generator(18))  # a 521-bit curve checked by n*G
    infos = card_access(*[encode_pace_info(ECDH_GM_AES_128, 32, version) for version in range(2, 200)],
                        encode_pace_domain_parameter_info(ECDH_GM, costly, 32))
    assert choose_pace(infos).count(NOT_KNOWN_SECURE) == 198
    assert len(parsed) <= 1  # none when an earlier test checked the same parameters
