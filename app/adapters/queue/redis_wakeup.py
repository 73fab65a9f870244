"""Redis queues that wake their idle consumers (issue 17, item 4).

Dramatiq's Redis consumer learns of new messages only by polling: after each empty fetch
it sleeps a growing backoff, up to the worker timeout (`FXP_WORKERS__IDLE_POLL_MS`), so a
message sent to an idle queue waited up to that long for its first look, once per queue
hop (the payment's dispatch, then its webhook). Here every enqueue also PUBLISHes on the
queue's channel (a batch sent in one pipeline, DramatiqPublisher.publish_many: one PUBLISH
per queue in that pipeline), and an idle consumer waits on that channel (its own pub/sub connection)
instead of sleeping: the message is fetched the moment it is there. The poll schedule is
unchanged and stays the fallback for what publishes no wake-up (messages that maintenance
puts back from a dead worker, senders without this class, a wake-up lost with a broken
connection). A wake-up carries nothing: the message itself is only ever in the queue, so a
wake-up lost or doubled changes nothing but when the next fetch happens."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import redis
from dramatiq import Message
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff
from dramatiq.errors import ConnectionClosed


def wake_channel(namespace: str, queue_name: str) -> str:
    return f"{namespace}:wake:{queue_name}"


class WakingRedisBroker(RedisBroker):
    @property
    def consumer_class(self) -> Any:
        return _WakingConsumer

    def enqueue(self, message: Message, *, delay: int | None = None) -> Message:
        enqueued: Message = super().enqueue(message, delay=delay)
        try:  # (a delayed message went to the delay queue: that is the queue woken)
            self.client.publish(wake_channel(self.namespace, enqueued.queue_name), b"")
        except redis.RedisError:
            pass  # the message is queued; its consumers find it at their next poll
        return enqueued

    def wake_queues(self, pipeline: Any, queue_names: Iterable[str]) -> None:
        """Add the wake-ups of a batch sent through `pipeline` (DramatiqPublisher.publish_many):
        one PUBLISH per queue, in the same round trip as the messages."""
        for queue_name in sorted(set(queue_names)):
            pipeline.publish(wake_channel(self.namespace, queue_name), b"")


class _WakingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer (its `__next__`, with the idle sleep replaced by a wait for
    a wake-up of at most the same length)."""

    def __init__(self, broker: WakingRedisBroker, queue_name: str, prefetch: int, timeout: int) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        self._channel = wake_channel(broker.namespace, queue_name)
        self._wakeups: Any = None  # subscribed on first use, inside the connection-error handling
        # The last fetch got fewer messages than it asked for: the queue was empty then, and
        # every send since has published a wake-up our subscription holds. So the next fetch
        # waits for one (or for the idle poll) instead of asking Redis again at once: one
        # fetch per woken message instead of two (the second one always came back empty).
        self._drained = False

    def _subscribe(self) -> None:
        if self._wakeups is None:
            wakeups = self.broker.client.pubsub()
            wakeups.subscribe(self._channel)
            self._wakeups = wakeups

    def _wait(self, seconds: float) -> None:
        self._subscribe()
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            received = self._wakeups.get_message(timeout=left)
            if received is None:
                return  # the poll is due
            if received["type"] == "message":
                while self._wakeups.get_message(timeout=0) is not None:
                    pass  # several sends while we fetched: one fetch takes them all (up to prefetch)
                return
            # (the subscription's confirmation: keep waiting)

    def __next__(self) -> MessageProxy | None:
        try:
            while True:
                try:
                    data = self.message_cache.pop(0)
                    if data is None:
                        continue
                    self.misses = 0
                    message = Message.decode(data)
                    self.queued_message_ids.add(message.message_id)
                    return MessageProxy(message)
                except IndexError:
                    messages: list[bytes] = []
                    room = self.prefetch - self.outstanding_message_count
                    if room > 0 and not self._drained:
                        self._subscribe()  # before the fetch: a send right after it wakes us
                        self.message_cache = messages = self.broker.do_fetch(self.queue_name, room)
                        self._drained = len(messages) < room
                    if not messages:
                        self.misses, backoff_ms = compute_backoff(self.misses, max_backoff=self.timeout)
                        if room > 0:
                            # Drained: only a send (its wake-up) or the idle poll brings work.
                            self._wait((self.timeout if self._drained else backoff_ms) / 1000)
                            self._drained = False
                        else:  # full: a wake-up would find no room either; acks make room
                            time.sleep(backoff_ms / 1000)
                        return None
        except redis.ConnectionError as exc:
            self._close_wakeups()
            raise ConnectionClosed(exc) from None

    def _close_wakeups(self) -> None:
        wakeups, self._wakeups, self._drained = self._wakeups, None, False  # (wake-ups were lost)
        if wakeups is not None:
            try:
                wakeups.close()
            except redis.RedisError:
                pass

    def close(self) -> None:
        self._close_wakeups()
        super().close()

