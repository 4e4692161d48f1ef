"""A deadline for code that must stay linear on hostile input.

The code runs in a forked child that is killed past the deadline, so a quadratic path fails
its test instead of hanging the suite. The deadline is two orders of magnitude above a linear
run of a megabyte (tens to hundreds of milliseconds, on a loaded machine) and far below a
quadratic one (hours): it tells the complexity class apart, it does not measure speed.
"""

import multiprocessing
from collections.abc import Callable, Iterable

SECONDS_PER_INPUT = 5.0
MEGABYTE = 1_000_000


def megabyte_runs(pieces: Iterable[str]) -> list[str]:
    """Each piece repeated to one megabyte: runs of the delimiters a pattern backtracks on."""
    return [piece * (MEGABYTE // len(piece)) for piece in pieces]


def _run_all(work: Callable[[str], object], inputs: list[str]) -> None:
    for text in inputs:
        work(text)


def finishes_in_time(work: Callable[[str], object], inputs: list[str]) -> bool:
    """True when `work` returned on every input before the deadline (5 s per input)."""
    child = multiprocessing.get_context("fork").Process(target=_run_all, args=(work, inputs))
    child.start()
    child.join(SECONDS_PER_INPUT * len(inputs))
    if child.is_alive():
        child.kill()
        child.join()
        return False
    return child.exitcode == 0
