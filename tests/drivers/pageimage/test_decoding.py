"""Bad page images get a clear error before any OCR runs."""
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from drivers.pageimage import PageImageError, decode_image
from drivers.pageimage.decoding import MAX_IMAGE_BYTES


def encoded(size=(400, 300), image_format="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 190, 170)).save(buffer, image_format)
    return buffer.getvalue()


def test_a_png_and_a_jpeg_decode_to_rgb_arrays():
    for image_format in ("PNG", "JPEG"):
        pixels = decode_image(encoded(image_format=image_format))
        assert pixels.shape == (300, 400, 3) and pixels.dtype == np.uint8


@pytest.mark.parametrize(("data", "message"), [
    (b"", "empty"),
    (b"this is not an image at all", "not a readable JPEG or PNG"),
    (encoded()[:200], "broken"),
    (encoded(image_format="GIF"), "GIF; JPEG or PNG expected"),
    (encoded(image_format="BMP"), "BMP; JPEG or PNG expected"),
    (encoded(size=(120, 80)), "at least 100"),
])
def test_bad_images_are_refused_with_the_reason(data, message):
    with pytest.raises(PageImageError, match=message):
        decode_image(data)


def test_too_many_bytes_are_refused_unread():
    with pytest.raises(PageImageError, match="at most"):
        decode_image(b"\x89PNG" + bytes(MAX_IMAGE_BYTES))


def test_a_huge_image_is_refused_from_its_header():
    # PNGs of one colour are a few kilobytes however large: their size is refused before decoding.
    with pytest.raises(PageImageError, match="8000x6000 pixels; at most 40000000"):
        decode_image(encoded(size=(8000, 6000)))
    with pytest.raises(PageImageError, match="too large"):
        decode_image(encoded(size=(10_000, 10_000)))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_pixels_or_a_page_image_error(data):
    try:
        decode_image(data)
    except PageImageError:
        pass


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_corrupted_pngs_give_pixels_or_a_page_image_error(position, junk):
    data = bytearray(encoded())
    position %= len(data)
    data[position:position + len(junk)] = junk
    try:
        decode_image(bytes(data))
    except PageImageError:
        pass
