"""Face images central keeps, and the gate's evidence on a referred traveller.

Three kinds of photo (models.FaceImageKind): the live capture and the chip
photo a gate sends with a referral, and the photo a person alert's face was
enrolled from (shown beside a 1:N candidate). All are stored as JPEG in the
database and reached only through an opaque random token: there is no file
name or path anywhere, so nothing a browser sends can name a file.

ReferralEvidence never stops a referral: an image that is not a JPEG (or too large),
or a malformed candidate, is left out and the referral says so in its
reasons, so the traveller still reaches an officer.
"""
from __future__ import annotations

import io
import logging
import math
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from central.database import models as m
from common.sealing import Sealer, SealError, is_sealed

log = logging.getLogger(__name__)

MAX_JPEG_BYTES = 512 * 1024
MAX_PIXELS_SIDE = 4096
MAX_CANDIDATES = 20
# secrets.token_urlsafe(32): 43 characters of A-Z a-z 0-9 - _
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")


class ImageRefused(ValueError):
    """The bytes are not an image central keeps (not a JPEG, too large, undecodable)."""


@dataclass(frozen=True)
class ReferralCandidate:
    gallery: str
    subject_id: str
    score: float

    def as_json(self) -> dict:
        return {"gallery": self.gallery, "subject_id": self.subject_id, "score": self.score}


@dataclass(frozen=True)
class ReferralEvidence:
    """What a gate sends with a referral, already parsed; images may be empty."""

    live_jpeg: bytes = b""
    chip_jpeg: bytes = b""
    candidates: tuple[ReferralCandidate, ...] = ()


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a JPEG that decodes completely; ImageRefused otherwise."""
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_JPEG_BYTES:
        raise ImageRefused(f"{len(data)} bytes, more than {MAX_JPEG_BYTES}")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "JPEG":
                raise ImageRefused(f"a {image.format or 'unknown'} image, not a JPEG")
            if max(image.size) > MAX_PIXELS_SIDE:
                raise ImageRefused(f"{image.size[0]}x{image.size[1]} pixels, more than {MAX_PIXELS_SIDE} a side")
            image.load()  # decodes every pixel: a truncated or corrupt file fails here
            return image.size
    except ImageRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageRefused(f"not a readable JPEG ({exc.__class__.__name__})") from None


def to_jpeg(rgb, max_side: int = 640, quality: int = 88) -> bytes:
    """An RGB numpy image as JPEG, scaled down to at most max_side pixels a side."""
    from PIL import Image

    image = Image.fromarray(rgb)
    image.thumbnail((max_side, max_side))
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def store_image(session: Session, kind: m.FaceImageKind, jpeg: bytes, *, referral: m.Referral | None = None,
                person_alert: m.PersonAlert | None = None,
                traveller_file: m.TravellerFile | None = None) -> m.FaceImage:
    """Keep a face photo, sealed at rest when the database has a key file (Database.sealer)."""
    width, height = jpeg_size(jpeg)
    token = secrets.token_urlsafe(32)
    sealer: Sealer | None = session.info.get("sealer")
    stored = sealer.seal(jpeg, _context(token)) if sealer is not None else jpeg
    image = m.FaceImage(token=token, kind=kind, jpeg=stored, width=width, height=height,
                        referral_id=referral.id if referral is not None else None,
                        person_alert_id=person_alert.id if person_alert is not None else None,
                        traveller_file_id=traveller_file.id if traveller_file is not None else None,
                        created_at=m.utcnow())
    session.add(image)
    session.flush()
    return image


def attach(session: Session, referral: m.Referral, evidence: ReferralEvidence) -> list[str]:
    """Store a referral's evidence; one line per part left out (also added to the referral's reasons)."""
    notes = []
    for kind, data, label in ((m.FaceImageKind.LIVE, evidence.live_jpeg, "live capture"),
                              (m.FaceImageKind.CHIP, evidence.chip_jpeg, "chip photo")):
        if not data:
            continue
        try:
            store_image(session, kind, data, referral=referral)
        except ImageRefused as exc:
            notes.append(f"evidence: the gate's {label} was not kept: {exc}")
    kept = []
    for candidate in evidence.candidates[:MAX_CANDIDATES]:
        if (0 < len(candidate.subject_id) <= 64 and len(candidate.gallery) <= 64
                and math.isfinite(candidate.score) and 0.0 <= candidate.score <= 1.0):
            kept.append(candidate.as_json())
        else:
            notes.append(f"evidence: a watchlist candidate was not kept (subject {candidate.subject_id[:64]!r}, "
                         f"score {candidate.score!r})")
    referral.watchlist_candidates = kept
    if notes:
        log.warning("referral %s: %s", referral.referral_id, "; ".join(notes))
        referral.reasons = [*referral.reasons, *notes]
    return notes


def image_jpeg(session: Session, image: m.FaceImage) -> bytes:
    """The photo's JPEG, opened when it is sealed; SealError when its key is not this database's."""
    if not is_sealed(image.jpeg):
        return image.jpeg  # kept before central had a key file
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise SealError(f"face image {image.id} is sealed and central was started without its key file")
    return sealer.open(image.jpeg, _context(image.token))


def reseal_images(session: Session, batch: int = 500) -> int:
    """Seal under the current key up to `batch` photos kept in clear or under an older key; how many.

    Run again until it answers 0 (`limes central reseal`), after a new key was added to the key file.
    """
    sealer: Sealer | None = session.info.get("sealer")
    if sealer is None:
        raise SealError("no key file: nothing to seal with")
    # Only the rows still to do, chosen by the database: a batch never reads the images already done.
    prefix = sealer.current_prefix
    stale = select(m.FaceImage).where(func.substr(m.FaceImage.jpeg, 1, len(prefix)) != prefix) \
        .order_by(m.FaceImage.id).limit(batch)
    images = list(session.scalars(stale))
    for image in images:
        image.jpeg = sealer.seal(image_jpeg(session, image), _context(image.token))
    return len(images)


def _context(token: str) -> str:
    # The row's own token: a sealed photo copied into another row does not open there.
    return f"face_images:{token}"


def image_by_token(session: Session, token: str) -> m.FaceImage | None:
    """The image with this token; None for anything else (a token is never used as a path)."""
    if not TOKEN_PATTERN.fullmatch(token or ""):
        return None
    return session.scalar(select(m.FaceImage).where(m.FaceImage.token == token))


def referral_images(session: Session, referral: m.Referral) -> dict[m.FaceImageKind, m.FaceImage]:
    rows = session.scalars(select(m.FaceImage).where(m.FaceImage.referral_id == referral.id)
                           .order_by(m.FaceImage.id))
    return {row.kind: row for row in rows}


def enrolment_photo(session: Session, alert: m.PersonAlert) -> m.FaceImage | None:
    return session.scalar(select(m.FaceImage).where(m.FaceImage.person_alert_id == alert.id,
                                                    m.FaceImage.kind == m.FaceImageKind.ENROLMENT)
                          .order_by(m.FaceImage.id.desc()).limit(1))
