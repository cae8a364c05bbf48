"""The workspace's own scripts and stylesheet (templates/admin/static/), pinned by content hash.

No CDN and no build step: the files are served from the app. Their URLs carry a hash of the
content, so a browser caches them for a year and still gets a new version the moment it changes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import HTTPException
from fastapi.responses import Response

STATIC_DIR = Path(__file__).resolve().parents[2] / "templates" / "admin" / "static"
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@cache
def _load(name: str) -> tuple[bytes, str]:
    path = STATIC_DIR / name
    if path.suffix not in _TYPES or path.parent != STATIC_DIR or not path.is_file():
        raise FileNotFoundError(name)
    body = path.read_bytes()
    return body, hashlib.sha256(body).hexdigest()[:12]


def asset_url(prefix: str, name: str) -> str:
    """`prefix/name?v=HASH`: what templates put in <script src> and <link href>."""
    return f"{prefix}/{name}?v={_load(name)[1]}"


def asset_response(name: str) -> Response:
    try:
        body, _version = _load(name)
    except FileNotFoundError as exc:
        raise HTTPException(404) from exc
    headers = {"Cache-Control": "public, max-age=31536000, immutable"}
    return Response(body, media_type=_TYPES[Path(name).suffix], headers=headers)
