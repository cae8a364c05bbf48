"""Branding of the email (name, colours, logo, footer) from settings, overridable per issue."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailer.core.settings import Settings

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
AA_CONTRAST = 4.5  # WCAG AA for body-size text

# The dark palette (prefers-color-scheme: dark); the brand's own colours are derived from these.
DARK_BACKGROUND = "#111317"
DARK_CARD = "#1c1f25"
DARK_TEXT = "#e8eaed"
DARK_MUTED = "#aab0bb"
DARK_RULE = "#3b404a"
MUTED = "#4b5563"  # small grey text: 6.9:1 on the default #f3f4f6, 7.6:1 on white


@dataclass(frozen=True)
class Branding:
    """Everything the templates show that is not the issue itself."""

    brand_name: str = "The Newsletter"
    tagline: str = ""
    color: str = "#1f4fd1"
    text_color: str = "#1d1d1f"
    background: str = "#f3f4f6"
    logo_url: str | None = None
    footer_text: str = "You receive this because you subscribed to our newsletter."
    postal_address: str = ""
    postal_address_is_placeholder: bool = True
    from_name: str = "The Newsletter"
    lang: str = "en"
    subscribe_url: str = "http://127.0.0.1:8000/subscribe"

    @classmethod
    def from_settings(cls, settings: Settings) -> Branding:
        return cls(
            brand_name=settings.BRAND_NAME,
            tagline=settings.BRAND_TAGLINE,
            color=settings.BRAND_COLOR,
            text_color=settings.BRAND_TEXT_COLOR,
            background=settings.BRAND_BACKGROUND,
            logo_url=settings.BRAND_LOGO_URL,
            footer_text=settings.FOOTER_TEXT,
            postal_address=settings.POSTAL_ADDRESS,
            postal_address_is_placeholder=settings.postal_address_is_placeholder,
            from_name=settings.FROM_NAME,
            lang=settings.NEWSLETTER_LANG,
            subscribe_url=f"{settings.PUBLIC_BASE_URL.rstrip('/')}/subscribe",
        )

    def with_overrides(self, overrides: dict[str, str]) -> Branding:
        """Apply an issue's front matter (brand_name, brand_color, tagline, logo_url)."""
        return replace(
            self,
            brand_name=overrides.get("brand_name", self.brand_name),
            color=overrides.get("brand_color", self.color),
            tagline=overrides.get("tagline", self.tagline),
            logo_url=overrides.get("logo_url", self.logo_url),
            lang=overrides.get("lang", self.lang),
        )

    @property
    def tint(self) -> str:
        """A very light shade of the brand colour, for boxes and table headers."""
        return mix(self.color, "#ffffff", 0.9)

    @property
    def link_color(self) -> str:
        """The brand colour, darkened just enough to read as a link on white and on the tint."""
        return readable(self.color, self.tint, toward="#000000")

    @property
    def dark_link(self) -> str:
        """The brand colour, lightened just enough to read as a link on the dark card and tint."""
        return readable(self.color, self.dark_tint, toward="#ffffff")

    @property
    def dark_tint(self) -> str:
        """A dark shade of the brand colour, for boxes and table headers in dark mode."""
        return mix(self.color, DARK_CARD, 0.8)


def readable(color: str, background: str, toward: str) -> str:
    """`color` mixed toward `toward` in small steps until it reaches AA contrast."""
    for step in range(11):
        candidate = mix(color, toward, step / 10)
        if contrast(candidate, background) >= AA_CONTRAST:
            return candidate
    return toward


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two hex colours, 1 to 21 (a non-hex colour counts as black)."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _luminance(color: str) -> float:
    rgb = _rgb(color)
    if rgb is None:
        return 0.0
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def mix(color: str, other: str, amount: float) -> str:
    """Blend two hex colours; `amount` of `other`. Non-hex colours are returned unchanged."""
    first, second = _rgb(color), _rgb(other)
    if first is None or second is None:
        return color
    blended = (round(a + (b - a) * amount) for a, b in zip(first, second, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in blended)


def _rgb(color: str) -> tuple[int, int, int] | None:
    match = _HEX.fullmatch(color.strip())
    if match is None:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
