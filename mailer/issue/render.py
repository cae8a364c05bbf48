"""Render an issue ONCE: Jinja2 -> MJML -> HTML (mjml-python) -> inlined CSS (premailer) + text.

The output carries the per-recipient placeholders of `mailer.issue.placeholders` (filled at send
time) and the banner markers, so nothing here ever depends on a subscriber.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from html import escape
from pathlib import Path

import jinja2
from markupsafe import Markup
from mjml import mjml2html

from mailer.core.errors import NewsletterError
from mailer.issue import branding as palette
from mailer.issue import placeholders
from mailer.issue.branding import Branding
from mailer.issue.inliner import CachedPremailer
from mailer.issue.lint import check
from mailer.issue.lint import errors as lint_errors
from mailer.issue.markup import inline_html, to_html
from mailer.issue.parse import Issue, Section, parse_issue
from mailer.issue.plaintext import WIDTH, blocks_text, heading_text, underlined, wrap

__all__ = ["Branding", "RenderedIssue", "render_file", "render_issue"]

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
TEMPLATE = "issue.mjml.j2"
# Invisible characters after the preheader keep inboxes from filling the preview line with
# the first words of the body ("View in your browser ...").
_PREVIEW_FILLER = Markup("&#847;&zwnj;&nbsp;" * 40)
_DOCTYPE = "<!doctype html>"
FONTS = "-apple-system, BlinkMacSystemFont, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
COLORS = {
    "muted": palette.MUTED,
    "dark_background": palette.DARK_BACKGROUND,
    "dark_card": palette.DARK_CARD,
    "dark_text": palette.DARK_TEXT,
    "dark_muted": palette.DARK_MUTED,
    "dark_rule": palette.DARK_RULE,
}
_ARIA_LABEL = re.compile(r'aria-label="(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class RenderedIssue:
    """One issue as every recipient gets it, before their placeholders are filled in."""

    subject: str
    preheader: str
    slug: str
    html: str
    text: str
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # lint errors: a send refuses the issue


def render_file(path: Path, branding: Branding) -> RenderedIssue:
    return render_issue(parse_issue(path), branding)


def render_issue(issue: Issue, branding: Branding) -> RenderedIssue:
    brand = branding.with_overrides(issue.branding)
    html = inline_css(_fix_aria_label(mjml_to_html(render_mjml(issue, brand)), issue.subject))
    return RenderedIssue(
        subject=issue.subject,
        preheader=issue.preheader,
        slug=issue.slug,
        html=html,
        text=render_text(issue, brand),
        warnings=check(issue, html, brand),
        errors=lint_errors(issue),
    )


def render_mjml(issue: Issue, brand: Branding) -> str:
    """The issue as MJML source, from the designer's template."""
    sections = [_section_context(section) for section in issue.sections]
    return _template().render(
        issue=issue,
        brand=brand,
        p=_placeholder_names(),
        colors=COLORS,
        fonts=FONTS,  # no quotes: the same text serves in CSS and in an attribute
        banner_marker=Markup(placeholders.BANNER_MARKER),
        subscriber_only=tuple(Markup(marker) for marker in placeholders.SUBSCRIBER_ONLY),
        preview_filler=_PREVIEW_FILLER,
        date_text=long_date(issue.date),
        intro_html=Markup(to_html(issue.intro)),
        sections=sections,
    )


def mjml_to_html(source: str) -> str:
    try:
        # Comments stay: the banner marker is one. No web fonts: system fonts load instantly.
        return mjml2html(source, disable_comments=False, fonts={})
    except Exception as exc:  # mjml-python raises plain exceptions for template mistakes
        raise NewsletterError(f"{TEMPLATES_DIR / TEMPLATE}: MJML error: {exc}") from exc


def _fix_aria_label(html: str, subject: str) -> str:
    """mjml-python writes the title into aria-label Rust-escaped (`\\u{fe0f}`, `\\"`); redo it."""
    label = escape(subject, quote=True)
    return _ARIA_LABEL.sub(lambda _: f'aria-label="{label}"', html, count=1)


def inline_css(html: str) -> str:
    """Move the CSS onto the elements; media queries stay in a <style> block."""
    inliner = CachedPremailer(html)
    inlined: str = inliner.transform(pretty_print=False)
    return inlined if inlined.lstrip().lower().startswith("<!doctype") else _DOCTYPE + inlined


def render_text(issue: Issue, brand: Branding) -> str:
    """The text/plain part: the same sections, links written out, the same footer."""
    head = [brand.brand_name, *([brand.tagline] if brand.tagline else [])]
    dated = long_date(issue.date)
    head.append(f"{dated} · " * bool(dated) + f"View in your browser: {placeholders.VIEW_URL}")
    parts = ["\n".join(head), placeholders.TEXT_BANNER_MARKER, underlined(issue.subject, "=")]
    parts.append(blocks_text(issue.intro))
    for section in issue.sections:
        parts.append(_section_text(section))
    parts.append(_footer_text(brand))
    return "\n\n".join(part for part in parts if part) + "\n"


def long_date(value: date | None) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}" if value else ""


def _section_context(section: Section) -> dict[str, Markup]:
    body = [to_html(section.tokens)]
    for sub in section.subsections:
        body.append(f"<h3>{inline_html(sub.heading)}</h3>\n{to_html(sub.tokens)}")
    return {
        "title_html": Markup(inline_html(section.heading)),
        "body_html": Markup("".join(body)),
    }


def _section_text(section: Section) -> str:
    parts = [heading_text(section.heading, "="), blocks_text(section.tokens)]
    for sub in section.subsections:
        parts.extend([heading_text(sub.heading, "-"), blocks_text(sub.tokens)])
    return "\n\n".join(part for part in parts if part)


def _footer_text(brand: Branding) -> str:
    lines = [
        "-" * WIDTH,
        f"Enjoyed this issue? Forward it to a friend: {placeholders.FORWARD_URL}",
        "",
        f"Was this forwarded to you? Subscribe: {brand.subscribe_url}",
        "",
        wrap(brand.footer_text, WIDTH),
        brand.brand_name,
        brand.postal_address,  # never wrapped: it is one address line, kept searchable
        "",
        f"Unsubscribe: {placeholders.UNSUBSCRIBE_URL}",
        f"Manage preferences: {placeholders.PREFERENCES_URL}",
    ]
    return "\n".join(lines)


def _placeholder_names() -> dict[str, str]:
    return {
        "UNSUBSCRIBE_URL": placeholders.UNSUBSCRIBE_URL,
        "PREFERENCES_URL": placeholders.PREFERENCES_URL,
        "FORWARD_URL": placeholders.FORWARD_URL,
        "VIEW_URL": placeholders.VIEW_URL,
        "NAME": placeholders.NAME,
    }


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)
