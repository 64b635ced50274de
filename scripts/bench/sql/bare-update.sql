-- The floor of one hot row: one conditional decrement per transaction (autocommit).
UPDATE stock SET available = available - 1 WHERE product_id = 1 AND available >= 1;
