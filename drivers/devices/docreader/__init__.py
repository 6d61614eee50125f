"""Serial OCR-B document reader: the framing protocol (pure) and the host driver."""
from drivers.devices.docreader.images import (
    ImageAssembler,
    ImageFormat,
    ImageFrameError,
    Light,
    LostImage,
    PageImage,
    image_frames,
)
from drivers.devices.docreader.protocol import Frame, FrameDecoder, FrameError, FrameKind, Status
from drivers.devices.docreader.reader import (
    DocumentCapture,
    DocumentReader,
    LinkStats,
    ReaderError,
    ReaderEvent,
)

__all__ = ["DocumentCapture", "DocumentReader", "Frame", "FrameDecoder", "FrameError", "FrameKind",
           "ImageAssembler", "ImageFormat", "ImageFrameError", "Light", "LinkStats", "LostImage",
           "PageImage", "ReaderError", "ReaderEvent", "Status", "image_frames"]
