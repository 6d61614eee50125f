"""A document's data page read from its photograph: the MRZ (flagged, never silently wrong,
where its check digits fail or its lines are uncertain), the visual zone's name, number and
dates, and their cross-check. Numpy arrays in, dataclasses out; the OCR models are inside the
rapidocr-onnxruntime package (docs/PAGEIMAGE.md)."""
from drivers.pageimage.decoding import PageImageError, decode_image
from drivers.pageimage.mrz_from_image import MrzReading, read_mrz
from drivers.pageimage.visual_zone import Mismatch, VisualZone, cross_check, read_visual_zone

__all__ = ["Mismatch", "MrzReading", "PageImageError", "VisualZone", "cross_check", "decode_image",
           "read_mrz", "read_visual_zone"]
