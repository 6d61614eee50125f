"""LDS parsers and encoders: round trips, the Doc 9303 layouts and clear errors."""
from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from drivers.emrtd import tlv
from drivers.emrtd.lds import EF_COM, EF_SOD, LdsError, dg1, dg2, dg11, dg12, efcom, parse_file, raw, sod
from drivers.emrtd.lds.dg11 import Dg11
from drivers.emrtd.lds.dg12 import Dg12

# the Doc 9303 Part 3 specimen passport
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
TD1 = ("I<UTOD231458907<<<<<<<<<<<<<<<\n"
       "7408122F1204159UTO<<<<<<<<<<<6\n"
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")


def picture(width: int = 120, height: int = 160) -> np.ndarray:
    pixels = np.zeros((height, width, 3), np.uint8)
    pixels[:, :, 2] = 200  # red in OpenCV's BGR order
    pixels[height // 2:, :, 1] = 90
    return pixels


def jpeg(width: int = 120, height: int = 160) -> bytes:
    ok, buffer = cv2.imencode(".jpg", picture(width, height))
    assert ok
    return buffer.tobytes()


# --- EF.COM -----------------------------------------------------------------

def test_efcom_round_trip_and_layout():
    data = efcom.encode(efcom.EfCom("1.8", "4.0.0", (1, 2, 11, 12, 14)))
    assert data.hex() == "6017" "5f010430313038" "5f3606303430303030" "5c05" "61756b6c6e"
    assert efcom.parse(data) == efcom.EfCom("1.8", "4.0.0", (1, 2, 11, 12, 14))


@pytest.mark.parametrize("data, reason", [
    (tlv.encode(0x60, tlv.encode(0x5F01, b"0108") + tlv.encode(0x5C, b"\x61")), "Unicode version"),
    (tlv.encode(0x60, tlv.encode(0x5F01, b"01x8") + tlv.encode(0x5F36, b"040000") + tlv.encode(0x5C, b"a")),
     "LDS version must be 4 ASCII digits"),
    (tlv.encode(0x60, tlv.encode(0x5F01, b"0108") + tlv.encode(0x5F36, b"040000") + tlv.encode(0x5C, b"\x99")),
     "unknown data group tag 99"),
    (tlv.encode(0x61, b""), "expected tag 60"),
    (b"\x60\x05\x5f", "bad TLV"),
])
def test_efcom_errors_name_file_and_reason(data, reason):
    with pytest.raises(LdsError, match=reason) as caught:
        efcom.parse(data)
    assert caught.value.file == "EF.COM"


# --- DG1 --------------------------------------------------------------------

def test_dg1_td3_round_trip():
    data = dg1.encode(TD3)
    assert data[:5] == bytes.fromhex("615b5f1f58")  # 61 len 91, 5F1F len 88
    parsed = dg1.parse(data)
    assert parsed.mrz_text == TD3.replace("\n", "")
    assert parsed.lines == TD3.split("\n")
    assert parsed.issuing_state == "UTO"
    assert parsed.document_code == "P"


def test_dg1_td1_lines_and_state():
    parsed = dg1.parse(dg1.encode(TD1))
    assert parsed.lines == TD1.split("\n")
    assert parsed.document_code == "I"


def test_dg1_gives_the_parsed_mrz_when_drivers_mrz_is_present():
    mrz = pytest.importorskip("drivers.mrz")
    parsed = dg1.parse(dg1.encode(TD3))
    assert isinstance(parsed.mrz, mrz.Mrz)
    assert parsed.mrz.surname == "ERIKSSON"
    assert parsed.mrz.document_number == "L898902C3"


def test_dg1_with_bad_check_digit_keeps_the_text():
    pytest.importorskip("drivers.mrz")
    broken = TD3[:-1] + "9"
    parsed = dg1.parse(dg1.encode(broken))
    assert parsed.mrz is None and parsed.mrz_text.endswith("9")


@pytest.mark.parametrize("text, reason", [
    ("P<UTO" + "<" * 40, "45 characters"),
    (TD3.replace("E", "e", 1), "outside A-Z"),
])
def test_dg1_rejects_bad_mrz(text, reason):
    with pytest.raises(LdsError, match=reason):
        dg1.encode(text)
    raw_file = tlv.encode(0x61, tlv.encode(0x5F1F, text.replace("\n", "").encode()))
    with pytest.raises(LdsError, match=reason):
        dg1.parse(raw_file)


def test_dg1_without_mrz_element():
    with pytest.raises(LdsError, match="5F1F"):
        dg1.parse(tlv.encode(0x61, tlv.encode(0x5F20, b"x")))


# --- DG2 --------------------------------------------------------------------

def test_dg2_face_record_layout():
    face = dg2.face_from_image(jpeg(), gender=2, eye_colour=3, expression=1, pose=(91, 96, 91),
                               feature_points=(dg2.FeaturePoint(1, 0x31, 40, 50),
                                               dg2.FeaturePoint(1, 0x32, 80, 50)))
    record = dg2.encode_face_record([face])
    magic, version, length, count = struct.unpack(">4s4sIH", record[:14])
    assert (magic, version, length, count) == (b"FAC\x00", b"010\x00", len(record), 1)
    # facial record data length: 20 info + 2 * 8 points + 12 image info + image
    assert struct.unpack(">I", record[14:18])[0] == 20 + 16 + 12 + len(face.image)
    image_info = record[14 + 20 + 16:14 + 20 + 16 + 12]
    assert struct.unpack(">BBHHBBHH", image_info)[:5] == (1, 0, 120, 160, 1)


def test_dg2_round_trip_with_all_fields():
    face = dg2.face_from_image(jpeg(), gender=1, eye_colour=2, hair_colour=4, expression=1,
                               pose=(91, 91, 101), feature_points=(dg2.FeaturePoint(1, 0x31, 40, 50),))
    parsed = dg2.parse(dg2.encode([face]))
    assert len(parsed.instances) == 1
    header = parsed.instances[0].header
    assert (header.format_owner, header.format_type) == (0x0101, 0x0008)
    assert parsed.instances[0].record.version == "010"
    got = parsed.faces[0]
    assert got == face
    assert got.pose_degrees == (0, 0, 20)
    assert got.feature_points[0].label == "3.1"
    assert got.describe()["gender"] == "male" and got.describe()["eye_colour"] == "blue"


def test_dg2_decodes_jpeg_to_rgb():
    face = dg2.parse(dg2.encode([dg2.face_from_image(jpeg(100, 130))])).faces[0]
    pixels = face.decode_image()
    assert pixels.shape == (130, 100, 3)
    top = pixels[5, 5].astype(int)
    assert top[0] > 180 and top[2] < 30  # red stays in channel 0 after the BGR -> RGB swap


def test_dg2_decodes_jpeg2000():
    ok, buffer = cv2.imencode(".jp2", picture(100, 120))
    assert ok, "OpenCV was built without JPEG 2000 (OpenJPEG)"
    face = dg2.face_from_image(buffer.tobytes())
    assert face.image_data_type == dg2.IMAGE_JPEG2000
    assert (face.width, face.height) == (100, 120)
    pixels = dg2.parse(dg2.encode([face])).faces[0].decode_image()
    assert pixels.shape == (120, 100, 3)


def test_dg2_decodes_a_bare_jpeg2000_codestream():
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(picture(90, 110)[:, :, ::-1]).save(buffer, "JPEG2000", no_jp2=True)
    assert buffer.getvalue().startswith(b"\xff\x4f\xff\x51")
    face = dg2.face_from_image(buffer.getvalue())
    assert face.image_data_type == dg2.IMAGE_JPEG2000
    pixels = dg2.parse(dg2.encode([face])).faces[0].decode_image()
    assert pixels.shape == (110, 90, 3)
    assert pixels[5, 5, 0] > 180  # red, as drawn


def test_dg2_two_instances():
    faces = [dg2.face_from_image(jpeg(64, 80)), dg2.face_from_image(jpeg(32, 40))]
    parsed = dg2.parse(dg2.encode(faces))
    assert [(f.width, f.height) for f in parsed.faces] == [(64, 80), (32, 40)]


def _dg2_with_record(record: bytes, count: int = 1) -> bytes:
    header = tlv.encode(0xA1, tlv.encode(0x87, b"\x01\x01") + tlv.encode(0x88, b"\x00\x08"))
    template = tlv.encode(0x7F60, header + tlv.encode(0x5F2E, record))
    return tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, bytes([count])) + template))


@pytest.mark.parametrize("mutate, reason", [
    (lambda r: b"FAX\x00" + r[4:], "not 'FAC"),
    (lambda r: r[:4] + b"030\x00" + r[8:], "not 19794-5:2005"),
    (lambda r: r[:8] + struct.pack(">I", len(r) + 10) + r[12:], "does not fit"),
    (lambda r: r[:12] + b"\x00\x00" + r[14:], "no face"),
    (lambda r: r[:14] + struct.pack(">I", 30) + r[18:], "no room for an image"),
    (lambda r: r[:18] + b"\x00\xff" + r[20:], "ends inside a feature point"),
    (lambda r: r[:8] + struct.pack(">I", 20) + r[12:20], "ends inside the facial information"),
])
def test_dg2_face_record_errors(mutate, reason):
    record = dg2.encode_face_record([dg2.face_from_image(jpeg(16, 16))])
    with pytest.raises(LdsError, match=reason) as caught:
        dg2.parse(_dg2_with_record(mutate(record)))
    assert caught.value.file == "DG2"


def test_dg2_structure_errors():
    record = dg2.encode_face_record([dg2.face_from_image(jpeg(16, 16))])
    with pytest.raises(LdsError, match="2 instances announced, 1 present"):
        dg2.parse(_dg2_with_record(record, count=2))
    with pytest.raises(LdsError, match="7F61"):
        dg2.parse(tlv.encode(0x75, tlv.encode(0x02, b"\x01")))
    no_header = tlv.encode(0x75, tlv.encode(0x7F61, tlv.encode(0x02, b"\x01")
                                             + tlv.encode(0x7F60, tlv.encode(0x5F2E, record))))
    with pytest.raises(LdsError, match="A1"):
        dg2.parse(no_header)


def test_dg2_undecodable_image_is_an_lds_error():
    face = dg2.Face(image=b"\xff\xd8\xff" + b"\x00" * 50, width=10, height=10)
    with pytest.raises(LdsError, match="does not decode as JPEG"):
        dg2.parse(dg2.encode([face])).faces[0].decode_image()


def test_face_from_image_refuses_other_formats():
    ok, png = cv2.imencode(".png", picture(8, 8))
    with pytest.raises(LdsError, match="neither JPEG nor JPEG 2000"):
        dg2.face_from_image(png.tobytes())


# --- DG11 / DG12 ------------------------------------------------------------

def test_dg11_round_trip():
    details = Dg11(full_name="ERIKSSON<<ANNA MARIA", other_names=("SVENSSON<<ANNA",),
                   personal_number="123456789", full_date_of_birth="19740812", place_of_birth="ZÜRICH",
                   address="MAIN STREET 1<ANYTOWN", telephone="+1 555 0100", profession="ENGINEER",
                   title="DR", personal_summary="-", proof_of_citizenship=b"\xff\xd8\xff",
                   other_travel_document_numbers="X1234567", custody_information="none")
    parsed = dg11.parse(dg11.encode(details))
    assert parsed.tags[0] == 0x5F0E and 0x5F0F in parsed.tags
    assert parsed == Dg11(**{**details.__dict__, "tags": parsed.tags})


def test_dg11_reads_bcd_dates_and_bare_other_names():
    data = tlv.encode(0x6B, tlv.encode(0x5C, b"\x5f\x2b\x5f\x0f") + tlv.encode(0x5F2B, bytes.fromhex("19740812"))
                      + tlv.encode(0x5F0F, "ANNA".encode()))
    parsed = dg11.parse(data)
    assert parsed.full_date_of_birth == "19740812"
    assert parsed.other_names == ("ANNA",)
    assert parsed.tags == (0x5F2B, 0x5F0F)


@pytest.mark.parametrize("body, reason", [
    (tlv.encode(0x5F0E, b"X"), "tag list"),
    (tlv.encode(0x5C, b"") + tlv.encode(0x5F2B, b"1974-08-"), "full_date_of_birth must be 8 digits"),
    (tlv.encode(0x5C, b"") + tlv.encode(0x5F0E, b"\xff\xfe"), "full_name is not UTF-8"),
    (tlv.encode(0x5C, b"\x5f"), "bad TLV"),
])
def test_dg11_errors(body, reason):
    with pytest.raises(LdsError, match=reason) as caught:
        dg11.parse(tlv.encode(0x6B, body))
    assert caught.value.file == "DG11"


def test_dg12_round_trip():
    details = Dg12(issuing_authority="UTOPIA PASSPORT OFFICE", date_of_issue="20120415",
                   other_persons=("ERIKSSON<<LARS", "ERIKSSON<<INGA"), endorsements="none",
                   tax_exit_requirements="none", image_front=b"front", image_rear=b"rear",
                   personalisation_time="20120415093000", personalisation_system_serial="SN-1")
    parsed = dg12.parse(dg12.encode(details))
    assert parsed == Dg12(**{**details.__dict__, "tags": parsed.tags})


def test_dg12_bcd_personalisation_time():
    data = tlv.encode(0x6C, tlv.encode(0x5C, b"\x5f\x55") + tlv.encode(0x5F55, bytes.fromhex("20120415093000")))
    assert dg12.parse(data).personalisation_time == "20120415093000"


# --- raw data groups and dispatch -------------------------------------------

def test_raw_data_groups():
    parsed = raw.parse(7, tlv.encode(0x67, b"signature image"))
    assert (parsed.number, parsed.tag, parsed.value) == (7, 0x67, b"signature image")
    with pytest.raises(LdsError, match="outer tag 6F is not 67"):
        raw.parse(7, tlv.encode(0x6F, b"x"))


def test_parse_file_dispatches_by_identifier():
    assert parse_file(0x0101, dg1.encode(TD3)).issuing_state == "UTO"
    assert parse_file(EF_COM, efcom.encode(efcom.EfCom("1.7", "4.0.0", (1,)))).data_groups == (1,)
    assert parse_file(0x0107, tlv.encode(0x67, b"sig")).number == 7
    with pytest.raises(LdsError, match="EF 0200"):
        parse_file(0x0200, b"")


# --- EF.SOD -----------------------------------------------------------------

def test_sod_security_object_round_trip():
    hashes = {1: b"\x01" * 32, 2: b"\x02" * 32}
    der = sod.encode_security_object("sha256", hashes, "0108", "040000")
    lso = sod.LdsSecurityObject.load(der)
    assert lso["version"].native == 1
    assert lso["hash_algorithm"]["algorithm"].dotted == "2.16.840.1.101.3.4.2.1"
    assert {e["data_group_number"].native: e["data_group_hash_value"].native
            for e in lso["data_group_hash_values"]} == hashes


def test_sod_errors():
    with pytest.raises(LdsError, match="expected tag 77"):
        sod.parse(tlv.encode(0x78, b"\x30\x00"))
    with pytest.raises(LdsError, match="does not decode") as caught:
        sod.parse(sod.wrap(b"\x30\x03\x02\x01\x00"))
    assert caught.value.file == "EF.SOD"
    with pytest.raises(LdsError, match="EF.SOD: bad TLV"):
        parse_file(EF_SOD, b"")


@pytest.fixture(scope="module")
def pki():
    from hardware_sim.pki import make_test_pki
    return make_test_pki()


def test_sod_signed_round_trip_names_the_dsc(pki):
    from cryptography.hazmat.primitives.serialization import Encoding

    from hardware_sim.pki import sign_cms

    hashes = {1: b"\x11" * 32, 2: b"\x22" * 32, 11: b"\x33" * 32}
    lso = sod.encode_security_object("sha256", hashes, "0108", "040000")
    parsed = sod.parse(sod.wrap(sign_cms(sod.LDS_SECURITY_OBJECT_OID, lso, pki.dsc)))
    assert (parsed.version, parsed.hash_algorithm, parsed.dg_hashes) == (1, "sha256", hashes)
    assert (parsed.lds_version, parsed.unicode_version) == ("0108", "040000")
    assert parsed.dsc == pki.dsc.certificate.public_bytes(Encoding.DER)
    assert parsed.signed.content == lso
    assert parsed.signed.signed_attributes[0] == 0x31


def test_sod_v0_without_version_info(pki):
    from hardware_sim.pki import sign_cms

    lso = sod.encode_security_object("sha1", {1: b"\x01" * 20, 2: b"\x02" * 20})
    parsed = sod.parse(sod.wrap(sign_cms(sod.LDS_SECURITY_OBJECT_OID, lso, pki.dsc, "sha1")))
    assert (parsed.version, parsed.hash_algorithm, parsed.lds_version) == (0, "sha1", None)


def test_sod_with_other_content_type_is_refused(pki):
    from hardware_sim.pki import sign_cms

    lso = sod.encode_security_object("sha256", {1: b"\x01" * 32})
    with pytest.raises(LdsError, match="content type 2.23.136.1.1.2, expected 2.23.136.1.1.1"):
        sod.parse(sod.wrap(sign_cms("2.23.136.1.1.2", lso, pki.dsc)))


@pytest.mark.parametrize("hashes, reason", [
    ({17: b"\x01" * 32}, "out of range"),
    ({}, "no data group hashes"),
])
def test_sod_bad_hash_table(pki, hashes, reason):
    from hardware_sim.pki import sign_cms

    lso = sod.encode_security_object("sha256", hashes)
    with pytest.raises(LdsError, match=reason):
        sod.parse(sod.wrap(sign_cms(sod.LDS_SECURITY_OBJECT_OID, lso, pki.dsc)))
