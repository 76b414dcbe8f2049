"""Demand forecasting: simple, robust methods chosen per series by backtest (pure Python, no database).

Methods (each a ``ForecastMethod``: ``forecast(history, h) -> h values``, history oldest first):

* ``naive`` — the last value; ``seasonal_naive`` — the value one season (``m`` periods) earlier;
* ``mean`` — the mean of the history;
* ``ses`` — simple exponential smoothing: level ℓ₀ = y₀, ℓₜ = α·yₜ + (1−α)·ℓₜ₋₁, forecast ℓₙ (flat); with
  ``alpha=None`` α is chosen from a grid by the in-sample one-step squared error;
* ``croston`` — for intermittent demand: smooth the non-zero demand sizes z and the intervals p between
  them separately (both with α; initialised with the first demand and the periods up to it), forecast z/p;
  ``sba`` — Syntetos–Boylan: Croston × (1 − α/2), which removes Croston's bias;
* ``tsb`` — Teunter–Syntetos–Babai: smooth the demand probability d every period (β) and the size z at
  demands (α), forecast d·z (initialised with the share of periods with demand and their mean size), so an
  item that stopped selling fades to zero.

``backtest`` holds out the last ``h`` periods, forecasts them from the rest and scores the errors with MASE
and RMSSE (scaled by the in-sample one-step naive errors, as in the M4/M5 competitions) and bias (mean
error / mean actual). ``choose`` runs every candidate, picks the lowest MASE (RMSSE, then simpler first on
ties), and refits the winner on the whole history. A heavier library (statsforecast, …) plugs in by
``register(method)`` with any object that has ``name`` and ``forecast``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

SES_GRID = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9)


class ForecastMethod(Protocol):
    name: str

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        """``h`` forecasts following the history ``y`` (oldest first, at least one value)."""
        ...


@dataclass(frozen=True)
class Naive:
    name: str = "naive"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        return [float(y[-1])] * h


@dataclass(frozen=True)
class SeasonalNaive:
    m: int = 52
    name: str = "seasonal_naive"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        if len(y) < self.m:
            raise ValueError(f"seasonal naive needs a full season of {self.m} periods")
        season = list(y[-self.m:])
        return [float(season[i % self.m]) for i in range(h)]


@dataclass(frozen=True)
class Mean:
    name: str = "mean"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        return [sum(y) / len(y)] * h


def ses_level(y: Sequence[float], alpha: float) -> tuple[float, float]:
    """(final level, in-sample one-step SSE) of simple exponential smoothing with ℓ₀ = y₀."""
    level = float(y[0])
    sse = 0.0
    for v in y[1:]:
        e = v - level
        sse += e * e
        level += alpha * e
    return level, sse


@dataclass(frozen=True)
class SES:
    alpha: float | None = None
    name: str = "ses"

    def fit_alpha(self, y: Sequence[float]) -> float:
        if self.alpha is not None:
            return self.alpha
        return min(SES_GRID, key=lambda a: (ses_level(y, a)[1], a))

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        return [ses_level(y, self.fit_alpha(y))[0]] * h


def croston_rate(y: Sequence[float], alpha: float) -> float | None:
    """Croston's z/p after the history (None when there was no demand at all)."""
    z = p = None
    q = 0
    for v in y:
        q += 1
        if v > 0:
            if z is None:
                z, p = float(v), float(q)
            else:
                z += alpha * (v - z)
                p += alpha * (q - p)  # type: ignore[operator]
            q = 0
    if z is None or not p:
        return None
    return z / p


@dataclass(frozen=True)
class Croston:
    alpha: float = 0.1
    name: str = "croston"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        rate = croston_rate(y, self.alpha)
        return [rate or 0.0] * h


@dataclass(frozen=True)
class SBA:
    alpha: float = 0.1
    name: str = "sba"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        rate = croston_rate(y, self.alpha)
        return [(rate or 0.0) * (1 - self.alpha / 2)] * h


@dataclass(frozen=True)
class TSB:
    alpha: float = 0.1
    beta: float = 0.1
    name: str = "tsb"

    def forecast(self, y: Sequence[float], h: int) -> list[float]:
        nonzero = [float(v) for v in y if v > 0]
        if not nonzero:
            return [0.0] * h
        d = len(nonzero) / len(y)
        z = sum(nonzero) / len(nonzero)
        for v in y:
            if v > 0:
                d += self.beta * (1 - d)
                z += self.alpha * (v - z)
            else:
                d -= self.beta * d
        return [d * z] * h


METHODS: dict[str, ForecastMethod] = {}


def register(method: ForecastMethod) -> None:
    """Add (or replace) a method by its name; ``choose`` considers every registered method."""
    METHODS[method.name] = method


for _m in (Naive(), SeasonalNaive(), Mean(), SES(), Croston(), SBA(), TSB()):
    register(_m)

#: tie-break order: simpler first
SIMPLICITY = {"naive": 0, "mean": 1, "seasonal_naive": 2, "ses": 3, "croston": 4, "sba": 5, "tsb": 6}


@dataclass(frozen=True)
class Score:
    method: str
    mase: float | None
    rmsse: float | None
    bias: float | None
    mae: float


@dataclass(frozen=True)
class Fit:
    """The chosen method, its backtest scores and the forecast from the whole history."""

    method: str
    forecast: list[float]
    score: Score | None
    scores: tuple[Score, ...] = ()


def scores(train: Sequence[float], actual: Sequence[float], predicted: Sequence[float], method: str = "") -> Score:
    """MASE, RMSSE (scaled by the in-sample one-step naive errors of ``train``), bias (mean error / mean actual)."""
    n = len(actual)
    errors = [p - a for p, a in zip(predicted, actual, strict=True)]
    mae = sum(abs(e) for e in errors) / n
    mse = sum(e * e for e in errors) / n
    diffs = [train[i] - train[i - 1] for i in range(1, len(train))]
    scale_abs = sum(abs(d) for d in diffs) / len(diffs) if diffs else 0.0
    scale_sq = sum(d * d for d in diffs) / len(diffs) if diffs else 0.0
    mean_actual = sum(actual) / n
    return Score(method, mae / scale_abs if scale_abs > 0 else None,
                 math.sqrt(mse / scale_sq) if scale_sq > 0 else None,
                 (sum(errors) / n) / mean_actual if mean_actual > 0 else None, mae)


def backtest(y: Sequence[float], method: ForecastMethod, h: int) -> Score:
    """Hold out the last ``h`` values, forecast them from the rest, score the forecast."""
    train, test = y[:-h], y[-h:]
    return scores(train, test, method.forecast(train, h), method.name)


def candidates(y: Sequence[float], h: int, season: int) -> list[ForecastMethod]:
    """The registered methods that can be backtested on ``y`` (seasonal naive needs a season + holdout)."""
    out: list[ForecastMethod] = []
    for m in METHODS.values():
        if isinstance(m, SeasonalNaive):
            if len(y) - h < season:
                continue
            m = SeasonalNaive(m=season)
        out.append(m)
    return out


def choose(y: Sequence[float], h: int, *, holdout: int = 8, season: int = 52,
           methods: Sequence[str] | None = None) -> Fit:
    """Backtest the candidates on ``y``, pick the best by MASE, forecast ``h`` ahead from all of ``y``.

    Fewer than ``holdout`` + 2 values: no backtest, the mean is used (scores None)."""
    y = [float(v) for v in y]
    if not y:
        return Fit("mean", [0.0] * h, None)
    pool = [METHODS[n] for n in methods] if methods else candidates(y, holdout, season)
    if len(y) < holdout + 2:
        m = pool[0] if methods else METHODS["mean"]
        return Fit(m.name, m.forecast(y, h), None)
    results = []
    for m in pool:
        try:
            results.append(backtest(y, m, holdout))
        except ValueError:
            continue
    if not results:
        m = METHODS["mean"]
        return Fit(m.name, m.forecast(y, h), None)
    inf = float("inf")
    best = min(results, key=lambda r: (inf if r.mase is None else r.mase, inf if r.rmsse is None else r.rmsse,
                                       r.mae, SIMPLICITY.get(r.method, 99)))
    winner = next(m for m in pool if m.name == best.method)
    return Fit(best.method, [max(0.0, v) for v in winner.forecast(y, h)], best, tuple(results))


def is_intermittent(y: Sequence[float]) -> bool:
    """Average inter-demand interval above 1.32 (Syntetos–Boylan's cut-off)."""
    n = sum(1 for v in y if v > 0)
    return n == 0 or len(y) / n > 1.32
