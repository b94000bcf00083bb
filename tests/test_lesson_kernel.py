"""Notebook 03's lesson kernel, its one ``%%cython`` cell: short, parallel with
``prange``, and equal to NpNet's gradient in float64 for 0 to 3 hidden layers."""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

from nnetlib import NpNet

NOTEBOOK = (
    pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "03-python-numpy-cython.ipynb"
)
#: the most lines the lesson's ``%%cython`` cell may have, its magic line included
MAX_LINES = 120


def _cell():
    """The source of the notebook's one ``%%cython`` cell."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    found = [
        "".join(c["source"])
        for c in cells
        if c["cell_type"] == "code" and "".join(c["source"]).startswith("%%cython")
    ]
    assert len(found) == 1, f"notebook 03 has {len(found)} %%cython cells, not one"
    return found[0]


def test_the_cell_is_short_and_parallel():
    source = _cell()
    code = source.split("\n", 1)[1]
    assert len(source.splitlines()) <= MAX_LINES
    assert "prange(" in code and "from cython.parallel cimport prange" in code
    assert "-fopenmp" in code and "double[:, ::1]" in code
    assert "-march=native" not in source and "-Ofast" not in source


# compiling the cell takes several seconds: the tests that need it are marked slow
@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """The cell compiled with cythonize and setuptools' build_ext into a temporary folder."""
    pytest.importorskip("Cython")
    from Cython.Build import cythonize
    from setuptools import Distribution, Extension

    try:
        from setuptools.errors import CCompilerError, CompileError, LinkError
    except ImportError:  # older setuptools
        from distutils.errors import CCompilerError, CompileError, LinkError

    folder = tmp_path_factory.mktemp("lesson_kernel")
    pyx = folder / "lesson_kernel.pyx"
    pyx.write_text(_cell().split("\n", 1)[1])
    ext = cythonize(
        [Extension("lesson_kernel", [str(pyx)])], quiet=True, build_dir=str(folder / "c")
    )
    assert ext[0].extra_compile_args == ["-fopenmp"]  # from the cell's "# distutils:" lines
    build = Distribution({"ext_modules": ext}).get_command_obj("build_ext")
    build.build_lib, build.build_temp = str(folder), str(folder / "tmp")
    build.ensure_finalized()
    try:
        build.run()
    except (CCompilerError, CompileError, LinkError) as exc:
        pytest.skip(f"no C compiler with OpenMP here, the lesson kernel cannot be built: {exc}")
    (path,) = [p for p in folder.glob("lesson_kernel*") if p.suffix in (".so", ".pyd")]
    spec = importlib.util.spec_from_file_location("lesson_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


NETS = [(6, 3), (7, 5, 3), (9, 6, 5, 4), (8, 5, 4, 6, 3)]  # 0 to 3 hidden layers


@pytest.mark.slow
@pytest.mark.parametrize("layers", NETS, ids=lambda n: "-".join(map(str, n)))
@pytest.mark.parametrize("batch", [1, 5, 37])
def test_gradient_equals_npnet(kernel, layers, batch):
    rng = np.random.default_rng(batch + len(layers))
    x, t = rng.random((batch, layers[0])), rng.random((batch, layers[-1]))
    net = NpNet(layers, seed=batch, dtype="float64")
    want = np.concatenate([g.ravel() for g in net.gradients(x, t)])
    results = [kernel.lesson_gradient(net.params, layers, x, t, n) for n in (1, 2, 3)]
    loss, got = results[0]
    assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))
    assert abs(loss - net.loss(x, t)) <= 1e-12 * net.loss(x, t)
    # the block count depends on the batch only: bit for bit the same at any thread count
    assert all(np.array_equal(got, g) and loss == lo for lo, g in results[1:])


@pytest.mark.slow
def test_blocks_change_only_the_rounding(kernel):
    layers = (7, 5, 3)
    rng = np.random.default_rng(0)
    x, t = rng.random((50, 7)), rng.random((50, 3))
    net = NpNet(layers, seed=0, dtype="float64")
    grads = [
        kernel.lesson_gradient(net.params, layers, x, t, 2, blocks)[1] for blocks in (1, 7, 50)
    ]
    assert all(np.allclose(g, grads[0], rtol=1e-13, atol=1e-17) for g in grads[1:])


@pytest.mark.slow
def test_a_wrong_shape_is_refused(kernel):
    net = NpNet((4, 3, 2), seed=0, dtype="float64")
    x, t = np.zeros((3, 4)), np.zeros((3, 2))
    with pytest.raises(ValueError, match="does not fit"):
        kernel.lesson_gradient(net.params, (4, 3, 2), x[:, :3].copy(), t, 1)
    with pytest.raises(ValueError, match="does not fit"):
        kernel.lesson_gradient(net.params, (4, 3, 2), x, t, 0)
