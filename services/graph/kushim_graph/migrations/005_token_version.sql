-- Per-user token version: a token carries the version it was issued under; logout and a
-- password change increment it, which revokes every token issued before.
alter table users add column token_version bigint not null default 0;
