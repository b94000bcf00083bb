"""nnetreport.timing: spreads per batch and per epoch, and the quoted H200 columns."""

import pytest

from nnetreport import quoted, timing


def test_batch_and_epoch_gives_both_units_from_the_same_rounds():
    stats = {"np1": timing.timing_stat([0.002, 0.001, 0.004])}
    out = timing.batch_and_epoch(stats, 60)
    assert out["batch_s"]["np1"] == {"median": 0.002, "min": 0.001, "max": 0.004}
    assert out["epoch_s"]["np1"] == pytest.approx({"median": 0.12, "min": 0.06, "max": 0.24})
    assert timing.format_spread(out["batch_s"]["np1"]) == "0.002 (0.001–0.004)"
    with pytest.raises(ValueError):
        timing.spread_of([])


def test_h200_columns_are_per_batch_and_per_epoch_with_thread_counts():
    cols = timing.h200_columns(quoted.h200(), "classifier")
    assert list(cols)[:4] == list(timing.H200_GPU)
    assert {"cy1", "cy16", "tr1", "tr16"} <= set(cols)
    graph = cols["gpunet_graph"]
    assert graph["epoch_s"]["median"] == pytest.approx(9.062466e-3, rel=1e-6)  # 9.06 ms, its README
    for c in cols.values():
        for k in ("median", "min", "max"):
            assert c["epoch_s"][k] == pytest.approx(60 * c["batch_s"][k])
        assert c["epoch_s"]["min"] <= c["epoch_s"]["median"] <= c["epoch_s"]["max"]
    assert cols["cy16"]["threads"] == 16 and cols["cy1"]["threads"] == 1
