-- One checkout in the classic design: SERIALIZABLE, lock the stock row, decrement,
-- insert the order and its item, clear the cart. Run by pgbench with
-- -D products=N; a customer buys one unit of a random product of the N.
\set customer random(1, 100000)
\set product random(1, :products)
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT product_id, quantity FROM cart_items WHERE customer_id = :customer;
SELECT available FROM stock WHERE product_id = :product FOR UPDATE;
UPDATE stock SET available = available - 1 WHERE product_id = :product AND available >= 1;
INSERT INTO orders (customer_id, status, total_minor, created_at)
  SELECT :customer, 'CONFIRMED', price_minor, now() FROM products WHERE id = :product
  RETURNING id AS order_id \gset
INSERT INTO order_items (order_id, product_id, quantity, unit_price_minor)
  SELECT :order_id, id, 1, price_minor FROM products WHERE id = :product;
DELETE FROM cart_items WHERE customer_id = :customer;
END;
