"""The load sweep that sets the latency scenarios' offered rate (bench/sweep.py): which steps it
runs, when it stops, and which rate it calls sustained."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import given, strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

from sweep import STEPS, SUSTAINED_P99_MS, run_sweep, step_rates, unsustained  # noqa: E402
from trials import Trial  # noqa: E402

CLOSED = 40_000


def trial(rate: float, p99: float = 3.0, delivered: float | None = None, ok: bool = True,
          problem: str = "") -> Trial:
    figures = {"msgs_per_s": rate if delivered is None else delivered, "p99_ms": p99}
    return Trial("latency-tcp-sweep", "jim", 1, ok, figures, problem)


class Server:
    """Answers each step like a server whose p99 stays low up to `capacity` and then explodes;
    `noisy` lists the step indexes (1-based, in call order) that fail once whatever the rate."""

    def __init__(self, capacity: float, noisy: frozenset[int] = frozenset()):
        self.capacity, self.noisy, self.calls = capacity, noisy, []

    def __call__(self, index: int, rate: float) -> Trial:
        self.calls.append((index, rate))
        if index in self.noisy:
            return trial(rate, p99=400.0)
        return trial(rate, p99=4.0 if rate <= self.capacity else 900.0)


def test_the_steps_are_fractions_of_the_closed_loop_rate_lowest_first():
    rates = step_rates(CLOSED)
    assert rates == sorted(rates)
    assert rates[0] == round(CLOSED * STEPS[0]) and rates[-1] == CLOSED


def test_the_knee_is_the_highest_sustained_rate_after_two_bisections():
    server = Server(capacity=21_000)
    found = run_sweep(server, CLOSED, deadline=float("inf"))
    # 0.2 .. 0.5 of 40,000 sustained, 0.6 not (twice); then 22,000 not (twice), 21,000 yes
    assert [rate for _, rate in server.calls] == [8_000, 12_000, 16_000, 20_000, 24_000, 24_000,
                                                  22_000, 22_000, 21_000]
    assert found.knee == 21_000
    assert [s.sustained for s in found.steps] == [True] * 4 + [False] * 4 + [True]
    assert "22,000" in found.stopped
    assert [index for index, _ in server.calls] == list(range(1, 10))


def test_one_noisy_step_does_not_end_the_sweep():
    server = Server(capacity=29_000, noisy=frozenset({2}))
    found = run_sweep(server, CLOSED, deadline=float("inf"))
    assert found.knee == 29_000
    assert [rate for _, rate in server.calls][:4] == [8_000, 12_000, 12_000, 16_000]


def test_no_step_sustained_leaves_no_knee():
    found = run_sweep(Server(capacity=1_000), CLOSED, deadline=float("inf"))
    assert found.knee is None and len(found.steps) == 2


def test_every_step_sustained_ends_at_the_closed_loop_rate_without_a_stop_reason():
    found = run_sweep(Server(capacity=10**9), CLOSED, deadline=float("inf"))
    assert found.knee == CLOSED and found.stopped == ""
    assert len(found.steps) == len(STEPS)


def test_the_deadline_ends_the_sweep_with_what_it_found():
    now = [0.0]

    def step(index: int, rate: float) -> Trial:
        now[0] += 10.0
        return trial(rate)

    found = run_sweep(step, CLOSED, deadline=25.0, clock=lambda: now[0])
    assert found.knee == 16_000 and len(found.steps) == 3
    assert "time budget" in found.stopped


@given(rate=st.floats(1_000, 100_000), p99=st.floats(0, 1_000), share=st.floats(0, 1.5))
def test_a_step_is_sustained_exactly_when_it_keeps_up_within_the_p99_bound(rate, p99, share):
    why = unsustained(trial(rate, p99=p99, delivered=rate * share), rate)
    assert (why == "") == (share >= 0.98 and p99 <= SUSTAINED_P99_MS)


def test_a_failed_trial_is_not_sustained_and_says_why():
    assert unsustained(trial(10_000, ok=False, problem="imload exited with status 2"), 10_000) == \
        "imload exited with status 2"
    # a run that counted, but whose server logged errors: no sustained step either
    assert unsustained(trial(10_000, problem="the server logged 3 error line(s)"), 10_000) == \
        "the server logged 3 error line(s)"
    assert unsustained(Trial("s", "jim", 1, True, {}), 10_000) == "no rate or p99 in the result"
