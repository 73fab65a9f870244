-- The W3C traceparent of the request that wrote the event (tracing on): the relay puts it
-- on the message, so the worker's spans join the request's trace.
ALTER TABLE outbox ADD COLUMN traceparent text;
