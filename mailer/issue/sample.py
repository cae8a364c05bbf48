"""A sample copy of a rendered issue as a reader sees it: a sample name and sample links in place
of the substitution tags, and no banner slot, so a browser shows the real thing."""

from __future__ import annotations

from mailer.issue import placeholders as ph

SAMPLE_NAME = "Alex Reader"


def sample_values(base_url: str) -> dict[str, str]:
    """Links that open real pages without belonging to anyone: sign-up and the archive."""
    return {
        ph.UNSUBSCRIBE_URL: f"{base_url}/subscribe#unsubscribe-preview",
        ph.PREFERENCES_URL: f"{base_url}/subscribe#preferences-preview",
        ph.FORWARD_URL: f"{base_url}/archive#forward-preview",
        ph.VIEW_URL: f"{base_url}/archive#view-preview",
        ph.NAME: SAMPLE_NAME,
    }


def preview(html: str, text: str, base_url: str) -> tuple[str, str]:
    """(HTML, text) with every tag filled in and the banner slots gone."""
    values = sample_values(base_url)
    html = ph.fill(html.replace(ph.BANNER_MARKER, ""), values)
    return html, ph.fill(ph.without_banner(text), values)
