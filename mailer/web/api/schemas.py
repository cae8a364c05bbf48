"""Pydantic models of every API request and response (they are the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, RootModel


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL: refuse it here, naming the field, not in the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
Short = Annotated[str, Field(max_length=320), AfterValidator(_no_nul)]
Id = Annotated[int, Field(ge=1, le=2_147_483_647)]
Scalar = (
    Annotated[str, Field(max_length=10_000), AfterValidator(_no_nul)]
    | bool
    | int
    | Annotated[float, Field(allow_inf_nan=False)]
    | None
)
Attrs = Annotated[
    dict[Annotated[str, Field(max_length=100), AfterValidator(_no_nul)], Scalar],
    Field(max_length=200),
]
Names = Annotated[list[Short], Field(max_length=100)]


class In(BaseModel):
    """A request body: unknown fields are errors, so a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ListIn(In):
    name: Annotated[Text, Field(min_length=1, max_length=100)]
    title: Annotated[Text, Field(max_length=200)] = ""
    public: bool = True


class ListOut(BaseModel):
    name: str
    title: str
    public: bool
    active: int


class SubscriberIn(In):
    email: Short
    name: Annotated[Text, Field(max_length=200)] = ""
    lists: Names = []
    tags: Names = []
    attrs: Attrs = {}
    timezone: Annotated[Text, Field(max_length=64)] | None = None


class SubscriberPatch(In):
    name: Annotated[Text, Field(max_length=200)] | None = None
    timezone: Annotated[Text, Field(max_length=64)] | None = None
    attrs: Attrs | None = None
    tags: Names | None = None
    lists: Names | None = None
    status: Annotated[Text, Field(max_length=32)] | None = None


class SubscriberOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    email: str
    name: str
    status: str
    timezone: str | None
    lists: list[str]
    tags: list[str]
    attrs: dict[str, Any]
    created_at: datetime


class SubscriberPage(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    items: list[SubscriberOut]
    next_cursor: str | None


class SegmentIn(In):
    list_name: Annotated[Text, Field(max_length=100)] | None = Field(default=None, alias="list")
    segment: Annotated[Text, Field(min_length=1, max_length=10_000)]


class CountOut(BaseModel):
    count: int


class IssueIn(In):
    markdown: Annotated[Text, Field(min_length=1, max_length=512 * 1024)]


class IssueReplace(IssueIn):
    version: Id | None = None


class IssueOut(BaseModel):
    id: int
    subject: str
    slug: str
    size_bytes: int
    warnings: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    parse_error: str | None = None  # a workspace draft kept while its Markdown does not parse


class IssueFull(IssueOut):
    markdown: str


class TestIn(In):
    to: Annotated[list[Short], Field(min_length=1, max_length=10)]


class TestCopy(BaseModel):
    to: str
    send_id: int
    message_id: str


class TestOut(BaseModel):
    sent: list[TestCopy]


class SendIn(In):
    issue_id: Id
    list_name: Annotated[Text, Field(min_length=1, max_length=100)] = Field(alias="list")
    segment: Annotated[Text, Field(max_length=10_000)] | None = None
    at: Annotated[Text, Field(max_length=100)] | None = None
    local_time: bool = False
    again: bool = False


class SendCreated(BaseModel):
    id: int
    state: str
    recipients: int
    scheduled_at: datetime | None


class SendState(BaseModel):
    """As `newsletter status --json`."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    id: int
    state: str
    subject: str
    list_name: str | None = Field(alias="list")
    segment: str | None
    test_to: str | None
    scheduled_at: str | None
    started_at: str | None
    finished_at: str | None
    throttled_until: str | None
    total: int
    sent: int
    skipped: int
    failed: int
    uncertain: int
    pending: int
    cancelled: int
    batches: dict[str, int]
    errors: list[dict[str, Any]]


class Report(RootModel[dict[str, Any]]):
    """As `newsletter report --json`: sent, delivered, bounced, ..., rates and warnings."""
