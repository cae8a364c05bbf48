"""Parse an issue file (YAML front matter + Markdown) into a structured, validated Issue."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from markdown_it.token import Token

from mailer.core.errors import NewsletterError
from mailer.issue.images import ImageWidthError, size_images
from mailer.issue.markup import parse_markdown

REQUIRED_KEYS = ("subject",)
# Front matter an editor may set per issue; branding keys override the settings for one issue.
ALLOWED_KEYS = (
    "subject", "preheader", "date", "lang", "brand_name", "brand_color", "tagline", "logo_url"
)  # fmt: skip
BRANDING_KEYS = ("brand_name", "brand_color", "tagline", "logo_url", "lang")
_FENCE = "---"
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
LANG_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")  # a BCP 47 tag such as en or fr-CA


class IssueError(NewsletterError):
    """An issue file that cannot be used; the message reads FILE:LINE: what is wrong."""


@dataclass(frozen=True)
class Subsection:
    """A `### ` heading and the Markdown blocks under it."""

    title: str
    heading: Token  # the inline token of the heading, for rendering emphasis, links, emoji
    line: int
    tokens: tuple[Token, ...]


@dataclass(frozen=True)
class Section:
    """A `## ` heading (its own block in the email), its lead blocks and its sub-sections."""

    title: str
    heading: Token
    line: int
    tokens: tuple[Token, ...]
    subsections: tuple[Subsection, ...] = ()


@dataclass(frozen=True)
class Issue:
    """One newsletter issue, parsed and validated; rendered once for every recipient."""

    subject: str
    preheader: str
    date: date | None
    slug: str
    intro: tuple[Token, ...]
    sections: tuple[Section, ...]
    source: str
    branding: dict[str, str] = field(default_factory=dict)
    body_line: int = 1  # file line of the first Markdown line; token maps are relative to it
    markdown: str = ""  # the Markdown body as written, for lint
    dropped: tuple[tuple[str, str, int], ...] = ()  # (kind, title, line) of empty headings

    def blocks(self) -> Iterator[tuple[Token, ...]]:
        """Every run of content tokens, in reading order."""
        yield self.intro
        for section in self.sections:
            yield (section.heading,)
            yield section.tokens
            for sub in section.subsections:
                yield (sub.heading,)
                yield sub.tokens

    def inline_tokens(self) -> Iterator[tuple[int, Token]]:
        """Every inline child token (links, images, text) with the file line it comes from."""
        for tokens in self.blocks():
            for token in tokens:
                line = self.body_line + (token.map[0] if token.map else 0)
                for child in token.children or ():
                    yield line, child

    def links(self) -> list[str]:
        """Every link target of the issue, in order, without duplicates."""
        seen: dict[str, None] = {}
        for _line, token in self.inline_tokens():
            if token.type == "link_open":
                seen.setdefault(str(token.attrGet("href") or ""), None)
        return list(seen)


def parse_issue(path: Path) -> Issue:
    """Read and parse an issue file; every problem is an IssueError naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise IssueError(f"{path}: cannot read the issue: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise IssueError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    return parse_issue_text(text, source=str(path), base_dir=path.parent)


def parse_issue_text(text: str, source: str = "<issue>", base_dir: Path | None = None) -> Issue:
    """Parse issue text: front matter between `---` lines, then Markdown.

    `base_dir` is where local image files are looked up to learn their width.
    """
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    front, body, body_line = _split_front_matter(text, source)
    meta = _front_matter(front, source)
    subject = meta["subject"]
    tokens = parse_markdown(body)
    _size_images(tokens, base_dir, source, body_line)
    intro, sections, dropped = _split_sections(tokens, body_line)
    if not intro and not sections:
        raise IssueError(f"{source}:{body_line}: the issue has no content after the front matter")
    issue_date = meta.get("date")
    return Issue(
        subject=subject,
        preheader=meta.get("preheader", ""),
        date=issue_date,
        slug=make_slug(subject, issue_date),
        intro=intro,
        sections=sections,
        source=source,
        branding={key: meta[key] for key in BRANDING_KEYS if key in meta},
        body_line=body_line,
        markdown=body,
        dropped=dropped,
    )


def _size_images(tokens: list[Token], base_dir: Path | None, source: str, body_line: int) -> None:
    for token in tokens:
        images = [child for child in token.children or () if child.type == "image"]
        try:
            size_images(images, base_dir)
        except ImageWidthError as exc:
            line = body_line + (token.map[0] if token.map else 0)
            raise IssueError(f"{source}:{line}: {exc}") from exc


def make_slug(subject: str, issue_date: date | None) -> str:
    """`2026-11-30-twelve-months-to-tape-out`: the date, then the subject in plain ASCII."""
    ascii_text = unicodedata.normalize("NFKD", subject).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "issue"
    return f"{issue_date.isoformat()}-{words}" if issue_date else words


def _split_front_matter(text: str, source: str) -> tuple[str, str, int]:
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != _FENCE:
        raise IssueError(
            f"{source}:1: missing front matter: start the file with a '---' line, "
            "then 'subject: ...', then another '---' line"
        )
    for index in range(1, len(lines)):
        if lines[index].rstrip() == _FENCE:
            front = "\n".join(lines[1:index])
            return front, "\n".join(lines[index + 1 :]), index + 2
    raise IssueError(f"{source}:1: front matter is never closed: add a '---' line after it")


def _front_matter(front: str, source: str) -> dict[str, Any]:
    """Validate the YAML mapping; line numbers count from the file's first line."""

    def where(mark: Any) -> str:
        return f"{source}:{mark.line + 2 if mark is not None else 2}"

    loader = yaml.SafeLoader(front)
    try:
        node = loader.get_single_node()
        if node is None:
            raise IssueError(f"{source}:1: front matter is empty: 'subject' is required")
        if not isinstance(node, yaml.MappingNode):
            raise IssueError(
                f"{where(node.start_mark)}: front matter must be 'key: value' lines, "
                f"not a YAML {getattr(node, 'id', 'value')}"
            )
        return _front_matter_values(loader, node, source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise IssueError(
            f"{where(mark)}: broken YAML in front matter: {exc.problem}{_yaml_hint(exc)}"
        ) from exc
    except yaml.YAMLError as exc:
        raise IssueError(f"{source}:2: broken YAML in front matter: {exc}") from exc
    finally:
        loader.dispose()


def _yaml_hint(exc: yaml.MarkedYAMLError) -> str:
    """The usual cause: a value with ': ' or a leading quote, '#', '[' or '&' unquoted."""
    problem = str(exc.problem or "")
    if "mapping values" in problem or "found character" in problem or "expected" in problem:
        return (
            ": a value with ': ' (or starting with a quote, [, & or *) must be quoted, "
            'e.g. subject: "Q3: the numbers"'
        )
    return ""


def _front_matter_values(loader: Any, node: Any, source: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 2
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in ALLOWED_KEYS:
            raise IssueError(
                f"{source}:{line}: unknown front matter key {key!s}: "
                f"allowed keys are {', '.join(ALLOWED_KEYS)}"
            )
        if key in values:
            raise IssueError(f"{source}:{line}: front matter key {key} appears twice")
        values[key] = _value(key, value_node, loader, f"{source}:{line}")
    missing = [key for key in REQUIRED_KEYS if key not in values]
    if missing:
        raise IssueError(f"{source}:1: front matter has no '{missing[0]}': it is required")
    return values


def _value(key: str, node: Any, loader: Any, where: str) -> Any:
    """One front matter value, converted and checked for its key."""
    if key == "date":
        return _date_value(node, where)
    if not isinstance(node, yaml.ScalarNode) or node.tag.endswith((":null", ":bool")):
        raise IssueError(f"{where}: {key} must be text")
    text = str(node.value).strip()
    if not text and key in ("subject", "brand_name"):
        raise IssueError(f"{where}: {key} is empty")
    if "\n" in text and key in ("subject", "preheader"):
        raise IssueError(f"{where}: {key} must be one line")
    if key == "brand_color" and not _COLOR.fullmatch(text):
        raise IssueError(f"{where}: brand_color must be a hex colour such as #1f4fd1, not {text!r}")
    if key == "lang" and not LANG_TAG.fullmatch(text):
        raise IssueError(f"{where}: lang must be a language tag such as en or fr-CA, not {text!r}")
    if key == "logo_url" and not text.startswith(("https://", "http://")):
        raise IssueError(f"{where}: logo_url must start with https:// or http://")
    return text


def _date_value(node: Any, where: str) -> date:
    raw = str(node.value).strip() if isinstance(node, yaml.ScalarNode) else ""
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise IssueError(
            f"{where}: bad date {raw!r}: write it as YYYY-MM-DD, e.g. 2026-11-30"
        ) from exc


def _split_sections(
    tokens: list[Token], body_line: int
) -> tuple[tuple[Token, ...], tuple[Section, ...], tuple[tuple[str, str, int], ...]]:
    """Cut the token stream at top-level `## ` and `### ` headings; drop (and name) empty parts."""
    intro: list[Token] = []
    sections: list[_Draft] = []
    current = intro
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if _is_split_heading(token) and (token.tag == "h2" or sections):
            heading = tokens[index + 1]
            draft = _Draft(heading, body_line + (token.map[0] if token.map else 0))
            if token.tag == "h2":
                sections.append(draft)
            else:
                sections[-1].subs.append(draft)
            current = draft.tokens
            index += 3  # heading_open, inline, heading_close
            continue
        current.append(token)
        index += 1
    built = [draft.section() for draft in sections]
    kept = tuple(section for section in built if section.tokens or section.subsections)
    return tuple(intro), kept, _dropped(sections)


def _dropped(drafts: list[_Draft]) -> tuple[tuple[str, str, int], ...]:
    found: list[tuple[str, str, int]] = []
    for draft in drafts:
        empty_subs = [sub for sub in draft.subs if not sub.tokens]
        found.extend(("sub-heading", _plain(sub.heading), sub.line) for sub in empty_subs)
        if not draft.tokens and len(empty_subs) == len(draft.subs):
            found.append(("section", _plain(draft.heading), draft.line))
    return tuple(sorted(found, key=lambda item: item[2]))


def _is_split_heading(token: Token) -> bool:
    # Only top-level headings split: a heading inside a quote or a callout stays content.
    return token.type == "heading_open" and token.level == 0 and token.tag in ("h2", "h3")


@dataclass
class _Draft:
    """A section or sub-section while its tokens are being collected."""

    heading: Token
    line: int
    tokens: list[Token] = field(default_factory=list)
    subs: list[_Draft] = field(default_factory=list)

    def section(self) -> Section:
        subs = tuple(
            Subsection(_plain(sub.heading), sub.heading, sub.line, tuple(sub.tokens))
            for sub in self.subs
            if sub.tokens
        )
        return Section(_plain(self.heading), self.heading, self.line, tuple(self.tokens), subs)


def _plain(inline: Token) -> str:
    """The text of an inline token without Markdown markup."""
    kinds = ("text", "code_inline")
    parts = [child.content for child in inline.children or () if child.type in kinds]
    return "".join(parts).strip() or inline.content.strip()
