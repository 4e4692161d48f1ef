"""Records and their derived index rows (reference keys, people/keyword features, term DFs)."""

import asyncpg

# A record with a thousand participants indexes this many of them for candidate search.
MAX_PEOPLE_FEATURES = 50

_BASE = (
    "id, user_id, external_id, source_platform, artifact_type, title, url, author, occurred_at, "
    "participants, metadata, data_source_id, checksum, created_at, updated_at, discovery_state"
)
# A record as answered by GetRecord.
COLUMNS = _BASE + ", body"
# Lists and graphs carry at most 64 KiB of each body; GetRecord has it whole.
BRIEF_COLUMNS = _BASE + ", left(body, 65536) as body"

BY_IDENTITY = f"""
select {COLUMNS} from records
 where user_id = $1 and source_platform = $2 and external_id = $3
"""
LOCK_BY_IDENTITY = """
select id, checksum, term_freqs, occurred_at, data_source_id from records
 where user_id = $1 and source_platform = $2 and external_id = $3
   for update
"""
INSERT = f"""
insert into records (user_id, data_source_id, source_platform, external_id, artifact_type,
                     title, body, url, author, occurred_at, participants, metadata, checksum,
                     refs, identity_keys, metadata_keys, term_freqs)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
on conflict on constraint records_identity do nothing
returning {COLUMNS}
"""
UPDATE = f"""
update records
   set data_source_id = $3, artifact_type = $4, title = $5, body = $6, url = $7, author = $8,
       occurred_at = $9, participants = $10, metadata = $11, checksum = $12, refs = $13,
       identity_keys = $14, metadata_keys = $15, term_freqs = $16, discovery_state = 'pending',
       discovery_requested_at = now(), updated_at = now()
 where user_id = $1 and id = $2
returning {COLUMNS}
"""
# A batch's new records: ids chosen by the caller, so one statement per row can be pipelined
# (executemany) and the rows read back at once.
INSERT_WITH_ID = """
insert into records (id, user_id, data_source_id, source_platform, external_id, artifact_type,
                     title, body, url, author, occurred_at, participants, metadata, checksum,
                     refs, identity_keys, metadata_keys, term_freqs)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
on conflict on constraint records_identity do nothing
"""
BY_IDENTITIES = f"""
select {COLUMNS} from records
 where user_id = $1
   and (source_platform, external_id) in (select * from unnest($2::text[], $3::text[]))
"""
GET = f"select {COLUMNS} from records where user_id = $1 and id = $2"
GET_MANY_WHOLE = f"select {COLUMNS} from records where user_id = $1 and id = any($2::uuid[])"
GET_MANY = f"select {BRIEF_COLUMNS} from records where user_id = $1 and id = any($2::uuid[])"
EXISTING = "select id from records where user_id = $1 and id = any($2::uuid[])"
LOCK_FOR_DELETE = """
select id, term_freqs, data_source_id from records where user_id = $1 and id = $2 for update
"""
DELETE = "delete from records where user_id = $1 and id = $2 returning id, data_source_id"

_FILTERS = """
 where user_id = $1
   and ($2 = '' or search @@ websearch_to_tsquery('english'::regconfig, $2))
   and ($3 = '' or source_platform = $3)
   and ($4 = '' or artifact_type = $4)
   and ($5::uuid is null or data_source_id = $5)
"""
LIST = f"""
select {BRIEF_COLUMNS} from records {_FILTERS}
 order by case when $2 = '' then 0
               else ts_rank(search, websearch_to_tsquery('english'::regconfig, $2)) end desc,
          occurred_at desc, id
 limit $6 offset $7
"""
COUNT = f"select count(*) from records {_FILTERS}"

DELETE_KEYS = "delete from record_keys where user_id = $1 and record_id = $2"
INSERT_KEYS = """
insert into record_keys (user_id, kind, key, record_id)
select $1, kind, key, $2 from unnest($3::text[], $4::text[]) as k(kind, key)
on conflict do nothing
"""
DELETE_FEATURES = "delete from record_features where user_id = $1 and record_id = $2"
INSERT_KEYS_MANY = """
insert into record_keys (user_id, kind, key, record_id)
select $1, kind, key, record_id from unnest($2::text[], $3::text[], $4::uuid[]) as k(kind, key,
                                                                                    record_id)
on conflict do nothing
"""
INSERT_FEATURES_MANY = """
insert into record_features (user_id, feature, occurred_at, record_id)
select $1, feature, occurred_at, record_id
  from unnest($2::text[], $3::timestamptz[], $4::uuid[]) as f(feature, occurred_at, record_id)
on conflict do nothing
"""
INSERT_FEATURES = """
insert into record_features (user_id, feature, occurred_at, record_id)
select $1, feature, $2, $3 from unnest($4::text[]) as feature
on conflict do nothing
"""
# One statement with the terms sorted, so concurrent ingestions lock DF rows in one order.
APPLY_DF_DELTA = """
insert into term_df (user_id, term, df)
select $1, term, delta from unnest($2::text[], $3::int[]) as d(term, delta)
 order by term
on conflict (user_id, term) do update set df = term_df.df + excluded.df
"""
GET_DF = """
select term, df from term_df where user_id = $1 and term = any($2::text[])
"""


async def by_identity(conn: asyncpg.Connection, user_id: str, platform: str, external_id):
    return await conn.fetchrow(BY_IDENTITY, user_id, platform, external_id)


async def lock_by_identity(conn: asyncpg.Connection, user_id: str, platform: str, external_id):
    return await conn.fetchrow(LOCK_BY_IDENTITY, user_id, platform, external_id)


async def insert(conn: asyncpg.Connection, user_id: str, clean, derived):
    return await conn.fetchrow(
        INSERT, user_id, clean.data_source_id, clean.source_platform, clean.external_id,
        clean.artifact_type, clean.title, clean.body, clean.url, clean.author,
        clean.occurred_at, list(clean.participants), clean.metadata, clean.checksum,
        derived.refs_json, sorted(derived.identity), sorted(derived.metadata_keys),
        derived.term_freqs,
    )


async def by_identities(conn: asyncpg.Connection, user_id: str, identities) -> dict:
    """(platform, external id) -> the stored row, for those stored."""
    rows = await conn.fetch(
        BY_IDENTITIES, user_id, [p for p, _ in identities], [e for _, e in identities]
    )
    return {(row["source_platform"], row["external_id"]): row for row in rows}


async def insert_many(conn: asyncpg.Connection, user_id: str, new) -> dict:
    """new: (id, clean, derived) per record; answers id -> row for those inserted (an identity
    another transaction inserted first is not)."""
    await conn.executemany(INSERT_WITH_ID, [
        (record_id, user_id, clean.data_source_id, clean.source_platform, clean.external_id,
         clean.artifact_type, clean.title, clean.body, clean.url, clean.author,
         clean.occurred_at, list(clean.participants), clean.metadata, clean.checksum,
         derived.refs_json, sorted(derived.identity), sorted(derived.metadata_keys),
         derived.term_freqs)
        for record_id, clean, derived in new
    ])
    rows = await conn.fetch(GET_MANY_WHOLE, user_id, [record_id for record_id, *_ in new])
    return {row["id"]: row for row in rows}


async def update(conn: asyncpg.Connection, user_id: str, record_id, clean, derived):
    return await conn.fetchrow(
        UPDATE, user_id, record_id, clean.data_source_id, clean.artifact_type, clean.title,
        clean.body, clean.url, clean.author, clean.occurred_at, list(clean.participants),
        clean.metadata, clean.checksum, derived.refs_json, sorted(derived.identity),
        sorted(derived.metadata_keys), derived.term_freqs,
    )


async def replace_index_rows(conn: asyncpg.Connection, user_id: str, record_id, occurred_at,
                             derived, keywords, *, new: bool) -> None:
    """Writes (or rewrites) the record's reference keys and its people/keyword features."""
    if not new:
        await conn.execute(DELETE_KEYS, user_id, record_id)
        await conn.execute(DELETE_FEATURES, user_id, record_id)
    keys, features = index_rows(derived, keywords)
    if keys:
        await conn.execute(
            INSERT_KEYS, user_id, record_id, [k for k, _ in keys], [v for _, v in keys]
        )
    await conn.execute(INSERT_FEATURES, user_id, occurred_at, record_id, features)


def index_rows(derived, keywords) -> tuple[list, list]:
    """A record's (reference keys as (kind, key), people/keyword features)."""
    keys = [("identity", k) for k in sorted(derived.identity)]
    keys += [("mention", k) for k in sorted(derived.mentions)]
    people = sorted(derived.people)[:MAX_PEOPLE_FEATURES]
    features = sorted({f"p:{person}" for person in people} | {f"t:{k}" for k in keywords})
    return keys, features


async def insert_index_rows_many(conn: asyncpg.Connection, user_id: str, rows) -> None:
    """rows: (record id, occurred_at, keys, features) of new records; two statements."""
    keys = [(kind, key, rid) for rid, _, ks, _ in rows for kind, key in ks]
    if keys:
        await conn.execute(INSERT_KEYS_MANY, user_id, *map(list, zip(*keys, strict=True)))
    features = [(f, at, rid) for rid, at, _, fs in rows for f in fs]
    if features:
        await conn.execute(
            INSERT_FEATURES_MANY, user_id, *map(list, zip(*features, strict=True))
        )


async def apply_df_delta(conn: asyncpg.Connection, user_id: str, delta: dict[str, int]) -> None:
    changed = sorted((term, n) for term, n in delta.items() if n)
    if changed:
        await conn.execute(
            APPLY_DF_DELTA, user_id, [t for t, _ in changed], [n for _, n in changed]
        )


async def document_frequencies(conn: asyncpg.Connection, user_id: str, terms) -> tuple[dict, int]:
    """(df per term, number of the user's documents)."""
    rows = await conn.fetch(GET_DF, user_id, ["", *terms])
    df = {row["term"]: row["df"] for row in rows}
    return df, max(df.pop("", 0), 0)


async def get(conn: asyncpg.Connection, user_id: str, record_id: str):
    return await conn.fetchrow(GET, user_id, record_id)


async def get_many(conn: asyncpg.Connection, user_id: str, record_ids):
    return await conn.fetch(GET_MANY, user_id, list(record_ids))


async def existing(conn: asyncpg.Connection, user_id: str, record_ids) -> set:
    return {row["id"] for row in await conn.fetch(EXISTING, user_id, list(record_ids))}


async def list_page(conn: asyncpg.Connection, user_id: str, search: str, platform: str,
                    artifact_type: str, data_source_id, limit: int, offset: int):
    args = (user_id, search, platform, artifact_type, data_source_id)
    rows = await conn.fetch(LIST, *args, limit, offset)
    return rows, await conn.fetchval(COUNT, *args)


async def lock_for_delete(conn: asyncpg.Connection, user_id: str, record_id: str):
    return await conn.fetchrow(LOCK_FOR_DELETE, user_id, record_id)


async def delete(conn: asyncpg.Connection, user_id: str, record_id: str):
    return await conn.fetchrow(DELETE, user_id, record_id)


OF_USER = f"""
select {BRIEF_COLUMNS} from records where user_id = $1 order by occurred_at, id limit $2
"""


# A page of the user's whole graph: nodes without bodies, so a page costs kilobytes per node.
GRAPH_PAGE = f"""
select {_BASE}, '' as body from records where user_id = $1
 order by occurred_at, id limit $2 offset $3
"""


async def graph_page(conn: asyncpg.Connection, user_id: str, limit: int, offset: int):
    return await conn.fetch(GRAPH_PAGE, user_id, limit, offset)


async def of_user(conn: asyncpg.Connection, user_id: str, limit: int):
    return await conn.fetch(OF_USER, user_id, limit)


# Claims stale pending records (across users: a maintenance pass over a partial index) and
# pushes their request time forward, so a record that keeps failing is retried, not spun on.
CLAIM_STALE_PENDING = """
update records r set discovery_requested_at = now()
  from (select id from records
         where discovery_state = 'pending'
           and discovery_requested_at < now() - make_interval(secs => $1)
         order by discovery_requested_at
         limit $2
         for update skip locked) stale
 where r.id = stale.id
returning r.user_id, r.id
"""
# Of the records a request handed over, those still pending: a pass over stale records may
# have discovered some meanwhile.
STILL_PENDING = """
select id from records
 where user_id = $1 and id = any($2::uuid[]) and discovery_state = 'pending'
"""


async def claim_stale_pending(conn: asyncpg.Connection, stale_after_s: float, limit: int):
    """(user_id, id) of up to `limit` records pending for longer than `stale_after_s`."""
    return await conn.fetch(CLAIM_STALE_PENDING, stale_after_s, limit)


async def still_pending(conn: asyncpg.Connection, user_id: str, record_ids) -> set:
    return {row["id"] for row in await conn.fetch(STILL_PENDING, user_id, list(record_ids))}


# What discovery reads of the records it discovers.
FOR_DISCOVERY = """
select id, user_id, occurred_at, author, participants, refs, identity_keys, metadata_keys,
       term_freqs, title, checksum, fencing_token, data_source_id
  from records where user_id = $1 and id = any($2::uuid[])
"""


async def for_discovery(conn: asyncpg.Connection, user_id: str, record_ids):
    return await conn.fetch(FOR_DISCOVERY, user_id, list(record_ids))
