-- Cache invalidations owed to lockcache, written in the transaction of the change they follow.
-- The writer sends them right after its commit and deletes the rows lockcache acknowledged;
-- the relay (contexts/invalidate.py) sends what is left, with backoff, until it is acknowledged.
create table cache_invalidations (
    id bigserial primary key,
    user_id uuid not null,
    scope text not null check (scope in ('records', 'data_source', 'profile')),
    record_ids text[] not null default '{}',
    data_source_id text not null default '',
    attempts integer not null default 0,
    -- Fresh rows are left to their writer for a moment, so one invalidation is not sent twice.
    next_attempt_at timestamptz not null default now() + interval '2 seconds',
    created_at timestamptz not null default now()
);
create index cache_invalidations_due on cache_invalidations (next_attempt_at);
