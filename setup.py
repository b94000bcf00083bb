"""Build nnetlib's Cython extensions (metadata lives in pyproject.toml).

Two extensions: ``nnetlib._frontprop`` (the kernel) and
``nnetlib._openmp_helpers`` (reports whether OpenMP is on). Both are compiled
with ``-O3`` and, when the compiler supports it, ``-fopenmp``; OpenMP support
is detected by compiling and linking a tiny program. Without it the build
goes on serially with a loud warning.

Environment switches:
  NNETLIB_NATIVE=1     add -march=native (opt-in; the binary then only runs
                       on CPUs like the build machine's)
  NNETLIB_NO_OPENMP=1  skip OpenMP even when available

Works as ``pip install [-e] .`` and as ``python setup.py build_ext --inplace``.
"""

import os
import shutil
import sys
import tempfile
import textwrap
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
}

OPENMP_TEST_PROGRAM = textwrap.dedent(
    """\
    #include <omp.h>
    #include <stdio.h>
    int main(void) {
        int n = 0;
        #pragma omp parallel reduction(+:n)
        n += 1;
        printf("%d %d\\n", n, omp_get_max_threads());
        return n > 0 ? 0 : 1;
    }
    """
)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _openmp_flags(compiler):
    """(compile_args, link_args) that enable OpenMP for ``compiler``."""
    if compiler.compiler_type == "msvc":
        return ["/openmp"], []
    return ["-fopenmp"], ["-fopenmp"]


def _openmp_works(compiler, cflags, lflags):
    """Compile and link OPENMP_TEST_PROGRAM with the given flags."""
    tmp = tempfile.mkdtemp(prefix="nnetlib-omp-")
    try:
        src = os.path.join(tmp, "omp_test.c")
        with open(src, "w") as f:
            f.write(OPENMP_TEST_PROGRAM)
        devnull = open(os.devnull, "w")
        saved = os.dup(2)
        try:  # keep the compiler's complaints about a failed probe off the log
            os.dup2(devnull.fileno(), 2)
            objs = compiler.compile([src], output_dir=tmp, extra_postargs=cflags)
            compiler.link_executable(objs, "omp_test", output_dir=tmp, extra_postargs=lflags)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            devnull.close()
        return True
    except Exception:
        return False
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _warn_serial(reason):
    banner = "=" * 78
    msg = (f"nnetlib: building WITHOUT OpenMP ({reason}); the Cython kernel "
           f"will run on one thread.")
    sys.stderr.write(f"\n{banner}\nWARNING: {msg}\n{banner}\n\n")
    warnings.warn(msg, stacklevel=1)


class BuildExt(build_ext):
    """build_ext that adds optimisation and (if available) OpenMP flags."""

    def build_extensions(self):
        unix = self.compiler.compiler_type != "msvc"
        cflags = ["-O3"] if unix else ["/O2"]
        lflags = []
        if _env_flag("NNETLIB_NATIVE") and unix:
            cflags.append("-march=native")

        if _env_flag("NNETLIB_NO_OPENMP"):
            _warn_serial("NNETLIB_NO_OPENMP is set")
        else:
            omp_c, omp_l = _openmp_flags(self.compiler)
            if _openmp_works(self.compiler, omp_c, omp_l):
                cflags += omp_c
                lflags += omp_l
                print(f"nnetlib: OpenMP enabled ({' '.join(omp_c)})")
            else:
                _warn_serial("the compiler could not build a test program with "
                             f"{' '.join(omp_c)}")

        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + cflags
            ext.extra_link_args = list(ext.extra_link_args or []) + lflags
        super().build_extensions()


def _extension(name):
    return Extension(
        f"nnetlib._ext.{name}",
        sources=[os.path.join("nnetlib", "_ext", f"{name}.pyx")],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )


setup(
    ext_modules=cythonize(
        [_extension("_frontprop"), _extension("_openmp_helpers")],
        compiler_directives=COMPILER_DIRECTIVES,
    ),
    cmdclass={"build_ext": BuildExt},
)
