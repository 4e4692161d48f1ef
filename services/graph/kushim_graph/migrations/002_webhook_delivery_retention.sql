-- The sweeper deletes webhook delivery claims past their retention, oldest first.
create index webhook_deliveries_claimed on webhook_deliveries (claimed_at);
