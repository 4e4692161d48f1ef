-- Semantic links: links found from the meaning of records' texts (embeddings and the textual
-- conventions of kushim_graph/semantic), computed asynchronously by graph's semantic worker.
alter table links drop constraint links_method_check;
alter table links add constraint links_method_check
    check (method in ('deterministic', 'manual', 'semantic'));

-- One all-MiniLM-L6-v2 embedding per record: 384 float32, little-endian, as bytea (pgvector is
-- not in Debian 12's packages; nearest neighbours are computed in graph, per user). `checksum`
-- is the record's checksum the embedding was computed from: a record whose text changed no
-- longer matches and is embedded again. `quotes` are the titles its text names by convention.
create table record_embeddings (
    record_id   uuid primary key references records (id) on delete cascade,
    user_id     uuid not null,
    checksum    text not null,
    vector      bytea not null,
    quotes      jsonb not null default '[]',
    computed_at timestamptz not null default now()
);
create index record_embeddings_user on record_embeddings (user_id);

-- Pairs a person marked as unrelated (negative feedback): their link is removed and no
-- discovery creates it again. The pair is unordered: low < high.
create table link_suppressions (
    user_id    uuid not null references users (user_id) on delete cascade,
    low        uuid not null,
    high       uuid not null,
    created_at timestamptz not null default now(),
    primary key (user_id, low, high),
    check (low < high)
);
