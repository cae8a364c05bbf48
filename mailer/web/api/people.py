"""/api/v1/lists, /api/v1/subscribers and /api/v1/segments/count."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from mailer.accounts.principal import Principal, Role
from mailer.core.errors import NotFound
from mailer.web.api.auth import api_principal
from mailer.web.api.page_json import page_json
from mailer.web.api.schemas import (
    CountOut,
    ListIn,
    ListOut,
    SegmentIn,
    Short,
    SubscriberIn,
    SubscriberOut,
    SubscriberPage,
    SubscriberPatch,
    Text,
)
from mailer.web.deps import web
from mailer.workspace import lists as list_actions
from mailer.workspace import people
from subscribers.browse import page_subscribers, profile
from subscribers.db import transaction
from subscribers.editing import Changes
from subscribers.lists import list_id_of, list_summaries
from subscribers.segments import parse
from subscribers.store import segment_count

router = APIRouter()
Viewer = Annotated[Principal, Depends(api_principal(Role.VIEWER))]
Editor = Annotated[Principal, Depends(api_principal(Role.EDITOR))]
Email = Annotated[Short, Path(max_length=320)]
Query100 = Annotated[Text | None, Query(max_length=100)]


@router.get("/lists", response_model=list[ListOut])
def get_lists(request: Request, who: Viewer) -> list[ListOut]:
    with transaction(web(request).engine) as session:
        return [ListOut(**asdict(item)) for item in list_summaries(session)]


@router.post("/lists", response_model=ListOut, status_code=201)
def post_list(request: Request, body: ListIn, who: Editor) -> ListOut:
    with transaction(web(request).engine) as session:
        created = list_actions.create(session, who, body.name, body.title, body.public)
        return ListOut(**asdict(created))


@router.get("/subscribers", response_model=SubscriberPage)
def get_subscribers(
    request: Request,
    who: Viewer,
    list_name: Annotated[Text | None, Query(alias="list", max_length=100)] = None,
    status: Query100 = None,
    q: Query100 = None,
    cursor: Query100 = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Response:
    """A page of people in id order; `next_cursor` (null on the last page) asks for the next."""
    with transaction(web(request).engine) as session:
        page = page_subscribers(session, list_name, status, q, cursor, limit)
    # Serialised here once: the busiest read route skips FastAPI's validation passes.
    return Response(page_json(page), media_type="application/json")


@router.post("/subscribers", response_model=SubscriberOut, status_code=201)
def post_subscriber(
    request: Request, body: SubscriberIn, who: Editor, response: Response
) -> SubscriberOut:
    with transaction(web(request).engine) as session:
        person, created = people.add(
            session, who, body.email, body.name, body.lists, body.tags, body.attrs, body.timezone
        )
    response.status_code = 201 if created else 200
    return SubscriberOut(**asdict(person))


@router.get("/subscribers/{email}", response_model=SubscriberOut)
def get_subscriber(request: Request, email: Email, who: Viewer) -> SubscriberOut:
    with transaction(web(request).engine) as session:
        found = profile(session, email)
    if found is None:
        raise NotFound(f"no subscriber with email {email!r}")
    return SubscriberOut(**asdict(found))


@router.patch("/subscribers/{email}", response_model=SubscriberOut)
def patch_subscriber(
    request: Request, email: Email, body: SubscriberPatch, who: Editor
) -> SubscriberOut:
    changes = Changes(**body.model_dump())
    with transaction(web(request).engine) as session:
        return SubscriberOut(**asdict(people.change(session, who, email, changes)))


@router.delete("/subscribers/{email}", status_code=204)
def delete_subscriber(request: Request, email: Email, who: Editor) -> Response:
    """Erase the person: their data goes for good, an anonymous row keeps reports right."""
    with transaction(web(request).engine) as session:
        people.erase(session, who, email)
    return Response(status_code=204)


@router.post("/segments/count", response_model=CountOut)
def count_segment(request: Request, body: SegmentIn, who: Viewer) -> CountOut:
    """How many active subscribers (of the list, when given) match; 400 names the column."""
    parse(body.segment)  # a bad expression is refused before any database work
    engine, counts = web(request).engine, request.app.state.counts
    with transaction(engine) as session:
        list_id = list_id_of(session, body.list_name)

    def compute() -> int:
        with transaction(engine) as session:
            return segment_count(session, body.segment, list_id)

    return CountOut(count=counts.get((list_id, body.segment.strip()), compute))
