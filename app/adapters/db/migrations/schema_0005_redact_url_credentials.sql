-- Webhook URLs may no longer carry user:password@ (refused on input, never sent); redact
-- the ones stored before, in the merchants' endpoints and in the delivery log. A merchant
-- whose URL had credentials now has it refused with a clear reason until it is updated.
UPDATE merchants SET webhook_url = regexp_replace(webhook_url, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@', '\1[REDACTED]@')
 WHERE webhook_url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*@';
UPDATE webhook_deliveries SET url = regexp_replace(url, '^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@]*@', '\1[REDACTED]@')
 WHERE url ~ '^[A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*@';
