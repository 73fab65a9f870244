-- Every statement that inserts outbox rows sends one NOTIFY on fxp_outbox. PostgreSQL
-- delivers notifications only when the transaction commits (never for a rollback) and
-- folds identical ones of a transaction into one, so the relay listening on the channel
-- runs once per committed unit of work, right after it committed, instead of at its
-- next poll; the poll stays as the fallback (a listener that was disconnected).
CREATE OR REPLACE FUNCTION fxp_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('fxp_outbox', '');
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS outbox_notify ON outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION fxp_outbox_notify();
