"""Responses shared by `newsletter preview` and the workspace editor: the page CSP, the frames.

A frame shows the email itself, with its inline styles, inside a sandboxed iframe of our own
page; it runs no script and may be framed only by our own pages.
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse

from mailer.issue.preview import MODES, Mode, Preview, frame_document

# Workspace pages run our own scripts (no inline script), fetch from us, and frame our previews.
WORKSPACE_CSP = (
    "default-src 'none'; script-src 'self'; connect-src 'self'; frame-src 'self'; "
    "style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "font-src https: data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'"
)


def frame_mode(mode: str) -> Mode:
    for known in MODES:
        if mode == known:
            return known
    raise HTTPException(404, f"no preview called {mode!r}: use one of {', '.join(MODES)}")


def frame_response(result: Preview, mode: str) -> HTMLResponse:
    headers = {
        "Content-Security-Policy": FRAME_CSP,
        "X-Frame-Options": "SAMEORIGIN",
        "Cache-Control": "no-store",
    }
    return HTMLResponse(frame_document(result, frame_mode(mode)), headers=headers)


def summary_response(result: Preview, **extra: Any) -> JSONResponse:
    return JSONResponse({**result.summary(), **extra}, headers={"Cache-Control": "no-store"})
