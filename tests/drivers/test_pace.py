"""PACE against the worked examples of ICAO Doc 9303 Part 11 (8th edition, 2021):

* Appendix G.1: generic mapping, ECDH on brainpoolP256r1, AES-128, MRZ password;
* Appendix G.2: generic mapping, DH on the RFC 5114 1024-bit group (id 0), AES-128;
* Appendix H.1: integrated mapping, ECDH on brainpoolP256r1, AES-128;
* Appendix H.2: integrated mapping, DH on the 1024-bit group, AES-128;

and, for 3DES (which no ICAO example covers), the exchange recorded from a
New Zealand passport in the test suite of the gmrtd project
(github.com/gmrtd/gmrtd, pace/pace_test.go, TestDoPace_GM_ECDH_TDES_CBC_NZ).

Every expected value is copied from those sources; the private keys and
nonces are their inputs, everything else is recomputed here. The G.1, G.2
and NZ exchanges are also replayed APDU by APDU through perform_pace.
"""
from __future__ import annotations

import pytest

from drivers.emrtd import bac, tlv
from drivers.emrtd.iso7816.apdu import CommandApdu
from drivers.emrtd.pace import (
    STANDARD_CURVES,
    CurveError,
    GroupError,
    PaceError,
    PaceProtocol,
    PaceRefused,
    PaceUnsupported,
    all_protocols,
    can_password,
    mrz_password,
    perform_pace,
    public_key_object,
    standard_group,
    token,
)
from drivers.emrtd.pace.mapping import generic_map, integrated_map, point_encoding, pseudo_random, pseudo_random_octets
from drivers.emrtd.pace.suite import SUITES

H = bytes.fromhex
MRZ_INFO = "T22000129364081251010318"
K_MRZ = H("7E2D2A41C74EA0B38CD36F863939BFA8E9032AAD")
K_PI = H("89DED1B26624EC1E634C1989302849DD")
EC = standard_group(13)
DH = standard_group(0)
AES128 = SUITES[2]


def point(hex_xy: str) -> tuple[int, int]:
    data = H(hex_xy)
    return int.from_bytes(data[:len(data) // 2], "big"), int.from_bytes(data[len(data) // 2:], "big")


class G1:  # Appendix G.1
    protocol = PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.2")
    nonce = H("3F00C4D39D153F2B2A214A078D899B22")
    encrypted_nonce = H("95A3A016522EE98D01E76CB6B98B42C3")
    sk_pcd_map = 0x7F4EF07B9EA82FD78AD689B38D0BC78CF21F249D953BC46F4C6E19259C010F99
    pk_pcd_map = point("7ACF3EFC982EC45565A4B155129EFBC74650DCBFA6362D896FC70262E0C2CC5E"
                       "544552DCB6725218799115B55C9BAA6D9F6BC3A9618E70C25AF71777A9C4922D")
    sk_picc_map = 0x498FF49756F2DC1587840041839A85982BE7761D14715FB091EFA7BCE9058560
    pk_picc_map = point("824FBA91C9CBE26BEF53A0EBE7342A3BF178CEA9F45DE0B70AA601651FBA3F57"
                        "30D8C879AAA9C9F73991E61B58F4D52EB87A0A0C709A49DC63719363CCD13C54")
    shared_h = point("60332EF2450B5D247EF6D3868397D398852ED6E8CAF6FFEEF6BF85CA57057FD5"
                     "0840CA7415BAF3E43BD414D35AA4608B93A2CAF3A4E3EA4E82C9C13D03EB7181")
    mapped_g = point("8CED63C91426D4F0EB1435E7CB1D74A46723A0AF21C89634F65A9AE87A9265E2"
                     "8C879506743F8611AC33645C5B985C80B5F09A0B83407C1B6A4D857AE76FE522")
    sk_pcd = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
    pk_pcd = point("2DB7A64C0355044EC9DF190514C625CBA2CEA48754887122F3A5EF0D5EDD301C"
                   "3556F3B3B186DF10B857B58F6A7EB80F20BA5DC7BE1D43D9BF850149FBB36462")
    sk_picc = 0x107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A
    pk_picc = point("9E880F842905B8B3181F7AF7CAA9F0EFB743847F44A306D2D28C1D9EC65DF6DB"
                    "7764B22277A2EDDC3C265A9F018F9CB852E111B768B326904B59A0193776F094")
    shared_k = H("28768D20701247DAE81804C9E780EDE582A9996DB4A315020B2733197DB84925")
    ks_enc = H("F5F0E35C0D7161EE6724EE513A0D9A7F")
    ks_mac = H("FE251C7858B356B24514B3BD5F4297D1")
    t_pcd = H("C2B0BD78D94BA866")
    t_picc = H("3ABB9674BCE93C08")


class G2:  # Appendix G.2
    protocol = PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.1.2")
    nonce = H("FA5B7E3E49753A0DB9178B7B9BD898C8")
    encrypted_nonce = H("854D8DF5827FA6852D1A4FA701CDDDCA")
    sk_pcd_map = 0x5265030F751F4AD18B08AC565FC7AC952E41618D
    pk_pcd_map = int("23FB3749EA030D2A25B278D2A562047ADE3F01B74F17A15402CB7352CA7D2B3EB71C343DB13D1DEBCE9A3666DBCFC920"
                     "B49174A602CB47965CAA73DC702489A44D41DB914DE9613DC5E98C94160551C0DF86274B9359BC0490D01B03AD54022D"
                     "CB4F57FAD6322497D7A1E28D46710F461AFE710FBBBC5F8BA166F4311975EC6C", 16)
    sk_picc_map = 0x66DDAFEAC1609CB5B963BB0CB3FF8B3E047F336C
    pk_picc_map = int("78879F57225AA8080D52ED0FC890A4B25336F699AA89A2D3A189654AF70729E623EA5738B26381E4DA19E004706FACE7"
                      "B235C2DBF2F38748312F3C98C2DD4882A41947B324AA1259AC22579DB93F7085655AF30889DBB845D9E6783FE42C9F24"
                      "49400306254C8AE8EE9DD812A804C0B66E8CAFC14F84D8258950A91B44126EE6", 16)
    shared_h = int("5BABEBEF5B74E5BA94B5C063FDA15F1F1CDE94873EE0A5D3A2FCAB49F258D07F544F13CB66658C3AFEE9E727389BE3F6"
                   "CBBBD32128A8C21DD6EEA3CF7091CDDFB08B8D007D40318DCCA4FFBF51208790FB4BD111E5A968ED6B6F08B26CA87C41"
                   "0B3CE0C310CE104EABD16629AA48620C1279270CB0750C0D37C57FFFE302AE7F", 16)
    mapped_g = int("7C9CBFE98F9FBDDA8D143506FA7D9306F4CB17E3C71707AFF5E1C1A12370249684D64EE37AF44B8DBD9D45BF6023919C"
                   "BAA027AB97ACC771666C8E98FF483301BFA4872DEDE9034EDFACB70814166B7F360676829B826BEA57291B5AD69FBC84"
                   "EF1E779032A305803F74341793E869742D401325B37EE8565FFCDEE618342DC5", 16)
    sk_pcd = 0x89CCD99B0E8D3B1F11E1296DCA68EC53411CF2CA
    pk_pcd = int("907D89E2D425A178AA81AF4A7774EC8E388C115CAE67031E85EECE520BD911551B9AE4D04369F29A02626C86FBC6747C"
                 "C7BC352645B6161A2A42D44EDA80A08FA8D61B76D3A154AD8A5A51786B0BC07147057871A922212C5F67F43173172236"
                 "B7747D1671E6D692A3C7D40A0C3C5CE397545D015C175EB5130551EDBC2EE5D4", 16)
    sk_picc = 0xA5B780126B7C980E9FCEA1D4539DA1D27C342DFA
    pk_picc = int("075693D9AE941877573E634B6E644F8E60AF17A0076B8B123D9201074D36152BD8B3A213F53820C42ADC79AB5D0AEEC3"
                  "AEFB91394DA476BD97B9B14D0A65C1FC71A0E019CB08AF55E1F729005FBA7E3FA5DC41899238A250767A6D46DB974064"
                  "386CD456743585F8E5D90CC8B4004B1F6D866C79CE0584E49687FF61BC29AEA1", 16)
    shared_k = H("6BABC7B3A72BCD7EA385E4C62DB2625BD8613B24149E146A629311C4CA6698E38B834B6A9E9CD7184BA8834AFF5043D4"
                 "36950C4C1E7832367C10CB8C314D40E5990B0DF7013E64B4549E2270923D06F08CFF6BD3E977DDE6ABE4C31D55C0FA2E"
                 "465E553E77BDF75E3193D3834FC26E8EB1EE2FA1E4FC97C18C3F6CFFFE2607FD")
    ks_enc = H("2F7F46ADCC9E7E521B45D192FAFA9126")
    ks_mac = H("805A1D27D45A5116F73C54469462B7D8")
    t_pcd = H("B46DD9BD4D98381F")
    t_picc = H("917F37B5C0E6D8D1")


class H1:  # Appendix H.1
    protocol = PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.4.2")
    k_pi = H("591468CDA83D65219CCCB8560233600F")
    nonce = H("2923BE84E16CD6AE529049F1F1BBE9EB")
    encrypted_nonce = H("143DC40C08C8E891FBED7DEDB92B64AD")
    t = H("5DD4CBFC96F5453B130D890A1CDBAE32")
    r = H("E4447E2DFB3586BAC05DDB00156B57FBB2179A3949294C97254189800C517BAA8DA0FF397ED8C445D3E421E4FEB57322")
    r_p = 0xA2F8FF2DF50E52C6599F386ADCB595D229F6A167ADE2BE5F2C3296ADD5B7430E
    mapped_g = point("8E82D31559ED0FDE92A4D0498ADD3C23BABA94FB77691E31E90AEA77FB17D427"
                     "4C1AE14BD0C3DBAC0C871B7F3608169364437CA30AC243A089D3F266C1E60FAD")
    sk_picc = 0x107CF58696EF6155053340FD633392BA81909DF7B9706F226F32086C7AFF974A
    pk_picc = point("67F78E5F7F7686082B293E8D087E056916D0F74BC01A5F8957D0DE45691E51E8"
                    "932B69A962B52A0985AD2C0A271EE6A13A8ADDDCD1A3A994B9DED257F4D22753")
    sk_pcd = 0xA73FB703AC1436A18E0CFA5ABB3F7BEC7A070E7A6788486BEE230C4A22762595
    pk_pcd = point("89CBA23FFE96AA18D824627C3E934E54A9FD0B87A95D1471DC1C0ABFDCD640D4"
                   "6755DE9B7B778280B6BEBD57439ADFEB0E21FD4ED6DF42578C13418A59B34C37")
    shared_k = H("4F150FDE1D4F0E38E95017B891BAE17133A0DF45B0D3E18B60BA7BEAFDC2C713")
    ks_enc = H("0D3FEB33251A6370893D62AE8DAAF51B")
    ks_mac = H("B01E89E3D9E8719E586B50B4A7506E0B")
    t_pcd = H("450F02B86F6A0909")
    t_picc = H("75D4D96E8D5B0308")


class H2:  # Appendix H.2
    protocol = PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.3.2")
    k_pi = H("591468CDA83D65219CCCB8560233600F")
    nonce = H("FA5B7E3E49753A0DB9178B7B9BD898C8")
    encrypted_nonce = H("9ABB8864CA0FF1551E620D1EF4E13510")
    t = H("B3A6DB3C870C3E99245E0D1C06B747DE")
    r = H("EAB98D13E09052952AA729907C3C946184DEA0FE74AD2B3AF506F0A83018459C38099CD1F7FF4EA0A078DB1FAC136550"
          "5E3DC85500EF95E20B4EEF2E88489233BEE0546B472F994B618D168702406791DEEF3CB4810932EC278F3533FDB860EB"
          "4835C36FA4F1BF3FA0B828A718C96BDE88FBA38A3E6C35AAA10959251EB5FC710FC187258995944C0F926E249373F485")
    r_p = int("A0C7C50C002061A51CC87D254EF38068607417B6EE1B36473CFB800D2D2E5FA2B6980F01105D24FAB22ACD1BFA5C8A4C"
              "093ECDFAFE6D7125D42A843E338603835CF19AFAFF75EFE21DC5F6AA1F9AE46C25087E7368166FB08C1E4627AFED7D93"
              "570417B790FF7F747E57F432B04E1236819E0DFEF5B6E77CA4999925328182D2", 16)
    mapped_g = int("1D7D767F11E333BCD6DBAEF40E799E7A926B96973550656FF3C830726D118D61C276CDCC61D475CF03A98E0C0E79CAEB"
                   "A5BE25578BD4551D0B10903236F0B0F976852FA78EEA14EA0ACA87D1E91F688FE0DFF897BBE35A472621D343564B262F"
                   "34223AE8FC59B664BFEDFA2BFE7516CA5510A6BBB633D517EC25D4E0BBAA16C2", 16)
    sk_pcd = int("4BD0E54740F9A028E6A515BFDAF967848C4F5F5FFF65AA0915947FFD1A0DF2FA6981271BC905F3551457B7E03AC3B806"
                 "6DE4AA406C1171FB43DD939C4BA16175103BA3DEE16419AA248118F90CC36A3D6F4C373652E0C3CCE7F0F1D0C5425B36"
                 "00F0F0D6A67F004C8BBA33F2B4733C7252445C1DFC4F1107203F71D2EFB28161", 16)
    pk_picc = int("928D9A0F9DBA450F13FC859C6F290D1D36E42431138A4378500BEB4E0401854CFF111F71CB6DC1D0335807A11388CC8E"
                  "AA87B07907AAD9FBA6B169AF6D8C26AF8DDDC39ADC3AD2E3FF882B84D23E9768E95A80E4746FB07A9767679FE92133B4"
                  "D379935C771BD7FBED6C7BB4B1708B275EA75679524CDC9C6A91370CC662A2F3", 16)
    pk_pcd = int("0F0CC62945A8029251FB7EF3C094E12EC68E4EF07F27CB9D9CD04C5C4250FAE0E4F8A951557E929AEB48E5C6DD47F2F5"
                 "CD7C351A9BD2CD722C07EDE166770F08FFCB370262CF308DD7B07F2E0DA9CAAA1492344C852906919538C98A4BA4187E"
                 "76CE9D87832386D319CE2E043C3343AEAE6EDBA1A9894DC5094D22F7FE1351D5", 16)
    shared_k = H("419410D6C0A17A4C07C54872CE1CBCEB0A2705C1A434C8A89A4CFE41F1D78124CA7EC52BDE7615E5345E48AB1ABB6E7D"
                 "1D59A57F3174084D3CA4570397C1F62228BDFDB2DA191EA2239E2C060DBE3BBC23C2FCD0AF12E0F9E0B99FCF91FF1959"
                 "011D5798B2FCBC1F14FCC24E441F4C8F9B08D977E9498560E63E7FFAB3134EA7")
    ks_enc = H("01AFC10CF87BE36D8179E87370171F07")
    ks_mac = H("23F0FBD05FD6C7B8B88F4C8309669061")
    t_pcd = H("55D61977CBF5307E")
    t_picc = H("C2F04230187E1525")


# -- the password and the nonce ---------------------------------------------------------------------

def test_password_key_from_the_mrz():
    assert MRZ_INFO == bac.mrz_key("T22000129", "640812", "101031")
    assert mrz_password(MRZ_INFO) == K_MRZ
    assert AES128.kdf(K_MRZ, 3) == K_PI


@pytest.mark.parametrize("example, k_pi", [(G1, K_PI), (G2, K_PI), (H1, H1.k_pi), (H2, H2.k_pi)])
def test_nonce_decryption(example, k_pi):
    assert example.protocol.decrypt_nonce(k_pi, example.encrypted_nonce) == example.nonce


# -- generic mapping ----------------------------------------------------------------------------------

@pytest.mark.parametrize("example, group", [(G1, EC), (G2, DH)], ids=["G.1 ECDH", "G.2 DH"])
def test_generic_mapping(example, group):
    assert group.power(group.generator, example.sk_pcd_map) == example.pk_pcd_map
    assert group.power(group.generator, example.sk_picc_map) == example.pk_picc_map
    assert group.agree(example.sk_pcd_map, example.pk_picc_map) == example.shared_h
    assert group.agree(example.sk_picc_map, example.pk_pcd_map) == example.shared_h
    assert generic_map(group, example.nonce, example.shared_h) == example.mapped_g


@pytest.mark.parametrize("example, group", [(G1, EC), (G2, DH), (H1, EC), (H2, DH)],
                         ids=["G.1 ECDH-GM", "G.2 DH-GM", "H.1 ECDH-IM", "H.2 DH-IM"])
def test_key_agreement_session_keys_and_tokens(example, group):
    assert group.power(example.mapped_g, example.sk_pcd) == example.pk_pcd
    if hasattr(example, "sk_picc"):
        assert group.power(example.mapped_g, example.sk_picc) == example.pk_picc
    assert group.shared_secret(example.sk_pcd, example.pk_picc) == example.shared_k
    assert example.protocol.suite.session_keys(example.shared_k) == (example.ks_enc, example.ks_mac)
    assert token(example.protocol, example.ks_mac, group, example.pk_picc) == example.t_pcd
    assert token(example.protocol, example.ks_mac, group, example.pk_pcd) == example.t_picc


# -- integrated mapping --------------------------------------------------------------------------------

@pytest.mark.parametrize("example, group", [(H1, EC), (H2, DH)], ids=["H.1 ECDH", "H.2 DH"])
def test_integrated_mapping(example, group):
    assert pseudo_random_octets(AES128, example.nonce, example.t, group.prime) == example.r
    assert pseudo_random(AES128, example.nonce, example.t, group.prime) == example.r_p
    assert integrated_map(group, AES128, example.nonce, example.t) == example.mapped_g


def test_point_encoding_lands_on_the_curve_for_many_inputs():
    for curve_id in (8, 9, 12, 13, 14, 15, 16, 17, 18):
        curve = STANDARD_CURVES[curve_id]
        for t in (2, 3, 12345, curve.p - 2, curve.p // 3):
            assert curve.contains(point_encoding(curve, t))
        for exceptional in (1, curve.p - 1):
            with pytest.raises(GroupError, match="exceptional"):
                point_encoding(curve, exceptional)


def test_integrated_mapping_refuses_p224():
    with pytest.raises(GroupError, match="p != 3 mod 4"):
        point_encoding(STANDARD_CURVES[10], 5)
    with pytest.raises(PaceUnsupported, match="integrated mapping"):
        perform_pace(None, K_MRZ, "0.4.0.127.0.7.2.2.4.4.2", 10)


# -- token input layout ----------------------------------------------------------------------------------

def test_public_key_objects_match_the_examples():
    data = public_key_object(G1.protocol, EC, G1.pk_picc)
    assert data[:18] == H("7F494F060A04007F000702020402028641" "04")
    data = public_key_object(G2.protocol, DH, G2.pk_picc)
    assert data == H("7F49818F060A04007F0007020204010284818007") + G2.pk_picc.to_bytes(128, "big")[1:]
    data = public_key_object(H1.protocol, EC, H1.pk_pcd)
    assert data[:22] == H("7F494F060A04007F000702020404028641" "0489CBA23F")


# -- whole exchanges, APDU by APDU ---------------------------------------------------------------------------

class ScriptedChip:
    """Answers a fixed exchange and checks every command byte for byte."""

    def __init__(self, exchange: list[tuple[str, str]]) -> None:
        self.exchange = [(H(command), H(answer)) for command, answer in exchange]

    def transmit(self, apdu: bytes) -> bytes:
        assert self.exchange, f"unexpected command {apdu.hex()}"
        command, answer = self.exchange.pop(0)
        assert apdu.hex().upper() == command.hex().upper()
        return answer


def _fixed_keys(*keys: int):
    remaining = list(keys)
    return lambda group: remaining.pop(0)


def _ga(cla: int, objects: bytes) -> str:
    return CommandApdu(cla, 0x86, 0, 0, tlv.encode(0x7C, objects), ne=0x100).encode().hex()


def _answer(objects: bytes) -> str:
    return (tlv.encode(0x7C, objects) + b"\x90\x00").hex()


def test_g1_exchange_replayed():
    chip = ScriptedChip([
        ("0022C1A40F800A04007F00070202040202830101", "9000"),
        ("10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C39000"),
        (_ga(0x10, tlv.encode(0x81, EC.encode(G1.pk_pcd_map))), _answer(tlv.encode(0x82, EC.encode(G1.pk_picc_map)))),
        (_ga(0x10, tlv.encode(0x83, EC.encode(G1.pk_pcd))), _answer(tlv.encode(0x84, EC.encode(G1.pk_picc)))),
        ("008600000C7C0A8508C2B0BD78D94BA86600", "7C0A86083ABB9674BCE93C089000"),
    ])
    result = perform_pace(chip, mrz_password(MRZ_INFO), G1.protocol, 13, parameter_reference=False,
                          ephemeral_keys=_fixed_keys(G1.sk_pcd_map, G1.sk_pcd))
    assert (result.ks_enc, result.ks_mac) == (G1.ks_enc, G1.ks_mac)
    assert result.secure_messaging().ssc == 0 and not chip.exchange
    assert result.describe() == "PACE ECDH-GM-AES-128 on brainpoolP256r1 with the MRZ"


def test_g2_exchange_replayed_with_the_chips_certification_authority_reference():
    chip = ScriptedChip([
        ("0022C1A40F800A04007F00070202040102830101", "9000"),
        ("10860000027C0000", "7C128010854D8DF5827FA6852D1A4FA701CDDDCA9000"),
        (_ga(0x10, tlv.encode(0x81, DH.encode(G2.pk_pcd_map))), _answer(tlv.encode(0x82, DH.encode(G2.pk_picc_map)))),
        (_ga(0x10, tlv.encode(0x83, DH.encode(G2.pk_pcd))), _answer(tlv.encode(0x84, DH.encode(G2.pk_picc)))),
        ("008600000C7C0A8508B46DD9BD4D98381F00",
         "7C1B8608917F37B5C0E6D8D1870F44455445535443564341303030303" "39000"),
    ])
    result = perform_pace(chip, K_MRZ, G2.protocol, 0, parameter_reference=False,
                          ephemeral_keys=_fixed_keys(G2.sk_pcd_map, G2.sk_pcd))
    assert (result.ks_enc, result.ks_mac) == (G2.ks_enc, G2.ks_mac)
    assert not chip.exchange


def test_g2_mapping_command_is_the_examples():
    # the example's APDU: 10 86 00 00 86 7C 81 83 81 81 80 23 FB ... 6C 00
    assert _ga(0x10, tlv.encode(0x81, DH.encode(G2.pk_pcd_map))).upper().startswith("10860000867C81838181802" "3FB")


def test_3des_exchange_of_a_new_zealand_passport_replayed():
    # gmrtd pace_test.go TestDoPace_GM_ECDH_TDES_CBC_NZ: EF.CardAccess announces ECDH-GM-3DES on brainpoolP256r1.
    chip = ScriptedChip([
        ("0022c1a40f800a04007f00070202040201830101", "9000"),
        ("10860000027c0000", "7c128010b88382812290017af1cc906ff00e7f4d9000"),
        ("10860000457c438141047706b2b6246ab4612229b8a11212ddba7fea0568c9c0975dee22c0e3dd3a3f0321e8afee836e373b"
         "570d24000d56fb195104d486e63321ff8c819dd5ee018dcb00",
         "7c43824104780b4edec9b926f9f964fad826d9990a667608d96ba7b397ae8609b6533e0d036d148365ddf4e5ff6611c2b62a"
         "a17fc9899f327bc929db543e7abd0ee724e4be9000"),
        ("10860000457c43834104507a0156efae8fb8acc519036c0b2fe0393c878744c7f91878ee4e07a41412ba5c0753d68a44a91e"
         "9f57f3f992ab689e6c2065d3b2a27c3658a4fd632931ee3800",
         "7c438441042dbaf62e6fdfb31eb66f206493b9e7721586f0e5c93754d7bd5a884ca251ee4d720ab539a60561bc46812fa289"
         "b58ac69f0c6e32adbaf7241049a31211f80f5b9000"),
        ("008600000c7c0a85088d7c617d43efe09e00", "7c0a8608cb57047c809079f69000"),
    ])
    map_key = 0x2808272C0EC20E01A3450030EF32855E9FEB5CB17719E985389B1CF47609E69F
    key = 0x8F89449052DF6C7983750C7B042C3CEA12B36819174424C7CD28153F7B70B402
    result = perform_pace(chip, mrz_password(bac.mrz_key("LM277954", "781214", "271115")),
                          "0.4.0.127.0.7.2.2.4.2.1", 13, parameter_reference=False,
                          ephemeral_keys=_fixed_keys(map_key, key))
    assert result.ks_enc == H("430e4c8c38dfefaed92067b919a897f8")
    assert result.ks_mac == H("c1bc1f075797b970b5a45e64a764b0cb")
    assert result.protocol.suite.name == "3DES" and not chip.exchange


def test_wrong_tokens_and_refusals_are_pace_errors():
    def exchange(last_answer: str) -> ScriptedChip:
        return ScriptedChip([
            ("0022C1A40F800A04007F00070202040202830101", "9000"),
            ("10860000027C0000", "7C12801095A3A016522EE98D01E76CB6B98B42C39000"),
            (_ga(0x10, tlv.encode(0x81, EC.encode(G1.pk_pcd_map))),
             _answer(tlv.encode(0x82, EC.encode(G1.pk_picc_map)))),
            (_ga(0x10, tlv.encode(0x83, EC.encode(G1.pk_pcd))), _answer(tlv.encode(0x84, EC.encode(G1.pk_picc)))),
            ("008600000C7C0A8508C2B0BD78D94BA86600", last_answer),
        ])

    def run(chip):
        return perform_pace(chip, K_MRZ, G1.protocol, 13, parameter_reference=False,
                            ephemeral_keys=_fixed_keys(G1.sk_pcd_map, G1.sk_pcd))

    with pytest.raises(PaceError, match="token does not verify"):
        run(exchange("7C0A86083ABB9674BCE93C099000"))
    with pytest.raises(PaceRefused, match="wrong password"):
        run(exchange("6300"))


# -- protocol identifiers, groups, bad input -------------------------------------------------------------------

def test_protocol_table():
    assert PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.1").cipher == "3DES"
    assert PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.4").key_length == 32
    assert PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.6.2").mapping == "CAM"
    assert PaceProtocol.from_name("dh-im-aes-192").oid == "0.4.0.127.0.7.2.2.4.3.3"
    assert len(all_protocols()) == 19  # 4 mappings x 4 ciphers + CAM with AES only
    for oid in ("0.4.0.127.0.7.2.2.4.6.1", "0.4.0.127.0.7.2.2.4.5.2", "0.4.0.127.0.7.2.2.3.2.2", "1.2.3"):
        with pytest.raises(PaceUnsupported):
            PaceProtocol.from_oid(oid)
    assert len(PaceProtocol.from_oid("0.4.0.127.0.7.2.2.4.2.3").kdf(b"k", 1)) == 24


def test_every_standard_group_is_consistent():
    assert sorted(STANDARD_CURVES) == list(range(8, 19))
    for curve in STANDARD_CURVES.values():
        assert curve.contains(curve.generator)
        assert curve.multiply(curve.n, curve.generator) is None
    for number in (0, 1, 2):
        group = standard_group(number)
        assert (group.prime - 1) % group.order == 0
        assert pow(group.generator, group.order, group.prime) == 1
    with pytest.raises(GroupError, match="not a standardized"):
        standard_group(5)


def test_fast_multiplication_agrees_with_repeated_addition():
    curve = STANDARD_CURVES[12]
    total = None
    for k in range(1, 40):
        total = curve.add(total, curve.generator)
        assert curve.multiply(k, curve.generator) == total


def test_bad_points_and_passwords_are_clear_errors():
    curve = STANDARD_CURVES[13]
    with pytest.raises(CurveError, match="04"):
        curve.decode(b"\x04" + bytes(10))
    with pytest.raises(CurveError, match="not on"):
        curve.decode(b"\x04" + bytes(64))
    with pytest.raises(GroupError, match="subgroup"):
        DH.decode(b"\x02")  # 2 is not in the order-q subgroup
    with pytest.raises(GroupError, match="out of range"):
        DH.decode(b"\x01")
    with pytest.raises(ValueError, match="six digits"):
        can_password("12a456")
    with pytest.raises(PaceError, match="whole AES blocks"):
        G1.protocol.decrypt_nonce(K_PI, bytes(15))
    with pytest.raises(PaceUnsupported, match="does not fit"):
        perform_pace(None, K_MRZ, G1.protocol, 0)
