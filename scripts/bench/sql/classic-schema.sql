-- The classic single-database shop the checkout is compared with: stock, carts and
-- orders in one database, one transaction per checkout. Loaded with psql variable
-- :products (how many products) on a throwaway database. Stock is huge so nothing
-- runs out; every customer starts with a one-line cart.
--
-- Tuned the way a SERIALIZABLE shop has to be, so the baseline is a fair one:
-- stock rows leave room on their page (fillfactor) so decrements are HOT updates
-- and never touch the index every checkout reads; order_items has no foreign key
-- to orders, whose check would read the index page every concurrent checkout
-- inserts into and make SSI abort most commits. pgbench runs with
-- enable_seqscan=off (scripts/bench/pgbench.ts) for the same reason: a sequential
-- scan of the tiny stock table would lock all of it.
CREATE TABLE products (id int PRIMARY KEY, name text NOT NULL, price_minor bigint NOT NULL);
CREATE TABLE stock (product_id int PRIMARY KEY REFERENCES products (id), available bigint NOT NULL CHECK (available >= 0))
  WITH (fillfactor = 10);
CREATE TABLE cart_items (
  customer_id int NOT NULL,
  product_id int NOT NULL REFERENCES products (id),
  quantity int NOT NULL,
  PRIMARY KEY (customer_id, product_id)
);
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  customer_id int NOT NULL,
  status text NOT NULL,
  total_minor bigint NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE TABLE order_items (
  order_id bigint NOT NULL,
  product_id int NOT NULL REFERENCES products (id),
  quantity int NOT NULL,
  unit_price_minor bigint NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
INSERT INTO products SELECT i, 'Product ' || i, 100 + i FROM generate_series(1, :products) i;
INSERT INTO stock SELECT id, 1000000000000 FROM products;
INSERT INTO cart_items SELECT c, 1 + (c % :products), 1 FROM generate_series(1, 100000) c;
ANALYZE;
