"""Forecast methods against closed-form results on synthetic series (pure Python, no database)."""

from __future__ import annotations

import math

import pytest

from wsms_tui import forecast as fc


def test_naive_seasonal_naive_and_mean() -> None:
    y = [1, 2, 3, 4, 5, 6, 7, 8]
    assert fc.Naive().forecast(y, 3) == [8, 8, 8]
    assert fc.SeasonalNaive(m=4).forecast(y, 6) == [5, 6, 7, 8, 5, 6]
    assert fc.Mean().forecast(y, 2) == [4.5, 4.5]
    with pytest.raises(ValueError):
        fc.SeasonalNaive(m=12).forecast(y, 1)


def test_ses_level_recursion() -> None:
    # ℓ0 = 10; ℓ1 = 0.5·20 + 0.5·10 = 15; ℓ2 = 0.5·10 + 0.5·15 = 12.5; ℓ3 = 0.5·20 + 0.5·12.5 = 16.25
    assert fc.SES(alpha=0.5).forecast([10, 20, 10, 20], 2) == [16.25, 16.25]
    # a constant series: every α fits it perfectly, the forecast is the constant
    assert fc.SES().forecast([7.0] * 10, 1) == [7.0]
    # closed form: ℓn = (1−α)^n·y0 + Σ α(1−α)^(n−t) y_t
    y, a = [3.0, 9.0, 4.0, 8.0, 1.0], 0.3
    want = (1 - a) ** 4 * y[0] + sum(a * (1 - a) ** (4 - t) * y[t] for t in range(1, 5))
    assert fc.SES(alpha=a).forecast(y, 1)[0] == pytest.approx(want)


def test_ses_chooses_alpha_by_in_sample_error() -> None:
    trend = [float(i) for i in range(20)]  # a ramp: the largest α follows it best
    assert fc.SES().fit_alpha(trend) == max(fc.SES_GRID)


def test_croston_sba_tsb_closed_form() -> None:
    y = [0, 0, 3, 0, 0, 3, 0, 0, 3]  # demand 3 every 3rd period: z = 3, p = 3 throughout
    assert fc.Croston(alpha=0.1).forecast(y, 2) == [pytest.approx(1.0)] * 2
    assert fc.SBA(alpha=0.1).forecast(y, 1) == [pytest.approx(0.95)]
    # sizes 4 then 2 (α=0.5: z = 4 → 3), intervals 2 then 4 (p = 2 → 3): rate 1
    assert fc.Croston(alpha=0.5).forecast([0, 4, 0, 0, 0, 2], 1) == [pytest.approx(1.0)]
    # TSB: d0 = 2/4, z0 = 3; y=[0,2,0,4], α=β=0.5:
    # 0: d=.25 ; 2: d=.625, z=2.5 ; 0: d=.3125 ; 4: d=.65625, z=3.25 → 2.1328125
    assert fc.TSB(alpha=0.5, beta=0.5).forecast([0, 2, 0, 4], 1) == [pytest.approx(0.65625 * 3.25)]
    assert fc.Croston().forecast([0, 0, 0], 1) == [0.0]
    assert fc.TSB().forecast([0, 0], 1) == [0.0]


def test_scores_mase_rmsse_bias() -> None:
    train = [1.0, 3.0, 2.0, 4.0]  # one-step naive |diffs| 2, 1, 2 → mean 5/3; squares 4, 1, 4 → 3
    s = fc.scores(train, actual=[4.0, 6.0], predicted=[5.0, 5.0])
    assert s.mae == 1.0
    assert s.mase == pytest.approx(1 / (5 / 3))
    assert s.rmsse == pytest.approx(math.sqrt(1 / 3))
    assert s.bias == pytest.approx(0.0)
    assert fc.scores([2.0, 2.0], [2.0], [3.0]).mase is None  # no in-sample variation: undefined


def test_choose_picks_the_better_method_and_keeps_the_scores() -> None:
    seasonal = [10.0, 20.0, 30.0, 40.0] * 6
    fit = fc.choose(seasonal, 4, holdout=4, season=4)
    assert fit.method == "seasonal_naive"  # exact on a repeating season: MASE 0
    assert fit.forecast == [10.0, 20.0, 30.0, 40.0]
    assert fit.score is not None and fit.score.mase == 0
    intermittent = [0, 0, 5, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0, 5, 0, 0, 5, 0, 0, 0] * 2
    assert fc.is_intermittent(intermittent)
    fit = fc.choose(intermittent, 4)
    assert {s.method for s in fit.scores} >= {"croston", "sba", "tsb", "ses", "naive", "mean"}
    assert fit.score is not None and fit.score.mase == min(s.mase for s in fit.scores if s.mase is not None)
    assert all(v >= 0 for v in fit.forecast)
    short = fc.choose([1, 2, 3], 2)
    assert short.method == "mean" and short.score is None and short.forecast == [2.0, 2.0]


def test_a_method_can_be_plugged_in() -> None:
    class Twice:
        name = "twice_last"

        def forecast(self, y, h):  # type: ignore[no-untyped-def]
            return [2.0 * y[-1]] * h

    fc.register(Twice())
    try:
        fit = fc.choose([1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0], 1, holdout=4)
        assert fit.method == "twice_last" and fit.forecast == [4096.0]
    finally:
        fc.METHODS.pop("twice_last")
