-- Catalog, inventory, fulfillment (issue 14).

-- Why an order is in its status: a payment failure code, a cancel reason, insufficient_stock.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS status_reason text;

-- Products per merchant, with their stock level. The CHECKs are the no-oversell
-- guarantee: whatever code runs, a transaction that would promise more units than are
-- on hand (reserved for payments in flight + allocated to paid orders) fails.
CREATE TABLE products (
    id uuid PRIMARY KEY,
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    sku varchar(64) NOT NULL,
    name text NOT NULL,
    unit_amount_minor bigint NOT NULL CHECK (unit_amount_minor > 0),
    currency varchar(3) NOT NULL,
    lead_time_days integer NOT NULL CHECK (lead_time_days BETWEEN 0 AND 365),
    active boolean NOT NULL DEFAULT true,
    on_hand integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    allocated integer NOT NULL DEFAULT 0 CHECK (allocated >= 0),
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT products_stock_committed_within_on_hand CHECK (reserved + allocated <= on_hand),
    CONSTRAINT products_merchant_sku_key UNIQUE (merchant_id, sku)
);
CREATE INDEX products_merchant_created_idx ON products (merchant_id, created_at DESC, id DESC);

-- Every change of stock on hand, with its reason (append-only).
CREATE TABLE stock_adjustments (
    id uuid PRIMARY KEY,
    product_id uuid NOT NULL REFERENCES products (id),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    delta integer NOT NULL CHECK (delta <> 0),
    reason text NOT NULL CHECK (length(reason) > 0),
    on_hand_after integer NOT NULL CHECK (on_hand_after >= 0),
    created_at timestamptz NOT NULL
);
CREATE INDEX stock_adjustments_product_idx ON stock_adjustments (product_id, created_at DESC);

-- What an order holds of a product: RESERVED for a payment in flight (until expires_at),
-- ALLOCATED once paid; RELEASED / RETURNED once given back. At most one active row per
-- order and product: lines on one sku are one demand, and nothing is allocated twice.
CREATE TABLE stock_reservations (
    id uuid PRIMARY KEY,
    order_id uuid NOT NULL REFERENCES orders (id),
    merchant_id uuid NOT NULL REFERENCES merchants (id),
    product_id uuid NOT NULL REFERENCES products (id),
    sku varchar(64) NOT NULL,
    quantity integer NOT NULL CHECK (quantity > 0),
    status varchar(16) NOT NULL CHECK (status IN ('RESERVED', 'ALLOCATED', 'RELEASED', 'RETURNED')),
    payment_id uuid REFERENCES payment_attempts (id),
    expires_at timestamptz,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CHECK (status <> 'RESERVED' OR expires_at IS NOT NULL)
);
CREATE UNIQUE INDEX stock_reservations_one_active ON stock_reservations (order_id, product_id)
    WHERE status IN ('RESERVED', 'ALLOCATED');
CREATE INDEX stock_reservations_order_idx ON stock_reservations (order_id);
CREATE INDEX stock_reservations_expiry_idx ON stock_reservations (expires_at) WHERE status = 'RESERVED';
