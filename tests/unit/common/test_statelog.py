"""StateLog: one line per change of state, never one per call."""

import logging

from kushim_common.statelog import StateLog

log = logging.getLogger("statelog-test")


def lines(caplog) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == log.name]


def test_an_outage_seen_many_times_is_logged_once_and_its_end_once(caplog):
    caplog.set_level(logging.INFO, logger=log.name)
    state = StateLog(log, up="back at %s", down="gone from %s (%s)")
    assert state.report(True, "h") is False  # up from the start: nothing to say
    changes = [state.report(False, "h", "timeout") for _ in range(5)]
    changes += [state.report(True, "h") for _ in range(3)]
    assert changes == [True, False, False, False, False, True, False, False]
    assert lines(caplog) == [("WARNING", "gone from h (timeout)"), ("INFO", "back at h")]
    assert state.up is True


def test_an_unknown_start_logs_the_first_state_either_way(caplog):
    caplog.set_level(logging.INFO, logger=log.name)
    for first, expected in ((True, ("INFO", "up")), (False, ("ERROR", "down"))):
        caplog.clear()
        state = StateLog(log, up="up", down="down", initially=None, down_level=logging.ERROR)
        assert state.up is None
        assert state.report(first) is True and state.report(first) is False
        assert lines(caplog) == [expected]
