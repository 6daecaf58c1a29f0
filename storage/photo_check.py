"""What a file sent as evidence is, judged by its bytes, and the copy of it that is kept.

- The type comes from the content, never the name: a JPEG, PNG or WebP picture (Pillow reads
  it) or a PDF (``%PDF-``); anything else, a renamed ``.exe`` too, is refused.
- Limits: the size, and the pixels a picture would decode to, read from its header before
  anything is decoded, so a small file that unpacks to gigabytes (a decompression bomb) is
  refused without being opened.
- The camera's EXIF time and GPS position are read and returned as data; the copy kept and
  served is re-encoded without any metadata (the right way up), and a small JPEG thumbnail is
  made once.

CPU work (a 12-megapixel photo takes a fraction of a second): call :func:`check` in a thread.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Pillow is imported when the first file is checked, not at start
    from PIL import Image

# Pillow's format → what is kept. MPO: the multi-picture JPEG some phones write (kept as its
# first picture, a JPEG).
PICTURES = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
OPENERS = ["JPEG", "PNG", "WEBP"]  # (Pillow's JPEG opener returns MPO pictures)
PDF = "application/pdf"

# EXIF tags (the standard's numbers)
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME = 0x9003, 0x0132
_GPS_LAT_REF, _GPS_LAT, _GPS_LON_REF, _GPS_LON = 1, 2, 3, 4


class Reason(StrEnum):
    EMPTY = "empty"
    TOO_BIG = "too_big"
    NOT_ALLOWED = "not_allowed"  # not a picture or a PDF, whatever its name says
    TOO_MANY_PIXELS = "too_many_pixels"  # a decompression bomb, or simply far too large
    UNREADABLE = "unreadable"  # says it is a picture but cannot be decoded


class Refused(Exception):
    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000  # a 50-megapixel camera's photo; a bomb is far beyond
    thumb_side: int = 320
    max_side: int = 4096  # larger pictures are kept at this size (a phone screen needs less)


@dataclass(frozen=True)
class Checked:
    data: bytes  # what is kept and served: no metadata
    mime: str
    width: int | None = None
    height: int | None = None
    taken_at: dt.datetime | None = None  # the camera's clock (local time, as it wrote it)
    latitude: float | None = None
    longitude: float | None = None
    thumbnail: bytes | None = None  # a small JPEG (pictures only)

    @property
    def is_picture(self) -> bool:
        return self.mime in PICTURES.values()


def check(data: bytes, limits: Limits = Limits()) -> Checked:
    """The file as it will be kept, or :class:`Refused` with the reason."""
    if not data:
        raise Refused(Reason.EMPTY)
    if len(data) > limits.max_bytes:
        raise Refused(Reason.TOO_BIG, f"{len(data)} bytes")
    if data.startswith(b"%PDF-"):
        if b"%%EOF" not in data[-2048:]:  # a PDF ends so; random bytes after a header do not
            raise Refused(Reason.UNREADABLE, "no end of file marker")
        return Checked(data=data, mime=PDF)
    with _DECODING, warnings.catch_warnings():  # a 50-megapixel picture takes ~0.5 GB
        warnings.filterwarnings("ignore", category=UserWarning, module="PIL")  # damaged EXIF
        try:
            return _picture(data, limits)
        except Refused:
            raise
        except Exception as exc:  # whatever a damaged file makes Pillow raise
            raise Refused(Reason.UNREADABLE, f"{type(exc).__name__}: {exc}") from None


# Pictures worked on at once, in every thread of the process: memory stays bounded whatever
# arrives together.
_DECODING = threading.BoundedSemaphore(2)


def _picture(data: bytes, limits: Limits) -> Checked:
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=OPENERS)
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise Refused(Reason.TOO_MANY_PIXELS, str(exc)) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise Refused(Reason.NOT_ALLOWED) from None
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise Refused(Reason.UNREADABLE)
        if width * height > limits.max_pixels:
            raise Refused(Reason.TOO_MANY_PIXELS, f"{width}x{height}")
        mime = PICTURES[str(image.format)]
        exif = image.getexif()
        taken_at = _taken_at(exif)
        latitude, longitude = _position(exif)
        if image.format in ("JPEG", "MPO"):  # decode at a reduced size where it is too large
            image.draft("RGB", (limits.max_side, limits.max_side))
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
        upright = image
        upright.info.clear()  # comments, ICC profile, XMP: not carried into what is kept
        if max(upright.size) > limits.max_side:
            upright.thumbnail((limits.max_side, limits.max_side))
        kept = _encode(upright, mime)
        small = upright.copy()
        small.thumbnail((limits.thumb_side, limits.thumb_side))
        thumbnail = _encode(small, "image/jpeg", quality=80)
        return Checked(
            data=kept,
            mime=mime,
            width=upright.width,
            height=upright.height,
            taken_at=taken_at,
            latitude=latitude,
            longitude=longitude,
            thumbnail=thumbnail,
        )


def _encode(image: Image.Image, mime: str, quality: int = 88) -> bytes:
    """Pixels only: a new file without EXIF, XMP, ICC or comments."""
    out = io.BytesIO()
    if mime == "image/png":
        image.save(out, "PNG", optimize=False)
    elif mime == "image/webp":
        image.save(out, "WEBP", quality=quality)
    else:
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def _taken_at(exif: Image.Exif) -> dt.datetime | None:
    raw = exif.get_ifd(_EXIF_IFD).get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        return dt.datetime.strptime(raw.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None


def _position(exif: Image.Exif) -> tuple[float | None, float | None]:
    gps = exif.get_ifd(_GPS_IFD)
    latitude = _degrees(gps.get(_GPS_LAT), gps.get(_GPS_LAT_REF), "S")
    longitude = _degrees(gps.get(_GPS_LON), gps.get(_GPS_LON_REF), "W")
    if latitude is None or longitude is None:
        return None, None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None, None
    return latitude, longitude


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    """Degrees, minutes, seconds (rationals) → signed decimal degrees."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60 + s / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "replace")
    if isinstance(ref, str) and ref.strip().upper() == negative:
        result = -result
    return round(result, 6)
