"""The Cython kernel nnetlib/_ext/_frontprop.pyx as a source: it builds on its
own, as notebook 03's ``%%cython -I nnetlib/_ext`` cell builds it."""
import os
import shutil
import subprocess
import sys
import sysconfig

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.path.join(ROOT, "nnetlib", "_ext")
PYX = os.path.join(EXT, "_frontprop.pyx")


@pytest.fixture(scope="module")
def kernel_c(tmp_path_factory):
    """The kernel translated to C by Cython, outside the package folder (as
    %%cython does), so the C compiler cannot find the header next to it."""
    out = tmp_path_factory.mktemp("kernel") / "kernel.c"
    proc = subprocess.run([sys.executable, "-m", "cython", "-3", PYX, "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return out


def _syntax_check(c_file, *include):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler")
    args = [cc, "-fsyntax-only", "-fopenmp", f"-I{sysconfig.get_paths()['include']}"]
    args += [f"-I{d}" for d in include] + [str(c_file)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def test_pyx_compiles_with_the_ext_folder_on_the_include_path(kernel_c):
    proc = _syntax_check(kernel_c, EXT)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_pyx_needs_the_header_of_its_folder(kernel_c):
    proc = _syntax_check(kernel_c)
    assert proc.returncode != 0
    assert "frontprop_helpers.h" in proc.stderr
