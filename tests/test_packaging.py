"""Packaging checks: OpenMP build, dependency lists in sync, safe compiler flags."""

import re
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


def _pyproject():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def test_openmp_enabled():
    import nnetlib._ext._openmp_helpers as helpers  # built by `make venv` / build_ext --inplace

    assert helpers.openmp_enabled() is True
    assert helpers.openmp_max_threads() >= 1


def test_frontprop_extension_is_built():
    import nnetlib._ext._frontprop  # noqa: F401


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
    assert "-e ." in pip_section

    project = _pyproject()
    wanted = {_norm(r) for r in project["project"]["dependencies"]}
    for extra in project["project"]["optional-dependencies"].values():
        wanted |= {_norm(r) for r in extra}
    wanted |= {_norm(r) for r in project["build-system"]["requires"]}
    assert conda == wanted, (
        f"only in environment.yml: {sorted(conda - wanted)}; "
        f"only in pyproject.toml: {sorted(wanted - conda)}")


def test_torch_requirement_admits_pinned_version():
    reqs = [r for r in _pyproject()["project"]["dependencies"] if _norm(r) == "torch"]
    assert reqs, "torch missing from [project] dependencies"
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
    for key in ("numpy", "scipy", "cython", "pytest", "nbval", "jupyterlab"):
        assert key in pins, f"constraints.txt does not pin {key}"


def test_setup_py_flags_are_portable():
    src = (ROOT / "setup.py").read_text()
    assert "-Ofast" not in src and "-ffast-math" not in src
    assert "-O3" in src
    # -march=native only behind the opt-in switch
    for m in re.finditer(r"-march=native", src):
        before = src[max(0, m.start() - 200):m.start()]
        assert "NNETLIB_NATIVE" in before, "unconditional -march=native in setup.py"


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
        "stdout", "execute_result"]
