-- Where the provider sends the shopper back after a redirect (3-D Secure, PayPal approval).
-- Kept on the attempt because the provider is called after commit, possibly by a worker.
ALTER TABLE payment_attempts ADD COLUMN return_url text;
