"""Pixel widths of an issue's images: Outlook's Word engine draws an image at its `width`.

An editor gives the width in Markdown, `![alt](url){width=600}`; for an image file next to the
issue the width is read from the file itself. Widths are capped at the content column.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it.token import Token

EMAIL_WIDTH = 600
COLUMN_WIDTH = 544  # the 600 px email minus the text's 2 x 28 px padding
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


class ImageWidthError(ValueError):
    """A `{width=...}` that is not a number of pixels."""


def declared_width(token: Token) -> int | None:
    """The `{width=N}` of an image token (`N` or `Npx`), or None when there is none."""
    raw = token.attrGet("width")
    if raw is None:
        return None
    text = str(raw).strip().lower().removesuffix("px")
    if not text.isdigit() or int(text) == 0:
        raise ImageWidthError(f"image width {raw!r} must be a number of pixels, e.g. {{width=600}}")
    return int(text)


def size_images(images: Iterable[Token], base_dir: Path | None) -> None:
    """Give every image token a pixel `width` attribute when it can be known, capped."""
    for image in images:
        width = declared_width(image)
        if width is None and base_dir is not None:
            width = file_width(str(image.attrGet("src") or ""), base_dir)
        if width is not None:
            image.attrSet("width", str(min(width, COLUMN_WIDTH)))


def file_width(src: str, base_dir: Path) -> int | None:
    """Width in pixels of a local PNG, GIF or JPEG named by `src`; None if not a local image."""
    parts = urlsplit(src)
    if parts.scheme not in ("", "file") or not parts.path:
        return None
    path = Path(unquote(parts.path))
    path = path if path.is_absolute() else base_dir / path
    try:
        head = path.read_bytes()[:65536]
    except OSError:
        return None
    return _width_from_bytes(head)


def _width_from_bytes(data: bytes) -> int | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int(struct.unpack(">I", data[16:20])[0])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int(struct.unpack("<H", data[6:8])[0])
    if data.startswith(b"\xff\xd8"):
        return _jpeg_width(data)
    return None


def _jpeg_width(data: bytes) -> int | None:
    # Walk the segments to the frame header, which holds height then width.
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = int(struct.unpack(">H", data[index + 2 : index + 4])[0])
        if marker in _JPEG_FRAMES:
            return int(struct.unpack(">H", data[index + 7 : index + 9])[0])
        index += 2 + length
    return None
