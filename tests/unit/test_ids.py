"""Time-ordered ids (app/domain/ids.py): RFC 9562 version 7 UUIDs whose order follows the
time they were made, random enough to be unique, used for every record written per order
and per payment."""

from __future__ import annotations

import time
import uuid

from app.domain.events import DomainEvent
from app.domain.ids import new_id
from app.domain.model.audit import SYSTEM, AuditEntry, AuditType, finish
from app.domain.model.card import CardDetails
from app.domain.model.order import OrderStatus
from app.domain.model.payment import AttemptStatus, PaymentAttempt
from app.domain.model.refund import Refund
from tests.unit.builders import NOW, attempt_for, new_order


def test_version_7_with_the_rfc_variant_and_the_time_in_front():
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert made.version == 7 and made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    assert uuid.UUID(str(made)) == made


def test_an_id_is_an_ordinary_uuid():
    """new_id() builds the UUID without its __init__: it must behave exactly as one made by it."""
    import copy
    import pickle

    made = new_id()
    same = uuid.UUID(int=made.int)
    assert type(made) is uuid.UUID and made == same and hash(made) == hash(same)
    assert (made.hex, made.bytes, made.fields, made.is_safe) == (same.hex, same.bytes, same.fields, same.is_safe)
    assert pickle.loads(pickle.dumps(made)) == made and copy.deepcopy(made) == made
    assert str(made) == str(same) and repr(made) == repr(same)


def test_ids_made_later_sort_after_earlier_ones():
    # As PostgreSQL sorts uuids (bytewise) and as Python does (as integers): the same order.
    made = []
    for _ in range(5):
        made.append(new_id())
        time.sleep(0.002)
    assert made == sorted(made) == sorted(made, key=lambda u: u.bytes)


def test_ids_made_in_one_millisecond_still_differ():
    made = [new_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    # 74 random bits per id: the bits after the time and the version vary
    assert len({u.int & ((1 << 76) - 1) for u in made}) == len(made)


def test_every_record_written_per_order_and_payment_gets_one():
    order = new_order(status=OrderStatus.PAYMENT_IN_PROGRESS)
    card = CardDetails.parse("4242424242424242", 12, 2030, "123", NOW.date())
    attempt = PaymentAttempt.start(order, "sandbox", card, NOW)
    refund = Refund.request(attempt_for(order, AttemptStatus.SUCCESS), NOW)
    event = DomainEvent("order.created", order.id, order.merchant_id, NOW, {})
    record = finish(AuditEntry(AuditType.ORDER_CREATION, {}), NOW, SYSTEM, None)
    assert {made.version for made in (order.id, attempt.id, refund.id, event.id, record.id)} == {7}
    assert all(e.id.version == 7 for e in attempt.pull_events())
