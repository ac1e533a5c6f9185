"""Person-level non-parametric bootstrap with percentile and BCa intervals.

Every cost statistic hfeval reports is a function of column *sums* over people (costs and
person-time per arm), so one resample is a vector of per-person multiplicities and its
statistic is computed from weighted sums. That makes it cheap to get many statistics (by
payer, by service) from the same resamples, and the jackknife BCa needs is exact and fast:
leaving person i out is subtracting row i from the totals.

Implementation (Efron & Tibshirani 1993, ch. 14.3 and 15.4, as scipy.stats.bootstrap):

- Resampling: each arm (sample) is resampled on its own, n_j people drawn with replacement
  from its n_j people (`numpy.random.Generator(PCG64(seed))`), so a design comparing two arms
  is a stratified bootstrap. Same seed, same data: same resamples.
- Percentile interval: the alpha/2 and 1 - alpha/2 quantiles (linear interpolation) of the
  bootstrap distribution.
- BCa: bias correction z0 = Phi^-1(p), p = (#{theta* < theta} + #{theta* <= theta}) / (2B);
  acceleration a = sum_j sum_i U_ji^3 / n_j^3 / (6 (sum_j sum_i U_ji^2 / n_j^2)^1.5) with
  U_ji = (n_j - 1)(mean_i theta_(j,-i) - theta_(j,-i)) from the jackknife over each arm;
  interval quantiles Phi(z0 + (z0 +- z)/(1 - a (z0 +- z))). Identical to scipy's `_bca_interval`
  given the same bootstrap distribution (tests/test_costs_bootstrap.py checks this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr, ndtri

Statistic = Callable[[Sequence[np.ndarray]], np.ndarray]
# Bound on resamples x people held in memory at once.
_CELLS_PER_BATCH = 5_000_000


@dataclass(frozen=True)
class BootstrapResult:
    estimate: np.ndarray  # (m,)
    replicates: np.ndarray  # (B, m)
    percentile: np.ndarray  # (m, 2)
    bca: np.ndarray  # (m, 2)
    level: float
    n_resamples: int
    seed: int


def _resample_counts(rng: np.random.Generator, n: int, batch: int) -> np.ndarray:
    """(batch, n) multiplicities of n draws with replacement from n people."""
    idx = rng.integers(0, n, size=(batch, n))
    flat = (idx + (np.arange(batch) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=batch * n).reshape(batch, n).astype(float)


def bootstrap_distribution(
    samples: Sequence[np.ndarray], statistic: Statistic, *, n_resamples: int, seed: int,
) -> np.ndarray:
    """(B, m) statistic over resamples. `samples[j]` is an (n_j, k_j) matrix of per-person
    columns; `statistic` maps a list of column-sum arrays (..., k_j) to (..., m)."""
    rng = np.random.default_rng(seed)
    out = []
    n_max = max(s.shape[0] for s in samples)
    batch = max(1, min(n_resamples, _CELLS_PER_BATCH // max(n_max, 1)))
    for start in range(0, n_resamples, batch):
        b = min(batch, n_resamples - start)
        sums = [_resample_counts(rng, s.shape[0], b) @ s for s in samples]
        out.append(np.asarray(statistic(sums)))
    return np.concatenate(out, axis=0)


def jackknife_values(samples: Sequence[np.ndarray], statistic: Statistic) -> list[np.ndarray]:
    """Per arm j, the (n_j, m) statistic with each person left out in turn."""
    totals = [s.sum(axis=0) for s in samples]
    values = []
    for j, s in enumerate(samples):
        sums = [np.broadcast_to(t, (s.shape[0], t.shape[0])) for t in totals]
        sums[j] = totals[j][None, :] - s
        values.append(np.asarray(statistic(sums)))
    return values


def percentile_interval(replicates: np.ndarray, level: float) -> np.ndarray:
    alpha = (1 - level) / 2
    lo, hi = np.quantile(replicates, [alpha, 1 - alpha], axis=0)
    return np.stack([lo, hi], axis=-1)


def bca_interval(
    estimate: np.ndarray, replicates: np.ndarray, jackknife: Sequence[np.ndarray], level: float,
) -> np.ndarray:
    """(m, 2) BCa interval for each of m statistics (see the module docstring).

    A statistic whose jackknife values do not vary (e.g. a service nobody used) has no
    acceleration: a = 0 is used. A statistic with a non-finite replicate gets NaN bounds."""
    estimate = np.atleast_1d(np.asarray(estimate, dtype=float))
    b = replicates.shape[0]
    p = ((replicates < estimate).sum(axis=0) + (replicates <= estimate).sum(axis=0)) / (2 * b)
    z0 = ndtri(p)
    nums = np.zeros_like(estimate)
    dens = np.zeros_like(estimate)
    for theta_i in jackknife:
        n = float(theta_i.shape[0])
        u = (n - 1) * (theta_i.mean(axis=0) - theta_i)
        nums += (u**3).sum(axis=0) / n**3
        dens += (u**2).sum(axis=0) / n**2
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(dens > 0, nums / (6 * dens**1.5), 0.0)
    z = ndtri((1 - level) / 2)
    q = np.stack([ndtr(z0 + (z0 + zz) / (1 - a * (z0 + zz))) for zz in (z, -z)], axis=-1)
    usable = np.isfinite(q) & np.all(np.isfinite(replicates), axis=0)[:, None]
    out = np.full((estimate.size, 2), np.nan)
    if usable.any():
        # Each statistic has its own quantile levels; one np.quantile call over all the levels
        # (then the diagonal) gives exactly the per-column values, at a fraction of the calls.
        rows, cols = np.nonzero(usable)
        clean = np.where(np.isfinite(replicates), replicates, 0.0)
        values = np.quantile(clean[:, rows], q[rows, cols], axis=0)
        out[rows, cols] = values[np.arange(rows.size), np.arange(rows.size)]
    return out


def bootstrap(
    samples: Sequence[np.ndarray], statistic: Statistic, *, n_resamples: int, seed: int,
    level: float = 0.95,
) -> BootstrapResult:
    """Estimate, bootstrap distribution, percentile and BCa intervals for every statistic."""
    samples = [np.asarray(s, dtype=float) for s in samples]
    if any(s.ndim != 2 or s.shape[0] == 0 for s in samples):
        raise ValueError("every sample must be a non-empty (people x columns) matrix")
    estimate = np.asarray(statistic([s.sum(axis=0) for s in samples]), dtype=float)
    replicates = bootstrap_distribution(samples, statistic, n_resamples=n_resamples, seed=seed)
    jack = jackknife_values(samples, statistic)
    with np.errstate(invalid="ignore"):
        pct = percentile_interval(replicates, level)
        bca = bca_interval(estimate, replicates, jack, level)
    return BootstrapResult(estimate, replicates, pct, bca, level, n_resamples, seed)
