"""Packaging checks: OpenMP build, a package without the compiled kernel, one version,
no numpy at build time, dependency lists in sync, safe compiler flags, `make lab` as root."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pytorch": "torch"}
# conda-only toolchain packages, no PyPI counterpart
CONDA_ONLY = {"python", "pip", "c-compiler", "cxx-compiler", "compilers", "llvm-openmp"}


def _norm(requirement: str) -> str:
    """PyPI-normalised project name of a requirement string (PEP 503)."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject(folder="."):
    with open(ROOT / folder / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _kernel_expected():
    """The kernel must be built unless the install skipped it on purpose or had no compiler."""
    from nnetlib.nets import cynet

    no_compiler = shutil.which(os.environ.get("CC", "cc").split()[0]) is None
    if not cynet.available() and (no_compiler or os.environ.get("NNETLIB_NO_EXT")):
        pytest.skip("the Cython kernel is not built here (no C compiler, or NNETLIB_NO_EXT)")
    return cynet


def test_openmp_enabled():
    cynet = _kernel_expected()  # built by `make venv` / `pip install -e .`
    assert cynet.available() and cynet.openmp_enabled() is True
    assert cynet._frontprop.max_threads() >= 1


def test_frontprop_extension_is_built():
    _kernel_expected()
    import nnetlib._ext._frontprop  # noqa: F401


BLOCK_KERNEL = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "nnetlib._ext._frontprop":
            raise ImportError("blocked: no compiled kernel")
sys.meta_path.insert(0, Block())
"""


def test_import_without_the_compiled_kernel():
    """A build without a C compiler still gives a working package."""
    code = (
        BLOCK_KERNEL
        + """
import nnetlib
from nnetlib import CyNet, NpNet, load_mnist, train  # noqa: F401
from nnetlib.nets import cynet
print(cynet.available(), nnetlib.openmp_enabled())
try:
    CyNet([4, 3, 2])
except ImportError as exc:
    print(exc)
Net = CyNet if cynet.available() else NpNet
print(type(Net([4, 3, 2])).__name__)
"""
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out[0] == "False False"
    for phrase in (
        "nnetlib._ext._frontprop",
        "C compiler",
        "pip install -e .",
        "build_ext --inplace",
        "NpNet",
        "blocked: no compiled kernel",
    ):
        assert phrase in out[1], out[1]
    assert out[2] == "NpNet"


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory):
    """setup.py, pyproject.toml and the package sources, without any build output."""
    dest = tmp_path_factory.mktemp("src")
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "nnetlib",
        dest / "nnetlib",
        ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__", "*.html"),
    )
    return dest


def _setup_py(folder, *args, env=None, block=""):
    code = (
        block + "import runpy, sys; sys.argv = ['setup.py', *sys.argv[1:]]; "
        "runpy.run_path('setup.py', run_name='__main__')"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        check=False,
    )


def test_setup_py_needs_no_numpy_and_reads_the_one_version(source_copy):
    """numpy is not a build requirement (no .pyx cimports it), and the version
    setuptools builds is nnetlib.__version__ (pyproject: dynamic, attr)."""
    import nnetlib

    block_numpy = (
        "import importlib.abc, sys\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'numpy': raise ImportError('numpy blocked')\n"
        "sys.meta_path.insert(0, B())\n"
    )
    run = _setup_py(source_copy, "--version", block=block_numpy)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == nnetlib.__version__
    requires = {_norm(r) for r in _pyproject()["build-system"]["requires"]}
    assert "numpy" not in requires and "scipy" in requires  # scipy: cimported BLAS


def _kernel_compile_args(source_copy, tmp_path, env=None):
    """(setup.py build_ext run, the arguments it gave the C compiler for the kernel),
    with a stand-in compiler that records its arguments and fails."""
    if os.name != "posix":
        pytest.skip("the stand-in compiler is a shell script")
    log = tmp_path / "cc.log"
    cc = tmp_path / "recording-cc"
    cc.write_text(f'#!/bin/sh\necho "$@" >> "{log}"\nexit 1\n')
    cc.chmod(0o755)
    run = _setup_py(
        source_copy, "build_ext", "--inplace", "--force", env={"CC": str(cc), **(env or {})}
    )
    calls = log.read_text().splitlines() if log.exists() else []
    kernel = [c.split() for c in calls if "_frontprop.c" in c]
    assert len(kernel) == 1, calls
    return run, kernel[0]


def test_build_without_a_c_compiler_goes_on_loudly(source_copy, tmp_path):
    """The compile fails, setup.py still succeeds, without the kernel; the
    flags it tried are portable: -O3, no -Ofast or -ffast-math, no -march=native."""
    run, args = _kernel_compile_args(source_copy, tmp_path, env={"NNETLIB_NATIVE": "0"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "could not compile nnetlib._ext._frontprop" in run.stderr
    assert "install a C compiler" in run.stderr
    assert not list((source_copy / "nnetlib" / "_ext").glob("_frontprop*.so"))
    assert "-O3" in args and not {"-Ofast", "-ffast-math", "-march=native"} & set(args), args


def test_march_native_only_on_request(source_copy, tmp_path):
    _, args = _kernel_compile_args(source_copy, tmp_path, env={"NNETLIB_NATIVE": "1"})
    assert "-march=native" in args and "-O3" in args, args


def test_installed_version_is_the_package_version():
    from importlib import metadata

    import nnetlib

    try:
        installed = metadata.version("nnetlib")
    except metadata.PackageNotFoundError:
        pytest.skip("nnetlib is not installed (running from the source tree)")
    assert installed == nnetlib.__version__
    assert (
        "version" not in _pyproject()["project"] and "version" in _pyproject()["project"]["dynamic"]
    )


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_lab_allows_root_only_for_root():
    out = subprocess.run(
        ["make", "-n", "lab", "STAMP=/dev/null"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (line,) = [ln for ln in out.splitlines() if "jupyter lab" in ln]
    assert ("--allow-root" in line) == (os.getuid() == 0), line


def test_environment_yml_matches_pyproject():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert "conda-forge" in env["channels"]
    conda, pip_section = set(), []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip_section += dep.get("pip", [])
            continue
        name = re.match(r"[A-Za-z0-9._-]+", dep).group(0).lower()
        if name == "python":
            assert dep.replace(" ", "") in ("python=3.11", "python>=3.11")
        if name not in CONDA_ONLY:
            conda.add(_norm(CONDA_TO_PYPI.get(name, name)))
    assert "-e .[torch]" in pip_section and "-e ./reporting" in pip_section

    wanted = set()
    for project in (_pyproject(), _pyproject("reporting")):
        wanted |= {_norm(r) for r in project["project"]["dependencies"]}
        for extra in project["project"].get("optional-dependencies", {}).values():
            wanted |= {_norm(r) for r in extra}
        wanted |= {_norm(r) for r in project["build-system"]["requires"]}
    wanted.discard("nnetlib")  # the report's own requirement on the library
    assert conda == wanted, (
        f"only in environment.yml: {sorted(conda - wanted)}; "
        f"only in pyproject.toml: {sorted(wanted - conda)}"
    )


def test_torch_requirement_admits_pinned_version():
    project = _pyproject()["project"]
    assert "torch" not in {_norm(r) for r in project["dependencies"]}  # an extra, not a dependency
    reqs = [r for r in project["optional-dependencies"]["torch"] if _norm(r) == "torch"]
    assert reqs, "torch missing from the [torch] extra"
    packaging_version = pytest.importorskip("packaging.version")
    packaging_req = pytest.importorskip("packaging.requirements")
    req = packaging_req.Requirement(reqs[0])
    assert req.specifier.contains(packaging_version.Version("2.13.0"))


def test_constraints_pin_torch():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not an exact pin"
            pins[_norm(name)] = version.strip()
    assert pins.get("torch") == "2.13.0"
    for key in ("numpy", "scipy", "cython", "pooch", "pytest", "nbval", "jupyterlab"):
        assert key in pins, f"constraints.txt does not pin {key}"


def test_nbval_hook_still_fits():
    """conftest.py wraps nbval's IPyNbCell.compare_outputs(self, test, ref, skip_compare)."""
    plugin = pytest.importorskip("nbval.plugin")
    import inspect

    params = list(inspect.signature(plugin.IPyNbCell.compare_outputs).parameters)
    assert params[:3] == ["self", "test", "ref"]


def test_conftest_drops_only_stderr():
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    outs = [
        {"output_type": "stream", "name": "stdout", "text": "kept"},
        {"output_type": "stream", "name": "stderr", "text": "100%|####|"},
        {"output_type": "execute_result", "data": {"text/plain": "1"}},
    ]
    assert [o.get("name", o["output_type"]) for o in mod._drop_stderr(outs)] == [
        "stdout",
        "execute_result",
    ]


HEAVY = ("torch", "matplotlib", "pooch", "tqdm", "IPython", "ipykernel", "jupyter_core", "nbformat")


def test_import_nnetlib_is_light():
    """``import nnetlib`` loads no torch, matplotlib, pooch, tqdm nor Jupyter package."""
    code = (
        "import sys, nnetlib\n"
        "from nnetlib import CyNet, NpNet, PyNet, FrontNet, train, evaluate, load_mnist\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]", out


def test_without_torch_the_numpy_nets_train_and_torch_nets_say_what_to_install():
    block_torch = (
        "import importlib.abc, sys\n"
        "class B(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'torch':\n"
        "            raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n"
        "sys.meta_path.insert(0, B())\n"
    )
    code = block_torch + (
        "import numpy as np, nnetlib\n"
        "x = np.random.default_rng(0).random((20, 4)); y = np.arange(20) % 2\n"
        "for Net in (nnetlib.PyNet, nnetlib.NpNet, nnetlib.FrontNet):\n"
        "    nnetlib.train(Net([4, 3, 2], seed=0), (x, y), epochs=1, batch_size=10, progress=False)\n"
        "for name in ('TorchNet', 'GpuNet', 'ForwardGradientNet'):\n"
        "    try:\n"
        "        getattr(nnetlib, name)\n"
        "    except ImportError as exc:\n"
        "        print(name, exc)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == ["TorchNet", "GpuNet", "ForwardGradientNet"]
    assert all("pip install 'nnetlib[torch]'" in ln for ln in lines), lines


def test_the_library_is_thin():
    """nnetlib: at most 5,000 lines of Python, no module over 400, nothing from the report."""
    sizes = {
        p.relative_to(ROOT).as_posix(): len(p.read_text().splitlines())
        for p in (ROOT / "nnetlib").rglob("*.py")
    }
    assert sum(sizes.values()) <= 5000, sum(sizes.values())
    assert not {k: v for k, v in sizes.items() if v > 400}
    for path in (ROOT / "nnetlib").rglob("*.py"):
        assert not re.search(r"^\s*(from|import)\s+nnetreport", path.read_text(), re.M), path
