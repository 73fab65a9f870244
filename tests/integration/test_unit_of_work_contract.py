"""The unit-of-work contract (tests/unit_of_work_contract.py) on the Piccolo unit of
work and real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from app.adapters.db.unit_of_work import PiccoloUnitOfWorkFactory
from tests.unit.fakes import InMemoryEventBus
from tests.unit_of_work_contract import UnitOfWorkContract


class TestPiccoloUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def bus(self) -> InMemoryEventBus:
        return InMemoryEventBus()

    @pytest.fixture
    def units(self, container, bus) -> PiccoloUnitOfWorkFactory:
        return PiccoloUnitOfWorkFactory(container.engine, bus)

    @pytest.fixture
    def merchant_id(self, merchant) -> uuid.UUID:
        return uuid.UUID(merchant.id)
