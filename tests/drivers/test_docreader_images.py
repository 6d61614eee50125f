"""Image frames alone: a page image cut into G frames and put back together, no port."""
import base64
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.devices.docreader.images import (
    CHUNK_BYTES,
    HEADER_LENGTH,
    MAX_IMAGE_BYTES,
    ImageAssembler,
    ImageFormat,
    ImageFrameError,
    Light,
    LostImage,
    PageImage,
    image_frames,
)
from drivers.devices.docreader.protocol import MAX_PAYLOAD, Frame, FrameDecoder


def page(size: int, light: Light = Light.VISIBLE, seed: int = 7) -> PageImage:
    data = bytes((seed * 31 + index * 17) % 256 for index in range(size))
    return PageImage(light, ImageFormat.JPEG, data)


def assemble(frames: list[Frame]) -> list[PageImage | LostImage]:
    assembler = ImageAssembler()
    return [settled for frame in frames for settled in assembler.take(frame)]


def test_header_layout_of_one_chunk():
    image = PageImage(Light.ULTRAVIOLET, ImageFormat.PNG, b"\x89PNG-bytes")
    [frame] = image_frames(image)
    assert frame.kind == "G"
    header = frame.payload[:HEADER_LENGTH].decode()
    assert header == f"UP00000001{len(image.data):08X}{zlib.crc32(b'UP' + image.data):08X}"
    assert base64.b64decode(frame.payload[HEADER_LENGTH:]) == image.data


def test_every_chunk_fits_a_frame_and_the_image_comes_back_whole():
    image = page(CHUNK_BYTES * 3 + 5)
    frames = image_frames(image)
    assert len(frames) == 4
    assert all(len(frame.payload) <= MAX_PAYLOAD for frame in frames)
    wire = b"".join(frame.encode() for frame in frames)
    decoded = FrameDecoder().feed(wire)
    assert assemble(decoded) == [image]


def test_light_sources_other_than_visible_travel_too():
    images = [page(10, Light.INFRARED, 1), page(20, Light.ULTRAVIOLET, 2), page(700, Light.VISIBLE, 3)]
    frames = [frame for image in images for frame in image_frames(image)]
    assert assemble(frames) == images


def test_an_image_cut_short_by_the_next_is_lost_and_the_next_kept():
    first, second = page(CHUNK_BYTES * 2 + 1, seed=1), page(CHUNK_BYTES + 1, seed=2)
    frames = image_frames(first)[:2] + image_frames(second)
    settled = assemble(frames)
    assert settled == [LostImage("image cut short after chunk 1 of 3"), second]


def test_cut_short_when_the_document_ends():
    assembler = ImageAssembler()
    assert assembler.take(image_frames(page(CHUNK_BYTES * 2))[0]) == []
    assert assembler.cut_short() == LostImage("image cut short after chunk 0 of 2")
    assert assembler.cut_short() is None


def test_a_missing_first_chunk_and_a_skipped_chunk_are_reported():
    frames = image_frames(page(CHUNK_BYTES * 3))
    assert assemble(frames[1:]) == [LostImage("image chunk 1 of 3 came without chunk 0"),
                                    LostImage("image chunk 2 of 3 came without chunk 0")]
    assert assemble([frames[0], frames[2]]) == [LostImage("image cut short after chunk 0 of 3"),
                                               LostImage("image chunk 2 of 3 came without chunk 0")]


def test_a_wrong_crc_loses_the_image():
    image = page(100)
    [frame] = image_frames(image)
    bad_crc = f"{zlib.crc32(b'VJ' + image.data) ^ 1:08X}".encode()
    payload = frame.payload[:18] + bad_crc + frame.payload[HEADER_LENGTH:]
    [lost] = assemble([Frame("G", 0, payload)])
    assert isinstance(lost, LostImage) and "CRC-32" in lost.reason


@pytest.mark.parametrize(("payload", "reason"), [
    (b"VJ0000", "shorter than its 26-byte header"),
    (b"XJ000000010000000100000000AA==", "unknown light source 'X'"),
    (b"VT000000010000000100000000AA==", "unknown image format 'T'"),
    (b"VJ00zz00010000000100000000AA==", "not hexadecimal"),
    (b"VJ00000001" + f"{MAX_IMAGE_BYTES + 1:08X}".encode() + b"00000000AA==", "exceeds"),
    (b"VJ000000050000000100000000AA==", "cannot come in 5 chunks"),
    (b"VJ000100010000000100000000AA==", "chunk 1 of an image of 1 chunks"),
    (b"VJ000000010000000100000000A!==", "not base64"),
    (b"VJ000000010000000200000000AA==", "holds 1 bytes, expected 2"),
])
def test_malformed_image_frames_are_lost_with_a_clear_reason(payload, reason):
    [lost] = assemble([Frame("G", 0, payload)])
    assert isinstance(lost, LostImage) and reason in lost.reason


def test_images_too_big_or_empty_cannot_be_sent():
    with pytest.raises(ImageFrameError, match="exceeds"):
        image_frames(PageImage(Light.VISIBLE, ImageFormat.JPEG, bytes(MAX_IMAGE_BYTES + 1)))
    with pytest.raises(ImageFrameError, match="needs image bytes"):
        image_frames(PageImage(Light.VISIBLE, ImageFormat.JPEG, b""))


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=CHUNK_BYTES * 4), st.sampled_from(list(Light)),
       st.sampled_from(list(ImageFormat)))
def test_any_image_round_trips(data, light, image_format):
    image = PageImage(light, image_format, data)
    wire = b"".join(frame.encode() for frame in image_frames(image))
    assert assemble(FrameDecoder().feed(wire)) == [image]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=MAX_PAYLOAD).map(
    lambda raw: Frame("G", 0, bytes(0x20 + byte % 95 for byte in raw))), max_size=6))
def test_arbitrary_image_payloads_never_crash_the_assembler(frames):
    for settled in assemble(frames):
        assert isinstance(settled, (PageImage, LostImage))


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=CHUNK_BYTES * 3), st.data())
def test_a_changed_byte_in_any_chunk_never_yields_a_wrong_image(data, draws):
    image = PageImage(Light.VISIBLE, ImageFormat.JPEG, data)
    frames = image_frames(image)
    which = draws.draw(st.integers(0, len(frames) - 1))
    payload = bytearray(frames[which].payload)
    position = draws.draw(st.integers(0, len(payload) - 1))
    replacement = draws.draw(st.integers(0x20, 0x7E).filter(lambda byte: byte != payload[position]))
    payload[position] = replacement
    frames[which] = Frame("G", 0, bytes(payload))
    for settled in assemble(frames):
        assert settled == image or isinstance(settled, LostImage)
