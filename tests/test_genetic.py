"""Tests for the checkpoints of nnetreport.genetic.run_ga and for run_ga_seeds."""

import numpy as np
import pytest

from nnetreport import genetic


def _blobs(n=200, seed=0):
    """Three separable clusters in 4-D: a tiny classification problem."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centres = np.array([[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 1, 0.5]], dtype=float)
    x = centres[labels] + 0.15 * rng.standard_normal((n, 4))
    return x.astype(np.float32), labels


#: a generational GA with tournaments and elitism, and the article's setting
SETTINGS = [
    dict(population=12, selection="tournament", parent_pool=1.0, crossover_rate=0.9, elite=2,
         replacement="generational", batch_size=None, mutation_rate=0.2, mutation_sigma=0.5),
    dict(mutation_rate=0.2, mutation_sigma=0.5),
]  # fmt: skip


@pytest.mark.parametrize("setting", SETTINGS)
def test_checkpoints_leave_the_run_bitwise_unchanged(setting):
    x, labels = _blobs()
    config = genetic.GAConfig(generations=30, **setting)
    plain = genetic.run_ga((4, 5, 3), x, labels, config, seed=3, progress=False)
    marked = genetic.run_ga(
        (4, 5, 3), x, labels, config, seed=3, progress=False, checkpoints=(30, 5, 12, 5)
    )
    np.testing.assert_array_equal(plain.best_params, marked.best_params)
    assert plain.best == marked.best and plain.mean == marked.mean
    assert plain.checkpoints == {}
    assert sorted(marked.checkpoints) == [5, 12, 30]
    np.testing.assert_array_equal(marked.checkpoints[30], marked.best_params)


@pytest.mark.parametrize("setting", SETTINGS)
def test_checkpoint_is_what_a_shorter_run_returns(setting):
    x, labels = _blobs()
    long = genetic.run_ga(
        (4, 5, 3), x, labels, genetic.GAConfig(generations=25, **setting), seed=5,
        progress=False, checkpoints=(4, 10),
    )  # fmt: skip
    for g in (4, 10):
        config = genetic.GAConfig(generations=g, **setting)
        short = genetic.run_ga((4, 5, 3), x, labels, config, seed=5, progress=False)
        np.testing.assert_array_equal(long.checkpoints[g], short.best_params)
        np.testing.assert_array_equal(
            long.network_at(g).feedforward(x), short.network().feedforward(x)
        )
    assert long.checkpoints[4] is not long.best_params  # a copy, not a view of the population


def test_checkpoints_are_checked():
    x, labels = _blobs()
    config = genetic.GAConfig(generations=5)
    with pytest.raises(ValueError, match="checkpoints must be <= generations"):
        genetic.run_ga((4, 3), x, labels, config, checkpoints=(6,), progress=False)
    with pytest.raises(ValueError, match="checkpoint must be an int >= 1"):
        genetic.run_ga((4, 3), x, labels, config, checkpoints=(0,), progress=False)
    r = genetic.run_ga((4, 3), x, labels, config, checkpoints=3, progress=False)
    assert list(r.checkpoints) == [3]
    with pytest.raises(KeyError, match="no checkpoint at generation 4"):
        r.network_at(4)


def test_run_ga_seeds_matches_single_runs():
    x, labels = _blobs()
    config = genetic.GAConfig(generations=8, population=6)
    runs = genetic.run_ga_seeds(
        (4, 5, 3), x, labels, config, [2, 9], checkpoints=(4,), progress=False
    )
    for s, r in zip([2, 9], runs):
        one = genetic.run_ga((4, 5, 3), x, labels, config, seed=s, checkpoints=(4,), progress=False)
        np.testing.assert_array_equal(r.best_params, one.best_params)
        np.testing.assert_array_equal(r.checkpoints[4], one.checkpoints[4])
        assert r.seed == s and r.config == config.for_data(x.shape[0])
