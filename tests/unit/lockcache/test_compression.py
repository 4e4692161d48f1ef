"""compression.pack / unpack: which values are compressed, and what reads back."""

import os
import zlib

import pytest
from kushim_lockcache.compression import MARKER, CorruptValue, pack, unpack

LIMIT = 1 << 20


def test_a_value_below_the_threshold_is_stored_as_given():
    assert pack(b"x" * 1023, 1024) == b"x" * 1023


def test_a_value_at_the_threshold_is_compressed_and_reads_back():
    value = b"context " * 200
    stored = pack(value, 1024)
    assert stored.startswith(MARKER) and len(stored) < len(value)
    assert unpack(stored, LIMIT) == value


def test_a_threshold_of_zero_stores_values_as_given():
    assert pack(b"y" * 5000, 0) == b"y" * 5000


@pytest.mark.parametrize("min_bytes", [0, 1024])
def test_a_small_value_that_starts_with_the_marker_is_compressed_so_it_reads_back(min_bytes):
    value = MARKER + b"!"
    stored = pack(value, min_bytes)
    assert stored != value
    assert unpack(stored, LIMIT) == value


def test_a_value_written_before_compression_reads_as_it_is():
    assert unpack(b"\x0a\x03abc", LIMIT) == b"\x0a\x03abc"


def test_a_marked_value_that_does_not_decompress_is_corrupt():
    with pytest.raises(CorruptValue, match="does not decompress"):
        unpack(MARKER + b"not zlib", LIMIT)


def test_a_truncated_compressed_value_is_corrupt():
    stored = pack(b"z" * 4096, 1024)
    with pytest.raises(CorruptValue, match="truncated"):
        unpack(stored[:-4], LIMIT)


def test_a_value_that_would_decompress_past_the_limit_is_corrupt():
    bomb = MARKER + zlib.compress(b"\0" * (LIMIT * 4))
    with pytest.raises(CorruptValue, match="larger than the limit"):
        unpack(bomb, LIMIT)


def test_a_value_that_does_not_shrink_is_stored_as_given():
    value = os.urandom(4096)
    assert pack(value, 1024) == value or value.startswith(MARKER)
