"""Serial OCR-B document reader: the framing protocol (pure) and the host driver."""
from drivers.devices.docreader.protocol import Frame, FrameDecoder, FrameError, FrameKind, Status
from drivers.devices.docreader.reader import DocumentReader, LinkStats, ReaderError, ReaderEvent

__all__ = ["DocumentReader", "Frame", "FrameDecoder", "FrameError", "FrameKind", "LinkStats",
           "ReaderError", "ReaderEvent", "Status"]
