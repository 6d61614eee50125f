"""DG2: encoded face, an ISO/IEC 19794-5:2005 facial record inside the
biometric information template of ISO/IEC 7816-11 (Doc 9303 Part 10).

    75 DG2
      7F61 biometric information group template
        02   number of instances
        7F60 biometric information template (one per instance)
          A1       biometric header template (87 format owner, 88 format type, ...)
          5F2E     biometric data block: the 19794-5 record ('FAC\\0' ...)
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from drivers.emrtd import tlv
from drivers.emrtd.lds.errors import LdsError, parsing

FILE = "DG2"
TAG = 0x75
GROUP_TEMPLATE = 0x7F61
INSTANCE_TEMPLATE = 0x7F60
HEADER_TEMPLATE = 0xA1
DATA_BLOCKS = (0x5F2E, 0x7F2E)  # 7F2E: enciphered/constructed data block, kept raw

FORMAT_OWNER_SC37 = 0x0101
FORMAT_TYPE_FACE = 0x0008

RECORD_MAGIC = b"FAC\x00"
RECORD_VERSION = b"010\x00"  # 19794-5:2005, the version Doc 9303 prescribes
RECORD_HEADER = struct.Struct(">4s4sIH")  # magic, version, record length, number of faces
FACE_INFO = struct.Struct(">IHBBB3sH3s3s")  # length, points, gender, eyes, hair, mask, expression, pose, uncertainty
FEATURE_POINT = struct.Struct(">BBHHH")  # type, code, x, y, reserved
IMAGE_INFO = struct.Struct(
    ">BBHHBBHH"
)  # face image type, data type, width, height, colour space, source, device, quality

IMAGE_JPEG = 0
IMAGE_JPEG2000 = 1

GENDERS = {0: "unspecified", 1: "male", 2: "female", 0xFF: "unknown"}
EYE_COLOURS = {0: "unspecified", 1: "black", 2: "blue", 3: "brown", 4: "grey", 5: "green",
               6: "multi-coloured", 7: "pink", 0xFF: "other or unknown"}
EXPRESSIONS = {0: "unspecified", 1: "neutral", 2: "smile, closed jaw", 3: "smile, open jaw",
               4: "raised eyebrows", 5: "eyes looking away", 6: "squinting", 7: "frowning"}
FACE_IMAGE_TYPES = {0: "basic", 1: "full frontal", 2: "token frontal"}
COLOUR_SPACES = {0: "unspecified", 1: "RGB24", 2: "YUV422", 3: "greyscale 8 bit", 4: "other"}


@dataclass(frozen=True)
class FeaturePoint:
    type: int
    code: int  # MPEG-4 feature point: major in the high nibble, minor in the low one
    x: int
    y: int

    @property
    def label(self) -> str:
        return f"{self.code >> 4}.{self.code & 0x0F}"


@dataclass(frozen=True)
class Face:
    """One facial record data block: facial information, image information and image."""
    image: bytes
    image_data_type: int = IMAGE_JPEG
    width: int = 0
    height: int = 0
    face_image_type: int = 1
    colour_space: int = 1
    source_type: int = 0
    device_type: int = 0
    quality: int = 0
    gender: int = 0
    eye_colour: int = 0
    hair_colour: int = 0
    feature_mask: int = 0
    expression: int = 0
    pose: tuple[int, int, int] = (0, 0, 0)  # yaw, pitch, roll as encoded (0 = unspecified)
    pose_uncertainty: tuple[int, int, int] = (0, 0, 0)
    feature_points: tuple[FeaturePoint, ...] = ()

    @property
    def pose_degrees(self) -> tuple[int | None, int | None, int | None]:
        """Yaw, pitch, roll in degrees; 19794-5 codes angle a as (a + 180) / 2 + 1."""
        return tuple(None if v == 0 else (v - 1) * 2 - 180 for v in self.pose)  # type: ignore[return-value]

    def decode_image(self):
        """The image as an RGB numpy array (height, width, 3)."""
        import cv2  # heavy; only needed when someone looks at the picture
        import numpy as np

        pixels = cv2.imdecode(np.frombuffer(self.image, np.uint8), cv2.IMREAD_COLOR)
        if pixels is None:
            kind = "JPEG 2000" if self.image_data_type == IMAGE_JPEG2000 else "JPEG"
            raise LdsError(FILE, f"face image does not decode as {kind}")
        return cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)

    def describe(self) -> dict[str, object]:
        return {
            "gender": GENDERS.get(self.gender, f"code {self.gender}"),
            "eye_colour": EYE_COLOURS.get(self.eye_colour, f"code {self.eye_colour}"),
            "expression": EXPRESSIONS.get(self.expression, f"code {self.expression}"),
            "face_image_type": FACE_IMAGE_TYPES.get(self.face_image_type, f"code {self.face_image_type}"),
            "image_data_type": "JPEG 2000" if self.image_data_type == IMAGE_JPEG2000 else "JPEG",
            "colour_space": COLOUR_SPACES.get(self.colour_space, f"code {self.colour_space}"),
            "width": self.width,
            "height": self.height,
            "pose_degrees": list(self.pose_degrees),
            "feature_points": [p.label for p in self.feature_points],
            "image_bytes": len(self.image),
        }


@dataclass(frozen=True)
class BiometricHeader:
    format_owner: int | None
    format_type: int | None
    elements: dict[int, bytes] = field(default_factory=dict, compare=False)  # every header element, raw


@dataclass(frozen=True)
class FaceRecord:
    version: str
    faces: tuple[Face, ...]


@dataclass(frozen=True)
class BiometricInstance:
    header: BiometricHeader
    record: FaceRecord


@dataclass(frozen=True)
class Dg2:
    instances: tuple[BiometricInstance, ...]

    @property
    def faces(self) -> list[Face]:
        return [face for instance in self.instances for face in instance.record.faces]


class _Reader:
    """Bounds-checked reading of the fixed-layout binary record."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def unpack(self, layout: struct.Struct, what: str) -> tuple:
        return layout.unpack(self.take(layout.size, what))

    def take(self, size: int, what: str) -> bytes:
        if size < 0 or self.offset + size > len(self.data):
            raise LdsError(FILE, f"face record ends inside {what}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk


def parse_face_record(data: bytes) -> FaceRecord:
    reader = _Reader(data)
    magic, version, record_length, count = reader.unpack(RECORD_HEADER, "the record header")
    if magic != RECORD_MAGIC:
        raise LdsError(FILE, f"face record starts with {magic!r}, not 'FAC\\0'")
    if version != RECORD_VERSION:
        raise LdsError(FILE, f"face record version {version!r} is not 19794-5:2005 ('010')")
    if record_length > len(data) or record_length < RECORD_HEADER.size:
        raise LdsError(FILE, f"face record length {record_length} does not fit the {len(data)} bytes stored")
    reader.data = data[:record_length]
    if count == 0:
        raise LdsError(FILE, "face record holds no face")
    return FaceRecord(version.rstrip(b"\x00").decode("ascii"),
                      tuple(_parse_face(reader) for _ in range(count)))


def _parse_face(reader: _Reader) -> Face:
    start = reader.offset
    (length, point_count, gender, eyes, hair, mask, expression,
     pose, uncertainty) = reader.unpack(FACE_INFO, "the facial information")
    points = tuple(FeaturePoint(kind, code, x, y) for kind, code, x, y, _ in
                   (reader.unpack(FEATURE_POINT, "a feature point") for _ in range(point_count)))
    (image_type, data_type, width, height, colour, source, device,
     quality) = reader.unpack(IMAGE_INFO, "the image information")
    image_size = length - (reader.offset - start)
    if image_size <= 0:
        raise LdsError(FILE, f"facial record data length {length} leaves no room for an image")
    image = reader.take(image_size, "the image data")
    return Face(image=image, image_data_type=data_type, width=width, height=height,
                face_image_type=image_type, colour_space=colour, source_type=source,
                device_type=device, quality=quality, gender=gender, eye_colour=eyes,
                hair_colour=hair, feature_mask=int.from_bytes(mask, "big"), expression=expression,
                pose=tuple(pose), pose_uncertainty=tuple(uncertainty), feature_points=points)


def _parse_header(template: tlv.Tlv) -> BiometricHeader:
    elements = {child.tag: child.value for child in template.children()}

    def number(tag: int) -> int | None:
        value = elements.get(tag)
        return int.from_bytes(value, "big") if value else None

    return BiometricHeader(number(0x87), number(0x88), elements)


def parse(data: bytes) -> Dg2:
    with parsing(FILE):
        group = tlv.decode_one(data, TAG).find(GROUP_TEMPLATE)
        if group is None:
            raise LdsError(FILE, "biometric information group template (7F61) missing")
        children = group.children()
        count_tlv = next((c for c in children if c.tag == 0x02), None)
        if count_tlv is None or len(count_tlv.value) != 1:
            raise LdsError(FILE, "number of instances (02) missing or not one byte")
        templates = [c for c in children if c.tag == INSTANCE_TEMPLATE]
        if len(templates) != count_tlv.value[0]:
            raise LdsError(FILE, f"{count_tlv.value[0]} instances announced, {len(templates)} present")
        instances = []
        for template in templates:
            header_tlv = template.find(HEADER_TEMPLATE)
            block = next((c for c in template.children() if c.tag in DATA_BLOCKS), None)
            if header_tlv is None or not header_tlv.constructed:
                raise LdsError(FILE, "biometric header template (A1) missing")
            if block is None:
                raise LdsError(FILE, "biometric data block (5F2E/7F2E) missing")
            header = _parse_header(header_tlv)
            if header.format_type not in (None, FORMAT_TYPE_FACE):
                raise LdsError(FILE, f"format type {header.format_type:04X} is not a face image (0008)")
            instances.append(BiometricInstance(header, parse_face_record(block.value)))
    if not instances:
        raise LdsError(FILE, "no biometric instance")
    return Dg2(tuple(instances))


def image_data_type(image: bytes) -> int:
    """JPEG or JPEG 2000 (JP2 file or bare codestream), from the magic bytes."""
    if image.startswith(b"\xff\xd8\xff"):
        return IMAGE_JPEG
    if image.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or image.startswith(b"\xff\x4f\xff\x51"):
        return IMAGE_JPEG2000
    raise LdsError(FILE, "face image is neither JPEG nor JPEG 2000")


def face_from_image(image: bytes, **fields: object) -> Face:
    """A Face for an encoded image, with type, size and colour space read from it."""
    from PIL import Image, UnidentifiedImageError

    data_type = image_data_type(image)
    try:
        with Image.open(io.BytesIO(image)) as picture:
            width, height = picture.size
            colour = 3 if picture.mode in ("L", "1") else 1
    except (UnidentifiedImageError, OSError) as exc:
        raise LdsError(FILE, f"face image unreadable: {exc}") from exc
    base = {"image_data_type": data_type, "width": width, "height": height, "colour_space": colour}
    base.update(fields)
    return Face(image=image, **base)  # type: ignore[arg-type]


def encode_face_record(faces: list[Face]) -> bytes:
    blocks = []
    for face in faces:
        points = b"".join(FEATURE_POINT.pack(p.type, p.code, p.x, p.y, 0) for p in face.feature_points)
        image_info = IMAGE_INFO.pack(face.face_image_type, face.image_data_type, face.width, face.height,
                                     face.colour_space, face.source_type, face.device_type, face.quality)
        length = FACE_INFO.size + len(points) + len(image_info) + len(face.image)
        info = FACE_INFO.pack(length, len(face.feature_points), face.gender, face.eye_colour,
                              face.hair_colour, face.feature_mask.to_bytes(3, "big"), face.expression,
                              bytes(face.pose), bytes(face.pose_uncertainty))
        blocks.append(info + points + image_info + face.image)
    body = b"".join(blocks)
    return RECORD_HEADER.pack(RECORD_MAGIC, RECORD_VERSION, RECORD_HEADER.size + len(body), len(faces)) + body


def encode(faces: list[Face]) -> bytes:
    """DG2 with one biometric instance per face."""
    header = tlv.encode(HEADER_TEMPLATE,
                        tlv.encode(0x80, b"\x01\x01")  # ICAO header version 1.1
                        + tlv.encode(0x81, b"\x02")  # biometric type: facial features
                        + tlv.encode(0x87, FORMAT_OWNER_SC37.to_bytes(2, "big"))
                        + tlv.encode(0x88, FORMAT_TYPE_FACE.to_bytes(2, "big")))
    templates = b"".join(tlv.encode(INSTANCE_TEMPLATE, header + tlv.encode(0x5F2E, encode_face_record([face])))
                         for face in faces)
    group = tlv.encode(0x02, bytes([len(faces)])) + templates
    return tlv.encode(TAG, tlv.encode(GROUP_TEMPLATE, group))
