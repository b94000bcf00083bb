"""nnetreport.article: the article's figures as quoted, and the memo-bug PyNet (notebook 03)."""

import numpy as np
import pytest
from helpers import problem, rel_err

from nnetlib import NpNet, PyNet
from nnetreport import article


def test_citation_names_author_title_place_year_and_code():
    for text in (article.CITATION, article.CITATION_MD):
        for part in (
            "Mateo de Mayo",
            "Implementación Red Feedforward",
            "FaMAF",
            "Universidad Nacional de Córdoba",
            "2021",
            "github.com/mateosss/nnet",
        ):
            assert part in text


def test_timing_table_as_printed():
    assert set(article.TIMING_TABLE) == {"py", "np", "cy", "tr"}
    assert set(article.TIMING_TABLE["cy"]) == set(article.TIMING_COLUMNS)
    assert article.TIMING_TABLE["cy"]["i7-7700HQ x1"] == 3.97
    # the article's cy figure per "epoch" is what its code spends on ONE batch here (within 5 %)
    assert (
        abs(article.TIMING_TABLE["cy"]["i7-7700HQ x1"] / article.MEASURED_HERE_BATCH_S["cy"] - 1)
        < 0.05
    )


@pytest.mark.parametrize("layers", [(3, 2, 2), (4, 3, 3, 2)])
def test_memo_without_sample_is_exact_at_batch_one(layers):
    x, t = problem(layers, 1, seed=4)
    ref = NpNet(layers, seed=5, dtype="float64")
    buggy = article.MemoWithoutSamplePyNet(layers, params=ref.params, dtype="float64")
    assert rel_err(buggy.gradients(x, t), ref.gradients(x, t)) <= 1e-12


@pytest.mark.parametrize("layers", [(3, 2, 2), (4, 3, 3, 2)])
def test_memo_without_sample_is_wrong_at_batch_two_and_ours_is_not(layers):
    x, t = problem(layers, 2, seed=0)
    ref = NpNet(layers, seed=5, dtype="float64")
    expected = ref.gradients(x, t)
    buggy = article.MemoWithoutSamplePyNet(layers, params=ref.params, dtype="float64").gradients(
        x, t
    )
    ours = PyNet(layers, params=ref.params, dtype="float64").gradients(x, t)
    assert rel_err(ours, expected) <= 1e-12
    assert max(np.max(np.abs(b - e)) for b, e in zip(buggy, expected)) >= 1e-3


def test_memo_without_sample_gives_every_sample_the_first_ones_derivatives():
    layers = (3, 2, 2)
    x, _ = problem(layers, 2, seed=6)
    net = article.MemoWithoutSamplePyNet(layers, seed=7, dtype="float64")
    net.feedforward(x)
    first = net.dadw(2, 0, 0, 1, 1, 0)
    assert net.dadw(2, 0, 0, 1, 1, 1) == first
    correct = PyNet(layers, params=net.params, dtype="float64")
    correct.feedforward(x)
    assert correct.dadw(2, 0, 0, 1, 1, 1) != first


def test_spread_summary_and_describe():
    from nnetreport import timing

    assert timing.summary([4.0, 1.0, 2.0], per=2) == {"median": 1.0, "min": 0.5, "max": 2.0, "n": 3}
    assert (
        timing.describe([4.0, 1.0, 2.0], per=2, scale=1e3, unit="ms")
        == "1e+03 ms (500–2e+03, 3 runs)"
    )
    assert timing.describe([0.25]) == "0.25 s (1 run)"
    calls = []
    assert timing.repeat_seconds(lambda: calls.append(1), 3).shape == (3,) and len(calls) == 3
    with pytest.raises(ValueError, match="repeat must be a positive int"):
        timing.repeat_seconds(lambda: None, 0)
    with pytest.raises(ValueError, match="seconds is empty"):
        timing.summary([])


def test_judge_follows_the_tolerance_and_the_direction():
    assert article.judge(0.915, 0.91, 0.01) == "reproduced"
    assert article.judge(0.95, 0.91, 0.01) == "exceeded"
    assert article.judge(0.85, 0.91, 0.01) == "not reproduced"
    assert article.judge(0.040, 0.0547, 0.002, lower_is_better=True) == "exceeded"
    assert article.judge(0.060, 0.0547, 0.002, lower_is_better=True) == "not reproduced"
    with pytest.raises(ValueError, match="tol must be >= 0"):
        article.judge(1.0, 1.0, -1)
