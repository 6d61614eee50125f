"""The OCR engine: RapidOCR's PP-OCRv4 models (inside the rapidocr-onnxruntime wheel) in ONNX
Runtime. Nothing is downloaded: the models are files of the installed package.

Lines are recognised by the recognition model alone, on crops this package cut; the detector
runs only for the visual zone, whose fields are not at places known in advance. The CTC output
is decoded here rather than by RapidOCR so that each character keeps its own probability and
its horizontal place, and so that a line can be read within an alphabet (the MRZ's 37
characters): a Chinese character the model might prefer cannot appear.
"""
from __future__ import annotations

import functools
import math
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

_LOCK = threading.Lock()       # one engine per process; ONNX Runtime sessions are not cheap
_RUN_LOCK = threading.Lock()   # one page read at a time: a second would only share the same cores
_ENGINE = None
_RECOGNISER = None
_THREADS = 2                   # the machine's cores; a desk shares them with the chip read
_REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"


@dataclass(frozen=True)
class RecognisedLine:
    text: str
    confidences: tuple[float, ...]   # per character: the model's probability of it
    positions: tuple[float, ...]     # per character: its centre, as a fraction of the crop's width

    @property
    def confidence(self) -> float:
        return min(self.confidences, default=0.0)


@dataclass(frozen=True)
class DetectedText:
    text: str
    confidence: float
    box: tuple[tuple[float, float], ...]   # four corners, image pixels


def _models() -> Path:
    import rapidocr_onnxruntime  # the models are files inside this package

    return Path(rapidocr_onnxruntime.__file__).parent / "models"


class _Recogniser:
    """PP-OCRv4's recognition model in our own ONNX Runtime session: few threads and no spinning,
    since a desk shares its cores (RapidOCR's own session spins its pool while it waits)."""

    HEIGHT = 48

    def __init__(self) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = _THREADS
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(str(_models() / _REC_MODEL), options,
                                                    providers=["CPUExecutionProvider"])
        keys = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.characters = ["blank", *keys, " "]   # CTC's blank first, the space last, as PaddleOCR trains it
        self.input = self.session.get_inputs()[0].name

    def __call__(self, crops: list[np.ndarray]) -> tuple[np.ndarray, list[float]]:
        """(per line: time steps x classes probabilities, per line: the fraction of the input it fills)."""
        widths = [max(1, math.ceil(self.HEIGHT * crop.shape[1] / crop.shape[0])) for crop in crops]
        batch_width = max(widths)
        batch = np.zeros((len(crops), 3, self.HEIGHT, batch_width), np.float32)
        for index, (crop, width) in enumerate(zip(crops, widths, strict=True)):
            resized = cv2.resize(crop, (width, self.HEIGHT)).astype(np.float32)
            batch[index, :, :, :width] = (resized.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        return self.session.run(None, {self.input: batch})[0], [width / batch_width for width in widths]


def _recogniser() -> _Recogniser:
    global _RECOGNISER
    with _LOCK:
        if _RECOGNISER is None:
            _RECOGNISER = _Recogniser()
        return _RECOGNISER


def _engine():
    global _ENGINE
    with _LOCK:
        if _ENGINE is None:
            from rapidocr_onnxruntime import RapidOCR  # slow to import: only when a page is read

            _ENGINE = RapidOCR(intra_op_num_threads=_THREADS, inter_op_num_threads=1)
        return _ENGINE


def recognise_lines(crops: list[np.ndarray], alphabet: str | None = None) -> list[RecognisedLine]:
    """Each crop (RGB, one line of text) read by the recognition model; within `alphabet` when given."""
    if not crops:
        return []
    recogniser = _recogniser()
    with _RUN_LOCK:
        probabilities, fills = recogniser(crops)
    allowed = _allowed_classes(recogniser.characters, alphabet)
    lines = []
    for line_probabilities, fill in zip(probabilities, fills, strict=True):
        used = max(1, round(line_probabilities.shape[0] * fill))   # the steps over the crop, not its padding
        lines.append(_ctc_greedy(line_probabilities[:used], recogniser.characters, allowed))
    return lines


def read_characters(cells: list[np.ndarray], alphabet: str) -> list[dict[str, float]]:
    """Each crop holds one character: for each character of `alphabet`, the highest probability
    the model gives it at any step over the crop, its look-alike classes (full-width forms, lower
    case, the angle brackets of other scripts for '<') counted with it. The caller weighs them;
    a cell the model calls blank scores low throughout."""
    if not cells:
        return []
    recogniser = _recogniser()
    with _RUN_LOCK:
        probabilities, fills = recogniser(cells)
    synonyms = _synonyms(tuple(recogniser.characters), alphabet)
    scores = []
    for cell_probabilities, fill in zip(probabilities, fills, strict=True):
        used = cell_probabilities[:max(1, round(cell_probabilities.shape[0] * fill))]
        scores.append({char: float(used[:, classes].sum(axis=1).max()) for char, classes in synonyms.items()})
    return scores


_EXTRA_SYNONYMS = {"<": "‹〈＜«くᐸ⟨", "O": "〇Ο", "0": "Ο"}


@functools.cache
def _synonyms(characters: tuple[str, ...], alphabet: str) -> dict[str, list[int]]:
    """For each character of `alphabet`, the model's classes that stand for it."""
    classes: dict[str, list[int]] = {char: [] for char in alphabet}
    for index, name in enumerate(characters):
        if index == 0:
            continue   # CTC's blank
        folded = unicodedata.normalize("NFKC", name).upper()
        for char in alphabet:
            if folded == char or name in _EXTRA_SYNONYMS.get(char, ""):
                classes[char].append(index)
    return {char: indices for char, indices in classes.items() if indices}


def detect_text(image: np.ndarray) -> list[DetectedText]:
    """Every text box the detector finds in `image` (RGB), read."""
    result, _ = _engine()(image[..., ::-1].copy(), use_cls=False)   # RapidOCR takes OpenCV's BGR
    return [DetectedText(str(text), float(score), tuple((float(x), float(y)) for x, y in box))
            for box, text, score in (result or [])]


def _allowed_classes(characters: list[str], alphabet: str | None) -> np.ndarray | None:
    if alphabet is None:
        return None
    wanted = set(alphabet)
    return np.array([index for index, char in enumerate(characters) if index == 0 or char in wanted])


def _ctc_greedy(probabilities: np.ndarray, characters: list[str], allowed: np.ndarray | None) -> RecognisedLine:
    steps = probabilities.shape[0]
    if allowed is not None:
        restricted = probabilities[:, allowed]
        best = allowed[restricted.argmax(axis=1)]
    else:
        best = probabilities.argmax(axis=1)
    text, confidences, positions = [], [], []
    previous = 0
    for step, index in enumerate(best):
        if index != 0 and index != previous:
            text.append(characters[index])
            confidences.append(float(probabilities[step, index]))
            positions.append((step + 0.5) / steps)
        elif index != 0 and index == previous:   # the same character held: keep its best probability
            confidences[-1] = max(confidences[-1], float(probabilities[step, index]))
        previous = index
    return RecognisedLine("".join(text), tuple(confidences), tuple(positions))
