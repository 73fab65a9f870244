-- A unit of work that writes in one statement (data-modifying CTEs, no transaction around
-- it) cannot roll back what it already wrote when one of its inserts is refused (ON
-- CONFLICT DO NOTHING on a unique key that another row holds): its final SELECT calls this
-- instead, and the error aborts the whole statement, so none of its parts is written.
-- The SQLSTATE is ours (class FX is not PostgreSQL's); the adapter maps it to the domain's
-- conflict. VOLATILE (the default): never folded at plan time, only called when reached.
CREATE OR REPLACE FUNCTION fxp_write_refused(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION 'fxp: % not written: a unique key is taken', what USING ERRCODE = 'FXP01';
END
$$;
