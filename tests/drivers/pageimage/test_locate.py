"""Finding and levelling the MRZ (drivers.pageimage.locate) on arbitrary drawings: rows of marks
at any slope, length, spacing and thickness, rules and blobs. It returns two non-empty line crops
or says no MRZ was found; it never fails otherwise."""
import cv2
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.pageimage.locate import MrzNotFound, find_mrz_lines

ROW = st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 0.5), st.floats(0.3, 1.0), st.floats(-0.3, 0.3),
                st.integers(2, 60), st.integers(1, 30), st.booleans())


def drawn(size: tuple[int, int], rows: list[tuple]) -> np.ndarray:
    height, width = size
    image = np.full((height, width, 3), 235, np.uint8)
    for top, start, length, slope, marks, thickness, solid in rows:
        x0, x1 = start * width, min(width - 1.0, (start + length) * width)
        y0 = top * height
        if solid:   # a rule, an edge or a bar
            cv2.line(image, (round(x0), round(y0)), (round(x1), round(y0 + slope * (x1 - x0))), (20, 20, 20), thickness)
            continue
        for x in np.linspace(x0, x1, marks):
            y = y0 + slope * (x - x0)
            cv2.rectangle(image, (round(x), round(y)), (round(x + thickness * 0.6), round(y + thickness)),
                          (20, 20, 20), -1)
    return image


@settings(max_examples=120, deadline=None)
@given(st.tuples(st.integers(100, 700), st.integers(100, 900)), st.lists(ROW, max_size=6))
def test_arbitrary_drawings_give_two_line_crops_or_no_mrz(size, rows):
    try:
        lines = find_mrz_lines(drawn(size, rows))
    except MrzNotFound as refused:
        assert str(refused).startswith("no MRZ found")
        return
    assert len(lines.crops) == 2 and all(crop.shape[0] > 0 and crop.shape[1] > 0 for crop in lines.crops)


def test_two_rules_are_not_an_mrz():
    # Two long strokes where the MRZ would be: a booklet's edges, not characters.
    image = drawn((400, 600), [(0.8, 0.05, 0.9, 0.0, 2, 6, True), (0.9, 0.05, 0.9, 0.0, 2, 6, True)])
    try:
        find_mrz_lines(image)
    except MrzNotFound:
        return
    raise AssertionError("two rules were taken for an MRZ")


def test_two_rows_of_marks_turned_and_keystoned_are_levelled():
    rows = [(0.70, 0.05, 0.88, 0.09, 44, 14, False), (0.80, 0.03, 0.92, 0.07, 44, 14, False)]
    lines = find_mrz_lines(drawn((500, 800), rows))
    assert abs(lines.skew_degrees + np.degrees(np.arctan(0.08))) < 1.5
    for crop in lines.crops:
        ink = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY) < 128
        columns = np.nonzero(ink.any(axis=0))[0]
        rows_with_ink = np.nonzero(ink.any(axis=1))[0]
        # Level: the marks span the crop's width but only a band of its height.
        assert columns[-1] - columns[0] > crop.shape[1] * 0.8
        assert rows_with_ink[-1] - rows_with_ink[0] < crop.shape[0] * 0.9
