"""The load sweep of the latency scenarios: how much open-loop load a server sustains.

A closed-loop run (pairs-tcp) keeps 20 chats per pair in flight, so a server that handles what a
read brings in one go gets many chats per read and runs far faster than it would with chats
arriving one by one at their scheduled moments. Half of that rate is therefore no longer "half
load" for open-loop traffic. The sweep finds the open-loop capacity directly: short open-loop
trials at rising rates (fractions of the closed-loop median), each against a fresh server,
until one is not sustained, then L{BISECTIONS} halvings of the gap between the last step
sustained and the first not. The latency scenario then offers half of the highest sustained
rate, which is what ../shared/reference/perf-reliability.md calls latency at 50% of the max
sustainable rate.

Pure logic: the trials come from a function the caller passes, so this module starts nothing.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import attrs

from trials import Trial

STEPS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)  # offered, as fractions of the closed loop
BISECTIONS = 2  # halvings of the gap at the knee: it is then known to 2.5% of the closed loop
SUSTAINED_P99_MS = 50.0  # perf-reliability.md's p99 bound at 80% load
# imload's msgs/s in open loop: chats / (last delivery - first due send). Under the offered
# rate by more than this, the last chat came that much of the run's length late: a backlog.
SUSTAINED_DELIVERED = 0.98


@attrs.frozen
class Step:
    """One rate of the sweep: the trial run at it and why it was not sustained ("" if it was)."""

    rate: float
    trial: Trial
    unsustained: str

    @property
    def sustained(self) -> bool:
        return not self.unsustained


@attrs.frozen
class Sweep:
    """What the sweep found: the highest sustained rate (None: not even the first step) and every
    step run, in order (a step tried again appears twice)."""

    closed_rate: float
    steps: tuple[Step, ...]
    knee: Optional[float]
    stopped: str = ""  # why the sweep ended before its last step, if it did


def step_rates(closed_rate: float) -> list[float]:
    return [round(closed_rate * f) for f in STEPS]


def unsustained(trial: Trial, rate: float) -> str:
    """Why a step at C{rate} was not sustained; "" when it was. Any problem of the trial counts
    (a failed check of imload's, errors in the server's log), not only a failed run."""
    if not trial.ok or trial.problem:
        return trial.problem or "the trial failed"
    delivered = trial.figures.get("msgs_per_s")
    p99 = trial.figures.get("p99_ms")
    if not isinstance(delivered, (int, float)) or not isinstance(p99, (int, float)):
        return "no rate or p99 in the result"
    if delivered < SUSTAINED_DELIVERED * rate:
        return (f"delivered {delivered:,.0f} msgs/s, under {SUSTAINED_DELIVERED:.0%} of the offered "
                "rate: a backlog grew")
    if p99 > SUSTAINED_P99_MS:
        return f"p99 {p99:,.2f} ms, over {SUSTAINED_P99_MS:g} ms"
    return ""


class _Budget(Exception):
    """The run's time budget is spent."""


def run_sweep(run_step: Callable[[int, float], Trial], closed_rate: float, deadline: float,
              clock: Callable[[], float] = time.monotonic) -> Sweep:
    """Run C{run_step(index, rate)} at each step's rate, lowest first, until a step is not
    sustained twice in a row (one noisy trial does not end the sweep) or the steps run out;
    then halve the gap between the highest rate sustained and the lowest not, L{BISECTIONS}
    times, each rate tried as a step is. C{deadline} (on C{clock}) ends it early."""
    steps: list[Step] = []

    def sustained(rate: float) -> bool:
        for _ in (1, 2):
            if clock() > deadline:
                raise _Budget()
            trial = run_step(len(steps) + 1, rate)
            steps.append(Step(rate, trial, unsustained(trial, rate)))
            if steps[-1].sustained:
                return True
        return False

    knee: Optional[float] = None
    try:
        failed = None
        for rate in step_rates(closed_rate):
            if not sustained(rate):
                failed = rate
                break
            knee = rate
        if failed is None:
            return Sweep(closed_rate, tuple(steps), knee)
        low = knee
        for _ in range(BISECTIONS if low is not None else 0):
            middle = round((low + failed) / 2)
            if sustained(middle):
                low = knee = middle
            else:
                failed = middle
        return Sweep(closed_rate, tuple(steps), knee,
                     f"{failed:,.0f} msgs/s was the lowest rate not sustained (twice)")
    except _Budget:
        return Sweep(closed_rate, tuple(steps), knee, "the run's time budget is spent")
