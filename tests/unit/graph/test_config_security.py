"""The graph settings and helpers that protect data at rest: sealed webhook secrets, roles."""

import base64
import os

import pytest
from kushim_graph.config import Config, ConfigError
from kushim_graph.secretbox import PREFIX, SecretBox, SecretUnreadable

KEY = os.urandom(32)
ALICE, BOB = "8c1f6a36-0d7e-4b3e-9d1c-2f4a1b6e7c01", "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5"


def test_a_sealed_secret_opens_for_its_user_and_does_not_show_the_plaintext():
    box = SecretBox(KEY)
    sealed = box.seal("whsec_hunter2", ALICE)
    assert sealed.startswith(PREFIX) and "hunter2" not in sealed
    assert box.open(sealed, ALICE) == "whsec_hunter2"


def test_a_sealed_secret_copied_to_another_user_does_not_open():
    box = SecretBox(KEY)
    with pytest.raises(SecretUnreadable):
        box.open(box.seal("whsec_hunter2", ALICE), BOB)


def test_another_key_cannot_open_it():
    with pytest.raises(SecretUnreadable, match="cannot open"):
        SecretBox(os.urandom(32)).open(SecretBox(KEY).seal("s", ALICE), ALICE)


def test_without_a_key_nothing_is_sealed_and_a_sealed_value_is_reported():
    assert SecretBox(None).seal("plain", ALICE) == "plain"
    with pytest.raises(SecretUnreadable, match="WEBHOOK_SECRET_KEY is not set"):
        SecretBox(None).open(SecretBox(KEY).seal("s", ALICE), ALICE)


def test_plaintext_written_before_the_key_still_opens_and_empty_stays_empty():
    box = SecretBox(KEY)
    assert box.open("legacy-plain", ALICE) == "legacy-plain"
    assert box.seal("", ALICE) == ""


BASE = {"DATABASE_URL": "postgresql://u@h/db"}


def test_the_key_is_read_from_the_environment_and_masked():
    config = Config.from_env(BASE | {"WEBHOOK_SECRET_KEY": base64.b64encode(KEY).decode()})
    assert config.webhook_secret_key == KEY
    assert base64.b64encode(KEY).decode() not in repr(config) and str(KEY) not in repr(config)


@pytest.mark.parametrize(
    ("raw", "why"), [("not base64!", "must be base64"), ("c2hvcnQ=", "must decode to 32 bytes")]
)
def test_a_bad_key_fails_start_naming_the_variable(raw, why):
    with pytest.raises(ConfigError, match=f"^WEBHOOK_SECRET_KEY {why}"):
        Config.from_env(BASE | {"WEBHOOK_SECRET_KEY": raw})


def test_migrations_default_to_the_service_url_and_never_show_a_password():
    config = Config.from_env(BASE)
    assert config.migration_database_url == BASE["DATABASE_URL"]
    owner = "postgresql://owner:s3cret-owner@h/db"
    config = Config.from_env(BASE | {"MIGRATION_DATABASE_URL": owner})
    assert config.migration_database_url == owner and "s3cret-owner" not in repr(config)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MIGRATION_DATABASE_URL": "mysql://x"}, "^MIGRATION_DATABASE_URL must start with"),
        ({"DATABASE_RUNTIME_ROLE": "bob; drop table"}, "^DATABASE_RUNTIME_ROLE must be"),
    ],
)
def test_bad_database_role_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_env(BASE | env)
