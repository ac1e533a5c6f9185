"""The person-level bootstrap: BCa as scipy computes it, coverage of a known effect, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hfeval.costs.bootstrap import bca_interval, bootstrap, jackknife_values


def _mean_of(sums):
    # Column 0 = cost, column 1 = 1 per person: a mean as a function of sums.
    return (sums[0][..., 0] / sums[0][..., 1])[..., None]


def test_bca_matches_scipy_given_the_same_bootstrap_distribution():
    rng = np.random.default_rng(7)
    x = rng.lognormal(8, 1.2, 25)
    res = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=999, rng=11)
    sample = np.column_stack([x, np.ones_like(x)])
    jack = jackknife_values([sample], _mean_of)
    ours = bca_interval(np.array([x.mean()]), res.bootstrap_distribution[:, None], jack, 0.95)
    assert ours[0] == pytest.approx([res.confidence_interval.low,
                                     res.confidence_interval.high], rel=1e-12)


def test_two_arm_bca_matches_scipy_for_a_difference_in_means():
    rng = np.random.default_rng(3)
    x, y = rng.gamma(0.6, 5000, 30), rng.gamma(0.8, 4000, 18)
    res = stats.bootstrap((x, y), lambda a, b, axis=-1: a.mean(axis) - b.mean(axis),
                          method="BCa", n_resamples=999, rng=5)

    def diff(sums):
        return (sums[0][..., 0] / sums[0][..., 1] - sums[1][..., 0] / sums[1][..., 1])[..., None]

    samples = [np.column_stack([x, np.ones_like(x)]), np.column_stack([y, np.ones_like(y)])]
    ours = bca_interval(np.array([x.mean() - y.mean()]), res.bootstrap_distribution[:, None],
                        jackknife_values(samples, diff), 0.95)
    assert ours[0] == pytest.approx([res.confidence_interval.low,
                                     res.confidence_interval.high], rel=1e-12)


def test_bca_with_our_own_resamples_is_close_to_scipys():
    rng = np.random.default_rng(1)
    x = rng.lognormal(8, 1.0, 40)
    res = stats.bootstrap((x,), np.mean, method="BCa", n_resamples=20000, rng=2)
    ours = bootstrap([np.column_stack([x, np.ones_like(x)])], _mean_of, n_resamples=20000,
                     seed=3).bca[0]
    width = res.confidence_interval.high - res.confidence_interval.low
    assert abs(ours[0] - res.confidence_interval.low) < 0.05 * width
    assert abs(ours[1] - res.confidence_interval.high) < 0.05 * width


def _one_arm_offset(sums):
    # Per person: [pre cost, post cost, 1]; offset = mean(pre) - mean(post).
    s = sums[0]
    return ((s[..., 0] - s[..., 1]) / s[..., 2])[..., None]


def _simulated_people(seed: int, n: int, true_offset: float) -> np.ndarray:
    """Skewed costs (gamma, CV 1.5) before, and after lowered by a known mean."""
    rng = np.random.default_rng(seed)
    pre = rng.gamma(1 / 1.5**2, 10_000 * 1.5**2, n)
    post = rng.gamma(1 / 1.5**2, (10_000 - true_offset) * 1.5**2, n)
    return np.column_stack([pre, post, np.ones(n)])


def test_the_interval_covers_a_known_true_effect():
    people = _simulated_people(2024, n=400, true_offset=4_000)
    res = bootstrap([people], _one_arm_offset, n_resamples=2000, seed=1)
    lo, hi = res.bca[0]
    assert lo < 4_000 < hi


def test_coverage_over_many_simulated_studies_is_near_the_nominal_level():
    # 100 studies of 100 people with skewed costs, 1,000 resamples each. At a true coverage
    # of 93-95 % (bootstrap intervals of means of skewed data cover a little less than
    # nominal) we expect 93-95 of 100; 88 is two binomial standard deviations below 93.
    covered = {"bca": 0, "percentile": 0}
    for seed in range(100):
        res = bootstrap([_simulated_people(seed, n=100, true_offset=4_000)], _one_arm_offset,
                        n_resamples=1000, seed=seed)
        covered["bca"] += res.bca[0, 0] < 4_000 < res.bca[0, 1]
        covered["percentile"] += res.percentile[0, 0] < 4_000 < res.percentile[0, 1]
    assert covered["bca"] >= 88
    assert covered["percentile"] >= 88


def test_same_seed_same_interval_other_seed_other_interval():
    people = _simulated_people(5, n=50, true_offset=1_000)
    a = bootstrap([people], _one_arm_offset, n_resamples=300, seed=9)
    b = bootstrap([people], _one_arm_offset, n_resamples=300, seed=9)
    c = bootstrap([people], _one_arm_offset, n_resamples=300, seed=10)
    assert np.array_equal(a.replicates, b.replicates)
    assert not np.array_equal(a.replicates, c.replicates)


def test_a_statistic_that_never_varies_gets_a_point_interval():
    people = np.column_stack([np.full(10, 5.0), np.full(10, 5.0), np.ones(10)])
    res = bootstrap([people], _one_arm_offset, n_resamples=200, seed=1)
    assert res.bca[0].tolist() == [0.0, 0.0]
