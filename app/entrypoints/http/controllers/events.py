"""The merchant's events: what its webhooks carried, with every delivery attempt. Thin:
parse, call the EventService, map the result."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get
from litestar.di import Provide
from litestar.params import Dependency, Parameter

from app.domain.model.principal import Principal
from app.domain.services.events import EventQuery, EventService
from app.domain.services.notifications import NOTIFIED_EVENTS
from app.entrypoints.http.access import MERCHANT
from app.entrypoints.http.auth import merchant_of, provide_principal
from app.entrypoints.http.dependencies import from_container
from app.entrypoints.http.pagination import TIMESTAMP, decode_cursor, next_cursor, parse_timestamp
from app.entrypoints.http.problems import problem_responses
from app.entrypoints.http.schemas.events import Event, EventPage, EventType

Events = Annotated[EventService, Dependency(skip_validation=True)]
EVENT_ERRORS = problem_responses(400, 401, 403, 404, 422, 503)


class EventController(Controller):
    path = "/events"
    tags = ["events"]
    dependencies = {"principal": Provide(provide_principal, sync_to_thread=False),
                    "events": from_container("events")}

    @get("/", responses=EVENT_ERRORS, summary="List your events, newest first, with their webhook deliveries",
         **MERCHANT.route())
    async def list_events(
        self,
        principal: Principal,
        events: Events,
        event_type: Annotated[list[EventType] | None, Parameter(
            query="type", description="Only these event types (repeat the parameter for several)",
            max_items=len(NOTIFIED_EVENTS))] = None,
        order_id: Annotated[uuid.UUID | None, Parameter(description="Only the events of this order")] = None,
        created_after: Annotated[str | None, TIMESTAMP] = None,
        created_before: Annotated[str | None, TIMESTAMP] = None,
        cursor: Annotated[str | None, Parameter(max_length=200, description="`next_cursor` of the previous page")] = None,
        limit: Annotated[int, Parameter(ge=1, le=100, description="Events per page")] = 50,
    ) -> EventPage:
        query = EventQuery(merchant_of(principal), frozenset(event_type) if event_type else NOTIFIED_EVENTS,
                           order_id, parse_timestamp(created_after, "created_after"),
                           parse_timestamp(created_before, "created_before"),
                           decode_cursor(cursor) if cursor else None, limit)
        page, has_more = await events.list(query)
        return EventPage([Event.from_view(view) for view in page], has_more, next_cursor(page, has_more))

    @get("/{event_id:uuid}", responses=EVENT_ERRORS, summary="One event: the webhook's payload and every delivery attempt",
         **MERCHANT.route())
    async def get_event(self, event_id: uuid.UUID, principal: Principal, events: Events) -> Event:
        return Event.from_view(await events.get(merchant_of(principal), event_id))
