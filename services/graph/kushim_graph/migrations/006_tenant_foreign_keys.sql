-- Tenant isolation in the schema itself: every reference between a user's rows carries the
-- user_id, through composite (user_id, id) foreign keys, so the database refuses a link, a
-- membership, a key or a delivery that joins two users' rows whatever a query gets wrong.

alter table data_sources add constraint data_sources_user_id_id unique (user_id, id);
alter table records add constraint records_user_id_id unique (user_id, id);
alter table links add constraint links_user_id_id unique (user_id, id);
alter table context_groups add constraint context_groups_user_id_id unique (user_id, id);

alter table records drop constraint records_data_source_id_fkey,
    add constraint records_data_source_fkey foreign key (user_id, data_source_id)
        references data_sources (user_id, id) on delete set null (data_source_id);

alter table record_keys drop constraint record_keys_record_id_fkey,
    add constraint record_keys_record_fkey foreign key (user_id, record_id)
        references records (user_id, id) on delete cascade;

alter table record_features drop constraint record_features_record_id_fkey,
    add constraint record_features_record_fkey foreign key (user_id, record_id)
        references records (user_id, id) on delete cascade;

alter table links drop constraint links_source_record_id_fkey,
    drop constraint links_target_record_id_fkey,
    add constraint links_source_fkey foreign key (user_id, source_record_id)
        references records (user_id, id) on delete cascade,
    add constraint links_target_fkey foreign key (user_id, target_record_id)
        references records (user_id, id) on delete cascade;

alter table link_feedback drop constraint link_feedback_link_id_fkey,
    add constraint link_feedback_link_fkey foreign key (user_id, link_id)
        references links (user_id, id) on delete cascade;

alter table group_members drop constraint group_members_group_id_fkey,
    drop constraint group_members_record_id_fkey,
    add constraint group_members_group_fkey foreign key (user_id, group_id)
        references context_groups (user_id, id) on delete cascade,
    add constraint group_members_record_fkey foreign key (user_id, record_id)
        references records (user_id, id) on delete cascade;

alter table webhook_deliveries drop constraint webhook_deliveries_data_source_id_fkey,
    add constraint webhook_deliveries_data_source_fkey foreign key (user_id, data_source_id)
        references data_sources (user_id, id) on delete cascade;
