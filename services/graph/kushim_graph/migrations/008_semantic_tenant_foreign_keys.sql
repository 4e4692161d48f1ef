-- Migration 006 for the semantic tables: an embedding and a suppressed pair reference their
-- records through composite (user_id, id) foreign keys, so the database refuses an embedding
-- filed under another user or a suppression that names another user's record.

-- Rows that already join two users, or name a record that no longer exists, cannot be kept.
delete from record_embeddings e
 where not exists (select 1 from records r where r.user_id = e.user_id and r.id = e.record_id);
delete from link_suppressions s
 where not exists (select 1 from records r where r.user_id = s.user_id and r.id = s.low)
    or not exists (select 1 from records r where r.user_id = s.user_id and r.id = s.high);

alter table record_embeddings drop constraint record_embeddings_record_id_fkey,
    add constraint record_embeddings_record_fkey foreign key (user_id, record_id)
        references records (user_id, id) on delete cascade;

-- A pair suppressed for a deleted record goes with it: the record can never come back.
alter table link_suppressions
    add constraint link_suppressions_low_fkey foreign key (user_id, low)
        references records (user_id, id) on delete cascade,
    add constraint link_suppressions_high_fkey foreign key (user_id, high)
        references records (user_id, id) on delete cascade;
create index link_suppressions_high on link_suppressions (user_id, high);
