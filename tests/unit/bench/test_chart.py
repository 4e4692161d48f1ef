"""Which figure of a section the chart draws."""

from bench.chart import _panel


def test_a_known_section_draws_its_headline_figure() -> None:
    rows = [{"writes": "0%", "hit_rate_pct": 100.0}, {"writes": "5%", "hit_rate_pct": 29.0}]
    labels, values, (axis, log_scale, target) = _panel("read_mix", rows)
    assert labels == ["0%", "5%"]
    assert values == [100.0, 29.0]
    assert axis.endswith("%") and not log_scale and target == 70.0


def test_an_unknown_section_draws_its_first_number_named_by_its_text() -> None:
    rows = [{"case": "a", "kind": "x", "rate": 3, "other": 9.5}]
    labels, values, (axis, log_scale, target) = _panel("new_section", rows)
    assert labels == ["a · x"]
    assert values == [3.0]
    assert axis == "rate" and not log_scale and target is None
