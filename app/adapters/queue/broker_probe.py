"""Is the broker up? For readiness: the Redis broker is the Redis the API already checks;
RabbitMQ is asked with a short AMQP connection (pika blocks, so in a thread)."""

from __future__ import annotations

import asyncio


def _connect_rabbitmq(url: str, timeout_s: float) -> bool:
    import pika

    parameters = pika.URLParameters(url)
    parameters.socket_timeout = parameters.blocked_connection_timeout = timeout_s
    parameters.connection_attempts, parameters.retry_delay = 1, 0
    connection = pika.BlockingConnection(parameters)
    connection.close()
    return True


async def rabbitmq_answers(url: str, timeout_s: float = 2.0) -> bool:
    """Raises the driver's connection error when RabbitMQ does not answer."""
    return await asyncio.to_thread(_connect_rabbitmq, url, timeout_s)
