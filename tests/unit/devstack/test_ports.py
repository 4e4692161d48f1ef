"""Port layout of the profiles and the kernel reserved-ports list arithmetic."""

import pytest

from devstack.ports import Ports, _format_ranges, _merge, _parse_ranges, test_port_base


def test_run_profile_ports_are_the_documented_ones():
    ports = Ports.run()
    assert (ports.postgres, ports.cache_redis, ports.lock_redis, ports.neo4j) == (
        54320,
        63790,
        (63791, 63792, 63793),
        17687,
    )
    assert not ports.spare


def test_test_profile_ports_follow_the_base():
    ports = Ports.test(54400)
    assert ports.postgres == 54400
    assert ports.cache_redis == 54410
    assert ports.lock_redis == (54411, 54412, 54413)
    assert ports.neo4j == 54430
    assert ports.spare == range(54440, 54500)
    assert _format_ranges(_merge(ports.ranges())) == "54400,54410-54413,54430,54440-54499"


@pytest.mark.parametrize(
    ("environ", "base"),
    [({}, 54400), ({"KUSHIM_TEST_PORT_BASE": "55000"}, 55000)],
)
def test_port_base_from_the_environment(environ, base):
    assert test_port_base(environ) == base


@pytest.mark.parametrize("raw", ["abc", "80", "65500"])
def test_bad_port_base_fails_naming_the_variable(raw):
    with pytest.raises(ValueError, match="KUSHIM_TEST_PORT_BASE"):
        test_port_base({"KUSHIM_TEST_PORT_BASE": raw})


def test_reserved_ranges_round_trip_and_merge():
    assert _parse_ranges("") == []
    assert _parse_ranges("80,100-102\n") == [(80, 80), (100, 102)]
    assert _merge([(100, 102), (80, 80), (103, 105), (101, 101)]) == [(80, 80), (100, 105)]
    assert _format_ranges([(80, 80), (100, 105)]) == "80,100-105"
