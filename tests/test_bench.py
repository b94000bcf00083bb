"""The benchmark (nnetreport.bench, ``python -m nnetreport bench``) on tiny configurations."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from nnetreport import bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = [("tiny", (784, 3, 10))]  # PyNet takes well under a second per sample here


def fast(**kw):
    args = dict(
        quick=True,
        batches=1,
        batch_size=100,
        progress=False,
        memory=False,
        data="random",
        nets=TINY,
    )
    args.update(kw)
    return bench.run_benchmark(bench.BenchSettings(**args))


def check_result(result, nets):
    assert set(result["columns"]) | set(result["skipped"]) == {
        i for i in bench.IMPLS if result["meta"]["threads"] > 1 or not i.endswith("N")
    }
    assert set(result["nets"]) == set(nets)
    for name in nets:
        impls = result["nets"][name]["impls"]
        for impl in result["columns"]:
            if impl in result["nets"][name]["skipped"]:
                continue
            e = impls[impl]
            assert len(e["raw"]) == e["rounds"] >= 1
            assert e["median"] > 0 and e["epoch_s"] > 0
            assert e["epoch_s"] == pytest.approx(e["median"] / e["samples"] * bench.EPOCH_SAMPLES)
            assert e["extrapolated"] == (e["samples"] < bench.EPOCH_SAMPLES)
    return True


@pytest.mark.slow  # every implementation, ~6 s
def test_every_implementation_gets_a_median_and_a_column():
    result = fast(repeats=2, threads=2)
    check_result(result, ["tiny"])
    impls = result["nets"]["tiny"]["impls"]
    for impl in result["columns"]:
        assert impl in impls
        assert impls[impl]["rounds"] == 2
    assert impls["py"]["samples"] == 1 and impls["py"]["basis"] == "1 sample"
    assert impls["np"]["samples"] == 100  # 1 batch of 100
    assert impls["tr1"]["ratio"] == pytest.approx(1.0) and impls["trN"]["ratio"] == pytest.approx(
        1.0
    )
    assert impls["py"]["ref"] == "tr1" and impls["np"]["ref"] == "trN"
    assert impls["np"]["ratio"] == pytest.approx(impls["np"]["epoch_s"] / impls["trN"]["epoch_s"])
    table = bench.format_table(result)
    for impl in bench.IMPLS:  # every column, or why not
        label = bench.impl_table(2)[impl]["label"]
        assert label in table
        if impl in result["skipped"]:
            assert f"{label}: skipped" in table
    for text in (
        "s/epoch",
        "÷ torch",
        "tiny",
        "784-3-10",
        "threads ×1 and ×2",
        "torch 2",
        "numpy",
        "python",
        "extrapolated",
        "† py extrapolated to 60,000 samples from tiny 1 sample",
        "de Mayo (2021)",
        "E5-2680 x24: cy 0.63",
        "i7-7700HQ x1: py 405",
        "random data",
    ):
        assert text in table, text
    assert bench.cpu_model() in table
    if not torch.cuda.is_available():
        assert result["skipped"]["gpu"] == "CUDA not available"


def test_json_is_written_and_valid(tmp_path):
    result = fast(impls=("np", "tr"), repeats=1, threads=2)
    path = tmp_path / "sub" / "bench.json"
    bench.write_json(result, path)
    back = json.loads(path.read_text())
    assert back["columns"] == ["np", "tr1", "trN"]
    assert (
        back["nets"]["tiny"]["impls"]["np"]["raw"] == result["nets"]["tiny"]["impls"]["np"]["raw"]
    )
    for key in (
        "date",
        "cpu",
        "python",
        "numpy",
        "torch",
        "threads",
        "batch_size",
        "lr",
        "momentum",
        "repeats",
        "batches",
        "data",
    ):
        assert key in back["meta"], key
    assert back["article_table"] == bench.ARTICLE_TABLE


def test_memory_probe_reports_rss():
    result = fast(impls=("np",), repeats=1, threads=1, memory=True, nets=[("ae", (784, 8, 784))])
    mem = result["nets"]["ae"]["impls"]["np"]["memory"]
    assert "error" not in mem, mem
    assert mem["rss_added_bytes"] >= 0 and "method" in mem
    table = bench.format_table(result)
    assert "+RSS MiB" in table and "1st step MiB" in table  # rows say their units


def test_np1_is_numpy_at_one_blas_thread_beside_torch_at_one():
    result = fast(impls=("np1", "np", "tr"), repeats=1, threads=2)
    assert result["columns"] == ["np1", "np", "tr1", "trN"]
    assert result["threads"]["np1"] == 1 and result["threads"]["np"] == 2
    assert result["labels"]["np1"] == "np×1" and result["labels"]["np"] == "np×2"
    impls = result["nets"]["tiny"]["impls"]
    assert impls["np1"]["ref"] == "tr1" and impls["np"]["ref"] == "trN"
    assert impls["np1"]["ratio"] == pytest.approx(impls["np1"]["epoch_s"] / impls["tr1"]["epoch_s"])
    assert "np×1" in bench.format_table(result)


def test_one_thread_drops_the_xN_columns_and_quick_skips_slow_pynet():
    result = fast(
        impls=("py", "np", "tr"), threads=1, repeats=1, nets=("autoencoder",)
    )  # PyNet: minutes per sample
    assert result["columns"] == ["py", "np", "tr1"]
    net = result["nets"]["autoencoder"]
    assert "py" in net["skipped"] and "py" not in net["impls"]
    assert net["impls"]["np"]["ref"] == "tr1"
    table = bench.format_table(result)
    assert "py autoencoder: skipped in quick mode" in table and "skip" in table
    assert "×N columns" in table


@pytest.mark.parametrize(
    "kw,match",
    [
        ({"repeats": 0}, "repeats"),
        ({"threads": -1}, "threads"),
        ({"batches": 1.5}, "batches"),
        ({"impls": ("np", "nope")}, "unknown implementation"),
        ({"nets": ("nope",)}, "unknown net"),
        ({"nets": [("x", (10, 3, 10))]}, "784"),
        ({"nets": [("x", (784, 3, 7))]}, "output layer"),
        ({"data": "mnist-please"}, "data"),
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 60001}, "batch_size"),
        ({"dtype": "float16"}, "dtype"),
        ({"contend": -1}, "contend"),
        ({"contend": 1.5}, "contend"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        fast(**kw)


def test_settings_fill_in_their_defaults():
    s = bench.BenchSettings(impls="cy,np1", nets=("classifier",))
    assert (s.repeats, s.batches, s.threads) == (5, 60, bench.available_cores())
    assert s.impls == ("np1", "cy1", "cyN") and s.nets == {"classifier": (784, 16, 16, 10)}
    q = bench.BenchSettings(quick=1, repeats=3, dtype=np.dtype("float64"))
    assert (q.quick, q.repeats, q.batches, q.py_samples, q.dtype) == (True, 3, 2, None, "float64")
    assert q.impls == bench.IMPLS
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.repeats = 4


def test_run_benchmark_wants_settings():
    with pytest.raises(TypeError, match="BenchSettings, got dict"):
        bench.run_benchmark({"quick": True})


def test_settings_from_the_command_line():
    from nnetreport.__main__ import build_parser
    from nnetreport.bench.run import settings_from_args

    args = build_parser().parse_args(
        [
            "bench",
            "--quick",
            "--threads",
            "2",
            "--layers",
            "784,3,10",
            "--impls",
            "np",
            "--no-memory",
        ]
    )
    s = settings_from_args(args)
    assert s == bench.BenchSettings(
        quick=True, threads=2, nets=[("784-3-10", (784, 3, 10))], impls=("np",), memory=False
    )
    assert s.progress and s.contend == 0 and s.data == "auto" and s.batch_size == 1000


@pytest.mark.parametrize("built", [True, False])
def test_cynet_is_unavailable_without_its_kernel(monkeypatch, built):
    from nnetlib.nets import cynet
    from nnetreport.bench import plan

    monkeypatch.setattr(cynet, "available", lambda: built)
    for impl in ("cy1", "cyN"):
        why = plan.unavailable(impl)
        assert why is None if built else "kernel is not built" in why
    assert plan.unavailable("np") is None


def test_a_missing_kernel_skips_the_cy_columns(monkeypatch):
    from nnetlib.nets import cynet

    monkeypatch.setattr(cynet, "available", lambda: False)
    result = fast(impls=("np", "cy"), repeats=1, threads=2)
    assert result["columns"] == ["np"] and set(result["skipped"]) == {"cy1", "cyN"}
    assert "cy×1: skipped, CyNet's compiled kernel is not built" in bench.format_table(result)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not alive
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_competitors_run_inside_and_are_stopped_even_on_ctrl_c():
    from nnetreport.bench.contend import competitors

    with competitors(2) as pids:
        assert len(pids) == 2 and all(_alive(p) for p in pids)
    assert not any(_alive(p) for p in pids)
    with pytest.raises(KeyboardInterrupt, match="Ctrl-C inside"):
        with competitors(1) as pids:
            raise KeyboardInterrupt("Ctrl-C inside")
    assert not _alive(pids[0])


def test_contend_is_in_the_result_and_the_header():
    result = fast(impls=("np",), repeats=1, threads=1, contend=1)
    assert result["meta"]["contend"] == 1
    head = bench.format_table(result).splitlines()[1]
    assert "LOAD: 1 busy competitor process (bench --contend 1)" in head
    assert "LOAD" not in bench.format_table(fast(impls=("np",), repeats=1, threads=1))


@pytest.mark.gpu
def test_gpu_column():
    result = fast(
        impls=("gpu", "tr"), repeats=1, batch_size=1000, nets=("classifier",), memory=True
    )
    e = result["nets"]["classifier"]["impls"]["gpu"]
    assert not e["extrapolated"] and e["samples"] == bench.EPOCH_SAMPLES
    assert "device_added_bytes" in e["memory"]
    assert "gpu" in bench.format_table(result)


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT, CI="1")
    return subprocess.run(
        [sys.executable, "-m", "nnetreport", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=600,
    )


@pytest.mark.parametrize(
    "nets,impls,threads,name,columns,layers",
    [
        (
            ("--nets", "classifier"),
            "np,tr",
            "2",
            "classifier",
            {"np", "tr1", "trN"},
            [784, 16, 16, 10],
        ),
        (("--layers", "784,3,10"), "np", "1", "784-3-10", {"np"}, [784, 3, 10]),
    ],
)
@pytest.mark.slow  # a subprocess benchmark, 4-7 s
def test_cli_bench_quick_writes_json(tmp_path, nets, impls, threads, name, columns, layers):
    out = tmp_path / "bench.json"
    proc = run_cli(
        "bench",
        "--quick",
        "--json",
        str(out),
        "--batches",
        "1",
        "--batch-size",
        "100",
        *nets,
        "--impls",
        impls,
        "--no-memory",
        "--data",
        "random",
        "--threads",
        threads,
    )
    assert proc.returncode == 0, proc.stderr
    assert "s/epoch" in proc.stdout and name in proc.stdout and "np" in proc.stdout
    assert "bench:" not in proc.stderr  # no progress bar under CI
    data = json.loads(out.read_text())
    assert list(data["nets"]) == [name] and set(data["nets"][name]["impls"]) == columns
    assert data["nets"][name]["layers"] == layers


@pytest.mark.parametrize(
    "args,match",
    [
        ((), "command is required"),
        (("bench", "--repeats", "0"), "positive integer"),
        (("bench", "--threads", "two"), "positive integer"),
        (("bench", "--impls", "np,zz"), "unknown implementation"),
        (("bench", "--nets", "mlp"), "unknown net"),
        (("bench", "--dtype", "int8"), "invalid choice"),
        (("bench", "--contend", "-1"), "integer >= 0"),
        (("bench", "--layers", "784,x,10"), "comma-separated neuron counts"),
        (("bench", "--layers", "784"), "at least an input and an output width"),
        (("bench", "--layers", "784,0,10"), "layers"),
        (("bench", "--layers", "10,3,10", "--no-memory"), "input layer must have 784"),
        (("bench", "--layers", "784,3,7", "--no-memory"), "output layer must have 10"),
        (("frobnicate",), "invalid choice"),
    ],
)
def test_cli_bad_arguments(args, match, capsys):
    from nnetreport.__main__ import main

    with pytest.raises(SystemExit, match="^2$") as exc:  # argparse's usage error
        main(list(args))
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


def test_cli_bad_net_suggests_only_what_the_cli_takes(capsys):
    from nnetreport.__main__ import main

    with pytest.raises(SystemExit, match="^2$"):
        main(["bench", "--nets", "mlp"])
    err = capsys.readouterr().err
    assert "--layers 784,32,10" in err and "(name, layers)" not in err


def test_cli_version(capsys):
    import nnetlib
    from nnetlib.__main__ import main

    with pytest.raises(SystemExit, match="^0$") as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"nnetlib {nnetlib.__version__}"


def test_cli_nets_and_layers_add_up():
    from nnetreport.bench.run import _cli_nets

    assert _cli_nets(None, None) == ["classifier", "autoencoder"]
    assert _cli_nets(None, [(784, 3, 10)]) == [("784-3-10", (784, 3, 10))]
    assert _cli_nets("autoencoder", [(784, 3, 10)]) == ["autoencoder", ("784-3-10", (784, 3, 10))]


def test_cli_data_passes_no_download(monkeypatch):
    import nnetlib.__main__ as cli

    seen = []
    monkeypatch.setattr(
        cli, "data_command", lambda no_download=False: seen.append(no_download) or 7
    )
    assert cli.main(["data", "--no-download"]) == 7 and cli.main(["data"]) == 7
    assert seen == [True, False]


def test_the_user_path_is_timed_beside_the_kernel():
    """nnetlib.train on the same rows: its seconds per epoch and the ratio to the
    kernel's figure, in the JSON and in the table; PyNet has no train column."""
    result = fast(impls="py,np,cy1", repeats=2, batches=2)
    impls = result["nets"]["tiny"]["impls"]
    timed = [i for i in ("np", "cy1") if i in impls]
    assert timed and "train_epoch_s" not in impls["py"]
    for impl in timed:
        e = impls[impl]
        assert len(e["raw_train"]) == 2 and e["train_epoch_s"] > 0
        assert e["train_over_kernel"] == pytest.approx(e["train_epoch_s"] / e["epoch_s"])
    table = bench.format_table(result)
    assert "train s/ep" in table and "train÷kernel" in table
    quiet = fast(impls="np", train=False)
    assert "train_epoch_s" not in quiet["nets"]["tiny"]["impls"]["np"]
    assert "train s/ep" not in bench.format_table(quiet)


def test_the_user_path_can_be_timed_shuffled(monkeypatch):
    """--shuffle: train gets shuffle=True, seed 0 (the kernel column keeps file order);
    the JSON and the table say so."""
    import nnetlib

    calls = []
    real = nnetlib.train
    monkeypatch.setattr(nnetlib, "train", lambda *a, **kw: calls.append(kw) or real(*a, **kw))
    result = fast(impls="np", repeats=1, shuffle=True)
    assert calls and all(kw["shuffle"] is True and kw["seed"] == 0 for kw in calls)
    assert result["meta"]["train_order"] == "shuffled (seed 0)"
    assert "train shuffles its batches" in bench.format_table(result)
    plain = fast(impls="np", repeats=1)
    assert plain["meta"]["train_order"] == "file order"
    assert "train shuffles" not in bench.format_table(plain)
    with pytest.raises(ValueError, match="shuffle"):
        bench.BenchSettings(shuffle="yes")
