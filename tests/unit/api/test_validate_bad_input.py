"""Bad input found by the HTTP fuzz suite, pinned at the validation layer (the record shape)."""

import pytest
from kushim_api import bodies
from kushim_api.errors import ValidationError

RECORD = {"externalId": "E-1", "sourcePlatform": "jira", "artifactType": "task", "title": "t",
          "author": "a", "timestamp": "2024-05-01T12:00:00Z"}


def _record(**fields) -> bodies.RecordInput:
    return bodies.parse(bodies.RecordInput, {**RECORD, **fields})


@pytest.mark.parametrize("value", ["2024-05-01T12:00:00Z\x00", "2024-05-01T12:00:00Z\x00junk"])
def test_a_timestamp_with_a_nul_is_refused(value):
    # datetime.fromisoformat stops at the NUL and would accept both.
    with pytest.raises(ValidationError) as refused:
        _record(timestamp=value)
    assert refused.value.details == {"field": "timestamp"}


@pytest.mark.parametrize("text", ["\\u0000", "a\\\\\\u0000", "\\\\u0000", "\\\\\\\\u0000"])
def test_the_literal_text_backslash_u0000_is_storable_metadata(text):
    encoded = _record(metadata={"note": text, text: 1}).metadata
    assert encoded is not None and text in encoded.replace("\\\\", "\\")


@pytest.mark.parametrize("value", [{"k": "\x00"}, {"\x00": 1}, {"k": ["a\\\x00"]},
                                   {"k": "\\\x00"}])
def test_a_real_nul_in_metadata_is_refused(value):
    with pytest.raises(ValidationError, match="NUL"):
        _record(metadata=value)
