-- The webhook claim counts each endpoint's leased (in-flight) deliveries to
-- keep it to a few at once (one slow receiver must not take every worker's
-- slots). Finish resets lease_ns to 0, so only attempts in flight (and
-- those of a dead worker, until their lease ends) are above the clock.
CREATE INDEX webhook_deliveries_lease ON webhook_deliveries (lease_ns);
