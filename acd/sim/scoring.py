"""Accuracy of wait predictions: each estimate against the wait that actually happened (or would have)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Accuracy:
    """Figures for one estimator over the scored callers; seconds unless named otherwise."""

    n: int
    rmse_s: float
    mae_s: float
    bias_s: float
    """Mean of (predicted - actual): positive means callers are promised longer waits than they get."""
    relative_rmse: float
    """RMSE divided by the mean actual wait."""

    def as_dict(self) -> dict[str, float | int]:
        return {
            "n": self.n,
            "rmse_s": round(self.rmse_s, 3),
            "mae_s": round(self.mae_s, 3),
            "bias_s": round(self.bias_s, 3),
            "relative_rmse": round(self.relative_rmse, 4),
        }


@dataclass
class Scorer:
    """Collects (predicted, actual) pairs per estimator; a prediction waits until its outcome is known."""

    names: tuple[str, ...]
    _pending: dict[int, tuple[float, ...]] = field(default_factory=dict)
    _sq: list[float] = field(init=False)
    _abs: list[float] = field(init=False)
    _err: list[float] = field(init=False)
    _n: int = 0
    _actual_sum: float = 0.0
    _bands: dict[int, tuple[float, float]] = field(default_factory=dict)
    _band_n: int = 0
    _below: int = 0
    _above: int = 0

    def __post_init__(self) -> None:
        k = len(self.names)
        self._sq, self._abs, self._err = [0.0] * k, [0.0] * k, [0.0] * k

    def predicted(self, key: int, values: tuple[float, ...], band: tuple[float, float] | None = None) -> None:
        """Remember the predictions for caller ``key``; ``band`` is the announced (low, high) range."""
        self._pending[key] = values
        if band is not None:
            self._bands[key] = band

    def actual(self, key: int, waited_s: float) -> None:
        """The caller's real (or would-have-been) wait is known; callers never predicted are ignored."""
        values = self._pending.pop(key, None)
        if values is None:
            return
        band = self._bands.pop(key, None)
        if band is not None:
            self._band_n += 1
            self._below += waited_s < band[0]
            self._above += waited_s > band[1]
        self._n += 1
        self._actual_sum += waited_s
        for i, p in enumerate(values):
            e = p - waited_s
            self._sq[i] += e * e
            self._abs[i] += abs(e)
            self._err[i] += e

    @property
    def unresolved(self) -> int:
        return len(self._pending)

    def band_coverage(self) -> dict[str, float]:
        """How often the actual wait fell below, inside and above the predicted range (aim: 10/80/10 %)."""
        n = max(self._band_n, 1)
        return {
            "n": self._band_n,
            "below_low": round(self._below / n, 4),
            "inside": round(1 - (self._below + self._above) / n, 4),
            "above_high": round(self._above / n, 4),
        }

    @property
    def mean_actual(self) -> float:
        return self._actual_sum / self._n if self._n else 0.0

    def results(self) -> dict[str, Accuracy]:
        n = max(self._n, 1)
        mean_actual = self._actual_sum / n
        out: dict[str, Accuracy] = {}
        for i, name in enumerate(self.names):
            rmse = math.sqrt(self._sq[i] / n)
            out[name] = Accuracy(
                n=self._n,
                rmse_s=rmse,
                mae_s=self._abs[i] / n,
                bias_s=self._err[i] / n,
                relative_rmse=rmse / mean_actual if mean_actual > 0 else math.nan,
            )
        return out
