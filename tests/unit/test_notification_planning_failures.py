"""The relay's planning of shopper notifications: a bug in planning is logged and the
relay goes on (the webhooks and queue messages of the batch still leave); a database
outage is raised, so the batch stays unpublished and is planned when it is back."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager

import asyncpg
import pytest

from app.adapters.notify.notification_jobs import PiccoloNotificationJobs
from app.domain.model.notification import Channel


class FailingConnection:
    def __init__(self, error: Exception) -> None:
        self.error = error

    @asynccontextmanager
    async def transaction(self):
        yield self

    async def fetch(self, *args):
        raise self.error


async def test_a_planning_bug_does_not_stop_the_relay():
    jobs = PiccoloNotificationJobs(None, frozenset(Channel), 60, 10)  # type: ignore[arg-type]
    await jobs.enlist(FailingConnection(KeyError("order_id")), [(uuid.uuid4(), uuid.uuid4())])


async def test_a_database_outage_is_raised_to_the_relay():
    jobs = PiccoloNotificationJobs(None, frozenset(Channel), 60, 10)  # type: ignore[arg-type]
    with pytest.raises(asyncpg.exceptions.ConnectionDoesNotExistError):
        await jobs.enlist(FailingConnection(asyncpg.exceptions.ConnectionDoesNotExistError("gone")),
                          [(uuid.uuid4(), uuid.uuid4())])
