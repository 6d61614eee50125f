"""The simulator's data-page images: what is printed, and the damage a reader's camera adds."""
from datetime import date

import cv2
import numpy as np

from drivers.mrz import parse
from hardware_sim.datapage import Damage, PrintedPage, damage_page, encode_jpeg, random_page, render_page, viz_date
from hardware_sim.datapage.render import page_size

SPECIMEN = PrintedPage(surname="ERIKSSON", given_names="ANNA MARIA", nationality="UTO", sex="F",
                       birth_date=date(1974, 8, 12), document_number="L898902C3", expiry_date=date(2012, 4, 15),
                       issue_date=date(2007, 4, 16), issuing_state="UTO",
                       mrz="P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10")


def test_a_clean_page_has_the_td3_size_and_ink_where_the_mrz_is():
    page = render_page(SPECIMEN)
    width, height = page_size()
    assert page.shape == (height, width, 3) and page.dtype == np.uint8
    mrz_zone, margin_above = page[height - 130:height - 20], page[height - 190:height - 150]
    assert mrz_zone.min() < 60            # OCR-B ink
    assert margin_above.min() > 150       # the clear band between the visual zone and the MRZ


def test_random_pages_carry_valid_mrzs_and_viz_dates():
    rng = np.random.default_rng(1)
    for _ in range(20):
        page = random_page(rng)
        mrz = parse(page.mrz_text, today=date(2026, 12, 1))
        assert (mrz.document_number, mrz.birth_date, mrz.expiry_date) == (
            page.document_number, page.birth_date, page.expiry_date)
    assert viz_date(date(1974, 8, 12)) == "12 AUG 1974"


def test_damage_is_reproducible_and_changes_the_page():
    page = render_page(SPECIMEN)
    damage = Damage.realistic(np.random.default_rng(4))
    first, again = damage_page(page, damage, seed=9), damage_page(page, damage, seed=9)
    assert np.array_equal(first, again)
    assert first.shape[0] > page.shape[0] and first.shape[1] > page.shape[1]   # the reader's glass around it
    assert not np.array_equal(first, damage_page(page, damage, seed=10))


def test_glare_whitens_and_rotation_turns():
    page = render_page(SPECIMEN)
    glare = damage_page(page, Damage(glare=0.9, glare_centre=(0.5, 0.5), glare_radius=0.2))
    plain = damage_page(page, Damage())
    centre = (slice(plain.shape[0] // 2 - 10, plain.shape[0] // 2 + 10),
              slice(plain.shape[1] // 2 - 10, plain.shape[1] // 2 + 10))
    assert glare[centre].mean() > plain[centre].mean() + 20
    turned = damage_page(page, Damage(rotation_degrees=3.0))
    assert not np.array_equal(turned, plain)


def test_jpeg_output_decodes_to_the_same_size():
    image = damage_page(render_page(SPECIMEN), Damage(jpeg_quality=60))
    data = encode_jpeg(image, 60)
    assert data[:2] == b"\xff\xd8"
    assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR).shape == image.shape


def test_ink_spread_thickens_the_mrz_strokes_by_the_pixels_asked():
    page = render_page(SPECIMEN)
    mrz = (slice(page.shape[0] - 110, page.shape[0] - 20), slice(None))
    inked = [int((damage_page(page, Damage(ink_spread=spread))[mrz] < 100).sum()) for spread in (0, 1, 2)]
    assert inked[0] < inked[1] < inked[2]
    assert inked[1] > inked[0] * 1.3   # one pixel each side of strokes a few pixels wide
