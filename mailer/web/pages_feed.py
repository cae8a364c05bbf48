"""GET /archive/feed.xml: the public archive as an Atom feed, for readers who prefer a feed."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from mailer.readers.archive_feed import FEED_PATH, FeedInfo, atom_feed, public_archive_entries
from mailer.web.deps import web

router = APIRouter()


@router.get(FEED_PATH)
def archive_feed(request: Request) -> Response:
    app = web(request)
    settings = app.settings
    info = FeedInfo(
        title=settings.BRAND_NAME,
        subtitle=settings.BRAND_TAGLINE,
        author=settings.FROM_NAME,
        base_url=settings.PUBLIC_BASE_URL,
    )
    body = atom_feed(info, public_archive_entries(app.engine), datetime.now(UTC))
    response = Response(body, media_type="application/atom+xml; charset=utf-8")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
