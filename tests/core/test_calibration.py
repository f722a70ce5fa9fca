"""Our token count corrected to the server's: offset for what it adds, slope for new text."""

from __future__ import annotations

from ml_intern_tui.core.calibration import TokenCalibration


def server(ours: int) -> int:
    """A server that adds 5,000 tokens of its own (tool schemas) and counts text 30% higher."""
    return 5000 + round(1.3 * ours)


def test_uncalibrated_is_our_count() -> None:
    cal = TokenCalibration()
    assert not cal.calibrated and cal.estimate(12_345) == 12_345 and cal.scale(100) == 100


def test_one_pair_makes_that_size_exact_and_uses_its_ratio() -> None:
    cal = TokenCalibration()
    assert cal.observe(4000, server(4000))
    assert cal.estimate(4000) == server(4000)
    assert cal.slope == server(4000) / 4000
    # Planning a cut with that ratio would cut too little: it is capped at 1 for cuts.
    assert cal.unscale(1000) == 1000


def test_two_sizes_apart_fit_slope_and_offset() -> None:
    cal = TokenCalibration()
    for ours in (4000, 9000, 15_000):
        cal.observe(ours, server(ours))
    assert abs(cal.slope - 1.3) < 0.01
    for ours in (2000, 30_000, 80_000):
        assert abs(cal.estimate(ours) - server(ours)) <= 2
    assert cal.scale(1000) == 1300 and cal.unscale(1300) == 1000


def test_implausible_counts_are_ignored() -> None:
    cal = TokenCalibration()
    assert not cal.observe(4000, 20)  # a fake that always says 20
    assert not cal.observe(4000, 0)
    assert not cal.observe(10, 30)  # too small to say anything
    assert not cal.observe(1000, 5000)  # five times ours: not the same prompt
    assert not cal.calibrated and cal.estimate(4000) == 4000


def test_slope_is_kept_when_sizes_barely_differ_and_clamped_when_wild() -> None:
    cal = TokenCalibration()
    cal.observe(10_000, server(10_000))
    cal.observe(20_000, server(20_000))
    slope = cal.slope
    cal.observe(20_010, server(20_010) + 40)  # noise at one size: the slope stays
    cal.observe(20_020, server(20_020))
    assert abs(cal.slope - slope) < 0.05
    wild = TokenCalibration([(1000, 1000), (2000, 5900)])
    assert wild.slope == 3.0  # the most a tokenizer can differ


def test_state_round_trips_and_reset_forgets() -> None:
    cal = TokenCalibration()
    for ours in (4000, 9000):
        cal.observe(ours, server(ours))
    again = TokenCalibration(tuple(p) for p in cal.state()["points"])
    assert again.estimate(50_000) == cal.estimate(50_000)
    cal.reset()
    assert not cal.calibrated and cal.estimate(50_000) == 50_000


def test_estimates_stay_positive_and_near_ours() -> None:
    cal = TokenCalibration([(4000, 9000)])
    assert cal.estimate(0) == 0
    assert 50 <= cal.estimate(100) <= 300
