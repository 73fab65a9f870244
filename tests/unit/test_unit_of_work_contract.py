"""The unit-of-work contract (tests/unit_of_work_contract.py) on the in-memory fake."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.fakes import InMemoryEventBus, InMemoryUnitOfWorkFactory
from tests.unit_of_work_contract import UnitOfWorkContract


class TestInMemoryUnitOfWork(UnitOfWorkContract):
    @pytest.fixture
    def bus(self) -> InMemoryEventBus:
        return InMemoryEventBus()

    @pytest.fixture
    def units(self, bus) -> InMemoryUnitOfWorkFactory:
        return InMemoryUnitOfWorkFactory(bus=bus)

    @pytest.fixture
    def merchant_id(self) -> uuid.UUID:
        return uuid.uuid4()
