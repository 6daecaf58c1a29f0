"""Pictures and files made for the photo tests (no fixtures on disk: each is built here)."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def jpeg(
    size: tuple[int, int] = (800, 600),
    color: tuple[int, int, int] = (30, 140, 60),
    *,
    taken: str | None = "2021:10:12 08:30:00",
    gps: tuple[float, float] | None = (19.875, 105.6),
    orientation: int | None = None,
) -> bytes:
    """A JPEG photo with the EXIF a phone writes: when, where (and which way up)."""
    image = Image.new("RGB", size, color)
    image.paste((255, 255, 255), (0, 0, size[0] // 4, size[1] // 8))  # a mark: "top left"
    exif = Image.Exif()
    if taken:
        exif[0x0132] = taken
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:
        lat, lon = gps
        exif[0x8825] = {
            1: "N" if lat >= 0 else "S",
            2: _dms(abs(lat)),
            3: "E" if lon >= 0 else "W",
            4: _dms(abs(lon)),
        }
    if orientation:
        exif[0x0112] = orientation
    exif[0x010F] = "PhoneMaker"  # the camera's make: metadata that must not be served
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round(((value - degrees) * 60 - minutes) * 60, 4)
    return (float(degrees), float(minutes), seconds)


def png(size: tuple[int, int] = (320, 240)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )


def exe() -> bytes:
    """A Windows program's first bytes (what a renamed .exe starts with)."""
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(2000)


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header says ``width`` × ``height`` pixels: decoded, it would take
    gigabytes. Its data is a few rows of zeros compressed (it is never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    rows = zlib.compress(bytes(((width + 7) // 8 + 1) * 8), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
