"""Rows of a best-effort log (provider_calls) that ride on the next commit of the task
that made them: a provider call is almost always followed, within milliseconds and in the
same task, by the unit of work that applies its verdict (a dispatch's settle, a
callback's), whose commit statement then writes the row too, instead of the row costing a
pooled connection, a statement and a commit of its own.

A ride no commit took within RIDE_S, or whose commit failed (nothing of it written), is
written on its own, as every row was before: the log never depends on the payment's
transaction (a rollback does not take the row with it) and never stands in its way."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable, Coroutine
from typing import Any

RIDE_S = 0.5  # a row waits this long for its task's next commit

Write = Callable[[tuple[Any, ...]], Coroutine[Any, Any, None]]


class Ride:
    __slots__ = ("values", "write", "state")

    def __init__(self, values: tuple[Any, ...], write: Write) -> None:
        self.values, self.write = values, write
        self.state = "waiting"  # -> "taken" (in a commit) -> "done"; or -> "alone" (written on its own)


# The task's waiting rides. A task started later from this one copies the context, list
# included: its commit may take them too, and each ride is still written once.
_rides: contextvars.ContextVar[list[Ride] | None] = contextvars.ContextVar("fxp_log_rides", default=None)


def offer(values: tuple[Any, ...], write: Write) -> None:
    """Let a row ride on this task's next commit; `write` writes it on its own otherwise."""
    ride = Ride(values, write)
    rides = _rides.get()
    if rides is None:
        rides = []
        _rides.set(rides)
    rides.append(ride)
    asyncio.get_running_loop().call_later(RIDE_S, _alone, ride)


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
    """The commit that took them wrote nothing: each is written on its own now."""
    for ride in rides:
        ride.state = "waiting"
        _alone(ride)


def _alone(ride: Ride) -> None:
    if ride.state != "waiting":
        return
    ride.state = "alone"
    # An empty context: the write must not join whatever transaction the loop is in.
    asyncio.get_running_loop().create_task(ride.write(ride.values), context=contextvars.Context())
