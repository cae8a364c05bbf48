"""Branding of the email (name, colours, logo, footer) from settings, overridable per issue."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailer.core.settings import Settings

_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


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
        )

    def with_overrides(self, overrides: dict[str, str]) -> Branding:
        """Apply an issue's front matter (brand_name, brand_color, tagline, logo_url)."""
        return replace(
            self,
            brand_name=overrides.get("brand_name", self.brand_name),
            color=overrides.get("brand_color", self.color),
            tagline=overrides.get("tagline", self.tagline),
            logo_url=overrides.get("logo_url", self.logo_url),
        )

    @property
    def tint(self) -> str:
        """A very light shade of the brand colour, for boxes and table headers."""
        return mix(self.color, "#ffffff", 0.9)


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
