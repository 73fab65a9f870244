"""Rows of a best-effort log (provider_calls) that ride on the next commit of the task
that made them: a provider call is almost always followed, within milliseconds and in the
same task, by the unit of work that applies its verdict (a dispatch's settle, a
callback's), whose commit statement then writes the row too, instead of the row costing a
pooled connection, a statement and a commit of its own.

A ride no commit took within RIDE_S, or whose commit failed (nothing of it written), is
written on its own, as every row was before: the log never depends on the payment's
transaction (a rollback does not take the row with it) and never stands in its way.

A mark (`offer_mark`: a consumer's processed_events claim, PiccoloProcessedEvents.once)
rides the same way on the commit its effect makes, so the mark and the effect's change
commit together; it is never written on its own from here: a commit that wrote nothing
gives it back to the task, and `once` writes whatever no commit took when the effect is
over, as before."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

RIDE_S = 0.5  # a row waits this long for its task's next commit

Write = Callable[[tuple[Any, ...]], Coroutine[Any, Any, None]]


class Ride:
    __slots__ = ("values", "write", "state")

    def __init__(self, values: tuple[Any, ...], write: Write | None) -> None:
        self.values, self.write = values, write  # write None: a mark
        # -> "taken" (in a commit) -> "done"; or -> "alone" (written on its own), "withdrawn" (a mark)
        self.state = "waiting"

    @property
    def mark(self) -> bool:
        return self.write is None


# The task's waiting rides. A task started later from this one copies the context, list
# included: its commit may take them too, and each ride is still written once.
_rides: contextvars.ContextVar[list[Ride] | None] = contextvars.ContextVar("fxp_log_rides", default=None)


def offer(values: tuple[Any, ...], write: Write) -> None:
    """Let a row ride on this task's next commit; `write` writes it on its own otherwise."""
    ride = Ride(values, write)
    _waiting().append(ride)
    asyncio.get_running_loop().call_later(RIDE_S, _alone, ride)


def offer_mark(consumer: str, event_id: Any) -> Ride:
    """Let a processed_events claim ride on this task's next commit; done once its state
    is "done", else withdraw() it and write it yourself."""
    ride = Ride((consumer, event_id), None)
    _waiting().append(ride)
    return ride


def withdraw(ride: Ride) -> None:
    if ride.state == "waiting":
        ride.state = "withdrawn"
        rides = _rides.get()
        if rides is not None and ride in rides:
            rides.remove(ride)


def _waiting() -> list[Ride]:
    rides = _rides.get()
    if rides is None:
        rides = []
        _rides.set(rides)
    return rides


def take() -> list[Ride]:
    """The task's waiting rides, for the commit about to be sent (done() or release() after)."""
    rides = _rides.get()
    if not rides:
        return []
    taken = [ride for ride in rides if ride.state == "waiting"]
    rides.clear()
    for ride in taken:
        ride.state = "taken"
    return taken


def done(rides: list[Ride]) -> None:
    for ride in rides:
        ride.state = "done"


def release(rides: list[Ride]) -> None:
    """The commit that took them wrote nothing: each row is written on its own now, each
    mark waits for the task's next commit again."""
    for ride in rides:
        ride.state = "waiting"
        if ride.mark:
            _waiting().append(ride)
        else:
            _alone(ride)


def _alone(ride: Ride) -> None:
    if ride.state != "waiting" or ride.write is None:
        return
    ride.state = "alone"
    # An empty context: the write must not join whatever transaction the loop is in.
    asyncio.get_running_loop().create_task(ride.write(ride.values), context=contextvars.Context())
