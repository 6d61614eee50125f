"""Image frames: a page image cut into `G` frames, and put back together (pure).

A reader that photographs the data page sends each image as a run of `G` frames between the
PRESENT status and the MRZ frame. A frame's payload stays printable ASCII within MAX_PAYLOAD,
so the image travels in base64, in chunks, each behind a fixed header:

    LIGHT  FORMAT  INDEX   COUNT   LENGTH  CRC32   DATA
    1      1       4 hex   4 hex   8 hex   8 hex   base64 of up to CHUNK_BYTES bytes

    LIGHT   the light the page was lit by: V visible (white), I infrared, U ultraviolet
    FORMAT  J JPEG, P PNG
    INDEX   this chunk's place, from 0; COUNT chunks in all
    LENGTH  the whole image's size in bytes; CRC32 the CRC-32 of LIGHT, FORMAT and the image
            (the frames' own XOR check is one byte wide: the CRC catches what it lets through
            across a long image)

Every chunk repeats the header, so a receiver that missed chunk 0 knows at once the image is
broken, and a chunk of another image shows that the previous one was cut short.
"""
from __future__ import annotations

import base64
import binascii
import enum
import zlib
from dataclasses import dataclass, field

from drivers.devices.docreader.protocol import MAX_PAYLOAD, Frame, FrameKind

IMAGE_KIND = FrameKind.IMAGE.value
HEADER_LENGTH = 1 + 1 + 4 + 4 + 8 + 8
CHUNK_BYTES = (MAX_PAYLOAD - HEADER_LENGTH) // 4 * 3   # whole base64 groups: 363 bytes
MAX_IMAGE_BYTES = 4 * 1024 * 1024                       # a 300 dpi colour data page is far below


class Light(str, enum.Enum):
    VISIBLE = "V"
    INFRARED = "I"
    ULTRAVIOLET = "U"


class ImageFormat(str, enum.Enum):
    JPEG = "J"
    PNG = "P"


class ImageFrameError(ValueError):
    """An image frame, or a run of them, that cannot be turned into an image."""


@dataclass(frozen=True)
class PageImage:
    """One photograph of the data page, encoded as the reader sent it."""

    light: Light
    format: ImageFormat
    data: bytes = field(repr=False)


def image_frames(image: PageImage) -> list[Frame]:
    """The `G` frames that carry `image` (sequence bits 0: the sender sets them)."""
    if not image.data:
        raise ImageFrameError("an image frame needs image bytes, got none")
    if len(image.data) > MAX_IMAGE_BYTES:
        raise ImageFrameError(f"image of {len(image.data)} bytes exceeds {MAX_IMAGE_BYTES}")
    chunks = [image.data[start:start + CHUNK_BYTES] for start in range(0, len(image.data), CHUNK_BYTES)]
    header = f"{len(chunks):04X}{len(image.data):08X}{_crc(image.light, image.format, image.data):08X}"
    return [Frame(IMAGE_KIND, 0, (f"{image.light.value}{image.format.value}{index:04X}{header}".encode("ascii")
                                  + base64.b64encode(chunk)))
            for index, chunk in enumerate(chunks)]


def _crc(light: Light, image_format: ImageFormat, data: bytes) -> int:
    """CRC-32 of the light and format letters, then the image: a changed letter is caught too."""
    return zlib.crc32(data, zlib.crc32((light.value + image_format.value).encode("ascii")))


@dataclass(frozen=True)
class _Header:
    light: Light
    format: ImageFormat
    index: int
    count: int
    length: int
    crc: int

    def same_image(self, other: _Header) -> bool:
        return (self.light, self.format, self.count, self.length, self.crc) == (
            other.light, other.format, other.count, other.length, other.crc)


def _read_header(payload: bytes) -> tuple[_Header, bytes]:
    if len(payload) < HEADER_LENGTH:
        raise ImageFrameError(f"image frame of {len(payload)} bytes is shorter than its "
                              f"{HEADER_LENGTH}-byte header")
    text = payload[:HEADER_LENGTH].decode("ascii")
    try:
        light = Light(text[0])
    except ValueError:
        raise ImageFrameError(f"unknown light source {text[0]!r} (V, I or U)") from None
    try:
        image_format = ImageFormat(text[1])
    except ValueError:
        raise ImageFrameError(f"unknown image format {text[1]!r} (J or P)") from None
    try:
        numbers = [int(text[start:end], 16) for start, end in ((2, 6), (6, 10), (10, 18), (18, 26))]
    except ValueError:
        raise ImageFrameError(f"image frame header {text[2:]!r} is not hexadecimal") from None
    index, count, length, crc = numbers
    if length > MAX_IMAGE_BYTES:
        raise ImageFrameError(f"image of {length} bytes exceeds {MAX_IMAGE_BYTES}")
    if length == 0 or count != -(-length // CHUNK_BYTES):
        raise ImageFrameError(f"an image of {length} bytes cannot come in {count} chunks")
    if index >= count:
        raise ImageFrameError(f"chunk {index} of an image of {count} chunks")
    try:
        data = base64.b64decode(payload[HEADER_LENGTH:], validate=True)
    except binascii.Error as exc:
        raise ImageFrameError(f"image chunk {index} is not base64: {exc}") from None
    expected = CHUNK_BYTES if index < count - 1 else length - CHUNK_BYTES * (count - 1)
    if len(data) != expected:
        raise ImageFrameError(f"image chunk {index} holds {len(data)} bytes, expected {expected}")
    return _Header(light, image_format, index, count, length, crc), data


@dataclass(frozen=True)
class LostImage:
    """An image that could not be put together, and why."""

    reason: str


class ImageAssembler:
    """Collects `G` frames, in order, into PageImages.

    `take` returns what a frame settled: the image its last chunk completes, or a LostImage for
    a malformed chunk, a chunk out of order, an image cut short by the next one, or bytes whose
    CRC differs (the broken image is forgotten; a new image's chunk 0 still starts it).
    `cut_short` is called when the document's frames end (MRZ frame, removal, lost link).
    """

    def __init__(self) -> None:
        self._header: _Header | None = None
        self._parts: list[bytes] = []

    def take(self, frame: Frame) -> list[PageImage | LostImage]:
        if frame.kind != IMAGE_KIND:
            raise ValueError(f"frame kind {frame.kind!r} is not an image frame")
        try:
            header, data = _read_header(frame.payload)
        except ImageFrameError as exc:
            self._forget()
            return [LostImage(str(exc))]
        settled: list[PageImage | LostImage] = []
        current = self._header
        if current is not None and not (header.same_image(current) and header.index == len(self._parts)):
            settled.append(LostImage(f"image cut short after chunk {current.index} of {current.count}"))
            self._forget()
        if self._header is None:
            if header.index != 0:
                return [*settled, LostImage(f"image chunk {header.index} of {header.count} came without chunk 0")]
            self._parts = []
        self._header = header
        self._parts.append(data)
        if len(self._parts) == header.count:
            settled.append(self._complete())
        return settled

    def cut_short(self) -> LostImage | None:
        """The image being assembled, lost because the document's frames ended; None when none was."""
        if self._header is None:
            return None
        lost = LostImage(f"image cut short after chunk {self._header.index} of {self._header.count}")
        self._forget()
        return lost

    def _forget(self) -> None:
        self._header, self._parts = None, []

    def _complete(self) -> PageImage | LostImage:
        header = self._header
        assert header is not None
        data = b"".join(self._parts)
        self._forget()
        crc = _crc(header.light, header.format, data)
        if crc != header.crc:
            return LostImage(f"image CRC-32 is {crc:08X}, its header says {header.crc:08X}")
        return PageImage(header.light, header.format, data)
