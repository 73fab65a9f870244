-- A send in flight is recorded before the message leaves (with the lease the sender holds):
-- sending_since is set right before the SMTP/SMS call and cleared when the attempt is
-- settled. A delivery found pending with sending_since set after its lease ran out is "in
-- doubt": its sender died (or timed out) after maybe handing the message over. The next
-- sender looks the message up at the provider by sending_digest (SMS) instead of sending it
-- blind, or follows FXP_NOTIFICATIONS__IN_DOUBT_EMAIL (email: the protocol has no look-up).
ALTER TABLE notification_deliveries
    ADD COLUMN sending_since timestamptz,
    ADD COLUMN sending_digest text;
-- The operator's listing (GET /admin/notifications): newest first, by status and channel.
CREATE INDEX notification_deliveries_created_idx ON notification_deliveries (created_at DESC, id DESC);
CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, created_at DESC);
