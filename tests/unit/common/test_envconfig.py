"""The typed environment readers: defaults, parsing, and errors that name the variable."""

import pytest
from kushim_common.envconfig import (
    ConfigError,
    read_addr,
    read_bool,
    read_float,
    read_int,
    read_log_level,
    read_port,
    read_str,
)


def test_unset_or_blank_gives_the_default():
    for env in ({}, {"X": "  "}):
        assert read_str(env, "X", "d") == "d"
        assert read_int(env, "X", 7, minimum=1, maximum=9) == 7
        assert read_float(env, "X", 0.5, minimum=0.0) == 0.5
        assert read_bool(env, "X", True) is True
        assert read_port(env, "X", 80) == 80
        assert read_addr(env, "X", "h:1") == "h:1"
    assert read_log_level({}, "LOG_LEVEL") == "INFO"


def test_values_are_parsed():
    assert read_str({"X": " v "}, "X", "d") == "v"
    assert read_int({"X": " 12 "}, "X", 0, minimum=0) == 12
    assert read_float({"X": "0.25"}, "X", 0.0, minimum=0.0, maximum=1.0) == 0.25
    assert [read_bool({"X": w}, "X", False) for w in ("1", "TRUE", "yes", "on")] == [True] * 4
    assert [read_bool({"X": w}, "X", True) for w in ("0", "false", "No", "off")] == [False] * 4
    assert read_port({"X": "0"}, "X", 1, allow_zero=True) == 0
    assert read_addr({"X": "lc:50051"}, "X", "h:1") == "lc:50051"
    assert read_log_level({"LOG_LEVEL": "debug"}, "LOG_LEVEL") == "DEBUG"


@pytest.mark.parametrize(
    ("read", "raw", "message"),
    [
        (lambda e: read_int(e, "X", 0), "ten", "X must be an integer, got 'ten'"),
        (lambda e: read_int(e, "X", 0, minimum=1, maximum=9), "10", "X must be between 1 and 9"),
        (lambda e: read_int(e, "X", 0, minimum=0), "-1", "X must be >= 0, got -1"),
        (lambda e: read_int(e, "X", 0, maximum=5), "6", "X must be <= 5, got 6"),
        (lambda e: read_float(e, "X", 0.0), "soon", "X must be a number, got 'soon'"),
        (lambda e: read_float(e, "X", 0.0, minimum=0.0, maximum=1.0), "1.5", "between 0.0 and"),
        (lambda e: read_bool(e, "X", False), "maybe", "X must be true or false, got 'maybe'"),
        (lambda e: read_port(e, "X", 1), "0", "X must be a TCP port, got 0"),
        (lambda e: read_port(e, "X", 1), "70000", "X must be a TCP port, got 70000"),
        (lambda e: read_port(e, "X", 1), "-3", "X must be >= 0, got -3"),
        (lambda e: read_addr(e, "X", "h:1"), "nohost", "X must be host:port, got 'nohost'"),
        (lambda e: read_addr(e, "X", "h:1"), "h:0", "X must be host:port, got 'h:0'"),
        (lambda e: read_addr(e, "X", "h:1"), ":80", "X must be host:port"),
        (lambda e: read_log_level(e, "X"), "LOUD", "X must be one of DEBUG, INFO, WARNING"),
    ],
)
def test_bad_values_raise_one_error_naming_the_variable(read, raw, message):
    with pytest.raises(ConfigError) as caught:
        read({"X": raw})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_services_share_the_error_class():
    from kushim_api.config import ConfigError as ApiError
    from kushim_graph.config import ConfigError as GraphError
    from kushim_lockcache.config import ConfigError as LockcacheError

    assert ApiError is GraphError is LockcacheError is ConfigError
