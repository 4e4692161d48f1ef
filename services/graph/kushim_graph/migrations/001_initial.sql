-- Kushim graph schema. PostgreSQL is the source of truth; every table carries user_id and
-- every query filters by it, so the data can later be distributed by user.

create table users (
    user_id       uuid primary key default gen_random_uuid(),
    email         text not null,
    password_hash text not null,
    display_name  text not null default '',
    settings      jsonb not null default '{}',
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now()
);
create unique index users_email_lower on users (lower(email));

create table data_sources (
    id             uuid primary key default gen_random_uuid(),
    user_id        uuid not null references users (user_id) on delete cascade,
    platform       text not null,
    name           text not null,
    config         jsonb not null default '{}',
    webhook_secret text not null default '',
    created_at     timestamptz not null default now(),
    updated_at     timestamptz not null default now()
);
create index data_sources_user on data_sources (user_id, created_at desc, id);

create table records (
    id                     uuid primary key default gen_random_uuid(),
    user_id                uuid not null references users (user_id) on delete cascade,
    data_source_id         uuid references data_sources (id) on delete set null,
    source_platform        text not null,
    external_id            text not null,
    artifact_type          text not null,
    title                  text not null,
    body                   text not null,
    url                    text not null default '',
    author                 text not null default '',
    occurred_at            timestamptz not null,
    participants           text[] not null default '{}',
    metadata               jsonb not null default '{}',
    checksum               text not null,
    -- what discovery needs of a candidate, so candidates load without their bodies
    refs                   jsonb not null default '{}',
    identity_keys          text[] not null default '{}',
    metadata_keys          text[] not null default '{}',
    term_freqs             jsonb not null default '{}',
    discovery_state        text not null default 'pending'
                           check (discovery_state in ('pending', 'done')),
    discovery_requested_at timestamptz not null default now(),
    -- the newest fencing token that wrote this record's discovery results
    fencing_token          bigint not null default 0,
    search                 tsvector generated always as (
                               setweight(to_tsvector('english'::regconfig, title), 'A')
                               || setweight(to_tsvector('english'::regconfig, left(body, 100000)), 'B')
                           ) stored,
    created_at             timestamptz not null default now(),
    updated_at             timestamptz not null default now(),
    constraint records_identity unique (user_id, source_platform, external_id)
);
create index records_user_time on records (user_id, occurred_at desc, id);
create index records_user_source on records (user_id, data_source_id, occurred_at desc);
create index records_search on records using gin (search);
create index records_pending on records (discovery_requested_at)
    where discovery_state = 'pending';

-- Reference index. kind 'identity': the keys by which others may mention this record;
-- kind 'mention': the keys this record mentions. Looked up in both directions.
create table record_keys (
    user_id   uuid not null,
    kind      text not null check (kind in ('identity', 'mention')),
    key       text not null,
    record_id uuid not null references records (id) on delete cascade,
    primary key (user_id, key, kind, record_id)
);
create index record_keys_record on record_keys (record_id);

-- People ('p:<name>') and characteristic keywords ('t:<term>') by time, for candidates
-- close in time that share either.
create table record_features (
    user_id     uuid not null,
    feature     text not null,
    occurred_at timestamptz not null,
    record_id   uuid not null references records (id) on delete cascade,
    primary key (user_id, feature, occurred_at, record_id)
);
create index record_features_record on record_features (record_id);

-- Per-user document frequencies for TF-IDF; the row with term '' counts the documents.
create table term_df (
    user_id uuid not null references users (user_id) on delete cascade,
    term    text not null,
    df      integer not null,
    primary key (user_id, term)
);

create table links (
    id               uuid primary key default gen_random_uuid(),
    user_id          uuid not null references users (user_id) on delete cascade,
    source_record_id uuid not null references records (id) on delete cascade,
    target_record_id uuid not null references records (id) on delete cascade,
    confidence       double precision not null check (confidence >= 0 and confidence <= 1),
    link_type        text not null check (link_type in ('strong_contextual', 'weak_contextual')),
    method           text not null check (method in ('deterministic', 'manual')),
    signals          jsonb not null default '[]',
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    check (source_record_id <> target_record_id)
);
create unique index links_pair on links (
    user_id, least(source_record_id, target_record_id), greatest(source_record_id, target_record_id)
);
create index links_source on links (user_id, source_record_id);
create index links_target on links (user_id, target_record_id);

create table link_feedback (
    link_id    uuid primary key references links (id) on delete cascade,
    user_id    uuid not null,
    feedback   text not null check (feedback in ('positive', 'negative')),
    comment    text not null default '',
    updated_at timestamptz not null default now()
);
create index link_feedback_user on link_feedback (user_id);

create table context_groups (
    id         uuid primary key default gen_random_uuid(),
    user_id    uuid not null references users (user_id) on delete cascade,
    name       text not null,
    topics     text[] not null default '{}',
    coherence  double precision not null default 0,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
create index context_groups_user on context_groups (user_id, updated_at desc, id);

-- A record belongs to at most one context group.
create table group_members (
    user_id   uuid not null,
    group_id  uuid not null references context_groups (id) on delete cascade,
    record_id uuid not null references records (id) on delete cascade,
    added_at  timestamptz not null default now(),
    primary key (group_id, record_id)
);
create unique index group_members_record on group_members (user_id, record_id);
create index group_members_record_id on group_members (record_id);

create table webhook_deliveries (
    user_id        uuid not null,
    data_source_id uuid not null references data_sources (id) on delete cascade,
    delivery_id    text not null,
    claimed_at     timestamptz not null default now(),
    primary key (user_id, data_source_id, delivery_id)
);
create index webhook_deliveries_source on webhook_deliveries (data_source_id);

-- Changes still to project into Neo4j. A row names an entity; the worker reads its current
-- state from PostgreSQL when it applies the row, so applying is idempotent and order-free.
create table outbox (
    id         bigserial primary key,
    user_id    uuid not null,
    entity     text not null check (entity in ('record', 'link', 'group')),
    entity_id  uuid not null,
    created_at timestamptz not null default now()
);
create index outbox_user on outbox (user_id, id);
