import pytest
from kushim_lockcache import fencing
from kushim_lockcache.redlock import BadLockRequest, check_request, drift_ms


def test_resources_are_sorted_and_deduplicated():
    assert check_request(["b", "a", "b"], 1000) == ("a", "b")


@pytest.mark.parametrize(
    ("resources", "ttl"),
    [([], 1000), (["a"], 0), (["a"], 10**12), (["bad resource"], 1000), (["x"] * 65, 1000)],
)
def test_bad_requests(resources, ttl):
    with pytest.raises(BadLockRequest):
        check_request(resources, ttl)


def test_drift_is_one_percent_plus_two_ms():
    assert drift_ms(10_000) == 102


def test_merge_takes_the_maximum_per_resource_and_names_laggards():
    maxima, lagging = fencing.merge([[5, 9], [7, 9], [7, 9]])
    assert maxima == [7, 9]
    assert lagging == [0]


def test_merge_with_agreement_needs_no_raise():
    assert fencing.merge([[3], [3]]) == ([3], [])


def test_merge_refuses_nothing():
    with pytest.raises(ValueError):
        fencing.merge([])
