"""The bench's "tg" column: PyTorch's own loop, one epoch per call, eager on the
CPU here (nnetreport.bench.torch_graph), captured in a CUDA graph on a GPU."""

import json
import os

import numpy as np
import pytest
import torch

from nnetlib import TorchNet, train
from nnetlib.nets.base import init_params
from nnetreport import bench
from nnetreport.bench import plan, run
from nnetreport.bench.torch_graph import TorchEpoch, epoch_bounds

LR, MOMENTUM = bench.LR, bench.MOMENTUM


def data(rows, layers, seed=0):
    """Random images, labels and the targets the bench trains on (one-hot, or the images)."""
    rng = np.random.default_rng(seed)
    x = rng.random((rows, layers[0]), dtype=np.float32)
    y = rng.integers(0, 10, rows)
    return x, y, plan.targets(layers, x, y, "float32")


def weights_of(model):
    return [p.detach().cpu().numpy().copy() for p in model.parameters()]


def test_epoch_bounds_cover_the_rows_in_file_order():
    assert epoch_bounds(250, 100) == [(0, 100), (100, 200), (200, 250)]
    assert epoch_bounds(200, 100) == [(0, 100), (100, 200)]


@pytest.mark.parametrize("layers", [(784, 16, 16, 10), (784, 8, 784)])
def test_eager_epoch_is_bitwise_trains_torchnet(layers):
    """graph=False runs TorchNet.step's ops (zero_grad(set_to_none=True), nn.MSELoss,
    backward, torch.optim.SGD.step) on the same batches in file order: the weights
    after one epoch are those of ``nnetlib.train(TorchNet, epochs=1)``, bit for bit,
    and the losses those ``TorchNet.step`` returns (a partial last batch included)."""
    x, y, t = data(250, layers)
    params = init_params(layers, seed=0, dtype="float32")
    ref = TorchNet(layers, params=params)
    history = train(ref, (x, y if layers[-1] == 10 else x), epochs=1, batch_size=100, lr=LR,
                    momentum=MOMENTUM, progress=False)  # fmt: skip
    stepped = TorchNet(layers, params=params)
    losses = [stepped.step(x[a:b], t[a:b], LR, MOMENTUM) for a, b in epoch_bounds(x.shape[0], 100)]

    net = TorchNet(layers, params=params)
    epoch = TorchEpoch(net.model, x, t, 100, LR, MOMENTUM, graph=False)
    assert not epoch.use_graph  # the CPU's default
    out = epoch.run()
    for a, b, c in zip(weights_of(net.model), weights_of(ref.model), weights_of(stepped.model)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(out.numpy(), np.array(losses, dtype=np.float32))
    assert epoch.mean_loss() == pytest.approx(history.train_loss[0], rel=1e-6)

    # a second epoch goes on from there (momentum kept), as a second train epoch does
    epoch.run(torch.from_numpy(x), torch.from_numpy(t))
    train(ref, (x, y if layers[-1] == 10 else x), epochs=1, batch_size=100, lr=LR,
          momentum=MOMENTUM, progress=False)  # fmt: skip
    for a, b in zip(weights_of(net.model), weights_of(ref.model)):
        np.testing.assert_array_equal(a, b)


def test_new_data_is_copied_into_the_static_buffers():
    layers = (784, 4, 10)
    x, _, t = data(200, layers)
    epoch = TorchEpoch(TorchNet(layers, seed=0).model, x, t, 100, LR, MOMENTUM, graph=False)
    x2, _, t2 = data(200, layers, seed=1)
    epoch.run(x2, t2)
    np.testing.assert_array_equal(epoch.x.numpy(), x2)
    np.testing.assert_array_equal(epoch.t.numpy(), t2)


def test_graph_needs_cuda():
    layers = (784, 4, 10)
    x, _, t = data(100, layers)
    with pytest.raises(ValueError, match="graph=True needs a CUDA device"):
        TorchEpoch(TorchNet(layers, seed=0).model, x, t, 100, LR, MOMENTUM, graph=True)


def tiny(**kw):
    """Settings of a one-round benchmark of a 784-3-10 net on random data."""
    kw = dict(repeats=1, batches=1, batch_size=100, threads=1, memory=False, progress=False, **kw)
    return bench.BenchSettings(data="random", nets=[("tiny", (784, 3, 10))], **kw)


def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_tg_is_listed_as_unavailable_without_cuda(monkeypatch):
    no_cuda(monkeypatch)
    assert "tg" in bench.IMPLS and plan.unavailable("tg") == "CUDA not available"
    result = bench.run_benchmark(tiny(impls="np,gpu,tg"))
    assert result["columns"] == ["np"]
    assert result["skipped"] == {"gpu": "CUDA not available", "tg": "CUDA not available"}
    assert "tg" not in result["nets"]["tiny"]["impls"]
    table = bench.format_table(result)
    assert "tr graph: skipped, CUDA not available" in table
    json.dumps(result)  # the JSON carries the skip with its reason
    only = bench.BenchSettings(impls="tg", progress=False, memory=False)
    with pytest.raises(ValueError, match="none of the implementations.*CUDA not available"):
        bench.run_benchmark(only)


def test_impls_tg_parses_on_the_command_line():
    from nnetreport.__main__ import build_parser
    from nnetreport.bench.run import settings_from_args

    args = build_parser().parse_args(["bench", "--impls", "gpu,tg", "--no-memory"])
    assert settings_from_args(args).impls == ("gpu", "tg")
    assert plan.parse_impls("tg") == ["tg"] and plan.parse_impls(None)[-1] == "tg"
    assert bench.impl_table(4)["tg"]["label"] == "tr graph"


def test_gpu_is_compared_with_the_torch_graph_when_both_run(monkeypatch):
    monkeypatch.setattr(plan, "unavailable", lambda impl: None)
    columns, table, skipped, _ = run._columns(bench.BenchSettings(impls="trN,gpu,tg", threads=2))
    assert columns == ["trN", "gpu", "tg"] and not skipped
    assert table["gpu"]["ref"] == "tg" and table["tg"]["ref"] == "tg"
    _, alone, _, _ = run._columns(bench.BenchSettings(impls="trN,gpu", threads=2))
    assert alone["gpu"]["ref"] == "trN"


def test_the_table_shows_gpu_beside_the_torch_graph():
    """format_table on a result with both GPU columns (their figures borrowed from a
    CPU run): the label, no thread count, the ratio's note and the method note."""
    result = bench.run_benchmark(
        tiny(impls="np", train=False)  # fmt: skip
    )
    impls = result["nets"]["tiny"]["impls"]
    for impl, epoch_s in (("gpu", 1.0), ("tg", 4.0)):
        impls[impl] = dict(impls["np"], epoch_s=epoch_s, extrapolated=False)
        result["columns"].append(impl)
        result["labels"][impl] = bench.impl_table(1)[impl]["label"]
        result["threads"][impl] = 1
        result["refs"][impl] = "tg"
    impls["gpu"].update(ratio=0.25, ref="tg")
    impls["tg"].update(ratio=1.0, ref="tg")
    table = bench.format_table(result)
    lines = table.splitlines()
    head = next(i for i, line in enumerate(lines) if "tr graph" in line)
    assert lines[head].split()[-3:] == ["gpu", "tr", "graph"]
    assert lines[head + 1].split()[-3:] == ["1", "-", "-"]  # threads: np's, none on the GPU
    assert "gpu ÷ tr graph" in table and "or on the same GPU" in table
    assert "tr graph: one whole epoch per measurement of PyTorch's own loop" in table
    ratios = next(line for line in lines if "÷ torch" in line and "784-3-10" in line)
    assert ratios.split()[-2:] == ["0.25", "1.00"]


@pytest.mark.gpu
def test_the_captured_epoch_trains_as_the_eager_one():
    """On CUDA: the graph (warm-up, weights and momentum put back, capture) gives the
    weights of the eager loop from the same start, epoch after epoch."""
    layers = (784, 16, 16, 10)
    x, _, t = data(2500, layers)  # 25 batches and no partial one; then 2 + a partial one
    params = init_params(layers, seed=0, dtype="float32")
    for rows in (2500, 250):
        eager_net = TorchNet(layers, params=params, device="cuda")
        graph_net = TorchNet(layers, params=params, device="cuda")
        xd, td = torch.from_numpy(x[:rows]).cuda(), torch.from_numpy(t[:rows]).cuda()
        eager = TorchEpoch(eager_net.model, xd, td, 100, LR, MOMENTUM, graph=False)
        graph = TorchEpoch(graph_net.model, xd, td, 100, LR, MOMENTUM)
        assert graph.use_graph
        graph.prepare()
        for a, b in zip(weights_of(graph_net.model), weights_of(eager_net.model)):
            np.testing.assert_array_equal(a, b)  # capture changed nothing
        for _ in range(2):
            lo_e, lo_g = eager.run(xd, td).cpu().numpy(), graph.run(xd, td).cpu().numpy()
            np.testing.assert_allclose(lo_g, lo_e, rtol=1e-5, atol=1e-7)
            for a, b in zip(weights_of(graph_net.model), weights_of(eager_net.model)):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
def test_tg_column_on_cuda():
    result = bench.run_benchmark(
        bench.BenchSettings(
            impls="trN,gpu,tg",
            repeats=1,
            batch_size=1000,
            nets=("classifier",),
            memory=True,
            progress=False,
        )  # fmt: skip
    )
    assert result["skipped"] == {} and result["refs"]["gpu"] == "tg"
    impls = result["nets"]["classifier"]["impls"]
    e = impls["tg"]
    assert not e["extrapolated"] and e["samples"] == bench.EPOCH_SAMPLES
    assert "train_epoch_s" not in e and "device_added_bytes" in e["memory"]
    assert impls["gpu"]["ratio"] == pytest.approx(impls["gpu"]["epoch_s"] / e["epoch_s"])
    assert "tr graph" in bench.format_table(result)


@pytest.mark.slow  # the quick device check runs the benchmark in a subprocess, ~10 s
def test_device_check_quick_writes_its_files(tmp_path):
    from nnetreport.bench import device_check

    assert device_check.main(["--out", str(tmp_path), "--quick", "--data", "random"]) == 0
    names = {"README.md", "bench_gpu.json", "bench_gpu.txt", "checks.json", "train_threads.json"}
    assert names <= {p.name for p in tmp_path.iterdir()}
    result = json.loads((tmp_path / "bench_gpu.json").read_text())
    assert set(result["columns"]) | set(result["skipped"]) == {"cy1", "cyN", "tr1", "trN",
                                                               "gpu", "tg"}  # fmt: skip
    assert set(result["nets"]) == {"classifier", "autoencoder"} and result["meta"]["quick"]
    sweep = json.loads((tmp_path / "train_threads.json").read_text())
    assert sweep["threads"] == device_check.thread_counts(True, os.cpu_count() or 1)
    for net in sweep["nets"].values():
        assert all(row["median"] > 0 for row in net["by_threads"].values())
    assert sweep["machine"]["cpu"] == plan.cpu_model()
    text = (tmp_path / "README.md").read_text()
    for part in ("git commit:", "GPU:", "numpy", "torch", "nnetreport.bench.device_check --out",
                 "nnetreport bench --impls cy1,cyN,tr1,trN,gpu,tg", "| classifier | 1 |"):  # fmt: skip
        assert part in text, part
    if not torch.cuda.is_available():
        assert json.loads((tmp_path / "checks.json").read_text()) == {
            "skipped": "CUDA not available"
        }
        assert "tr graph: skipped, CUDA not available" in text


def test_device_check_thread_counts_are_capped_at_the_cores():
    from nnetreport.bench.device_check import thread_counts

    assert thread_counts(False, 16) == [1, 2, 4, 8, 16]
    assert thread_counts(False, 12) == [1, 2, 4, 8, 12]
    assert thread_counts(False, 2) == [1, 2]
    assert thread_counts(True, 1) == [1]
