"""Build nnetlib's Cython kernel, ``nnetlib._ext._frontprop`` (metadata: pyproject.toml).

The kernel cimports ``scipy.linalg.cython_blas`` and includes
``nnetlib/_ext/frontprop_helpers.h``; it needs no NumPy headers. It is
compiled with ``-O3`` and, when the compiler supports it, ``-fopenmp``
(detected by compiling and linking a tiny program; without it the build goes
on serially with a loud warning).

Without a working C compiler the build warns loudly and installs nnetlib
without the kernel: everything but CyNet works, ``nnetlib.nets.cynet.available()``
is False, and ``CyNet(...)`` says how to build it.

Environment switches:
  NNETLIB_NATIVE=1     add -march=native (opt-in; the binary then only runs
                       on CPUs like the build machine's)
  NNETLIB_NO_OPENMP=1  skip OpenMP even when available
  NNETLIB_NO_EXT=1     skip the kernel altogether (pure-Python install)

One build: ``pip install [-e] .`` compiles the kernel in place for an
editable install; ``python setup.py build_ext --inplace`` rebuilds it after
an edit of the .pyx.
"""

import os
import shutil
import sys
import tempfile
import textwrap

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError, PlatformError

EXT_DIR = os.path.join("nnetlib", "_ext")

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

HOW_TO_BUILD = (
    "install a C compiler (gcc or clang; conda: c-compiler) and run "
    "'pip install -e .' again (or 'python setup.py build_ext --inplace')"
)


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


def _warn(msg):
    """A banner on stderr: shown by `setup.py build_ext`, by `pip install -v`, and in pip's log."""
    banner = "=" * 78
    sys.stderr.write(f"\n{banner}\nWARNING: nnetlib: {msg}\n{banner}\n\n")


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


class BuildExt(build_ext):
    """build_ext that adds optimisation and (if available) OpenMP flags, and that
    goes on without the kernel, loudly, when the compiler fails."""

    def build_extensions(self):
        unix = self.compiler.compiler_type != "msvc"
        cflags = ["-O3"] if unix else ["/O2"]
        lflags = []
        if _env_flag("NNETLIB_NATIVE") and unix:
            cflags.append("-march=native")

        if _env_flag("NNETLIB_NO_OPENMP"):
            _warn(
                "building WITHOUT OpenMP (NNETLIB_NO_OPENMP is set); the kernel runs on one thread."
            )
        else:
            omp_c, omp_l = _openmp_flags(self.compiler)
            if _openmp_works(self.compiler, omp_c, omp_l):
                cflags += omp_c
                lflags += omp_l
                print(f"nnetlib: OpenMP enabled ({' '.join(omp_c)})")
            else:
                _warn(
                    f"building WITHOUT OpenMP (the compiler could not build a test program "
                    f"with {' '.join(omp_c)}); the kernel runs on one thread."
                )

        for ext in self.extensions:
            ext.extra_compile_args = list(ext.extra_compile_args or []) + cflags
            ext.extra_link_args = list(ext.extra_link_args or []) + lflags
        super().build_extensions()

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except (CCompilerError, CompileError, LinkError, ExecError, PlatformError, OSError) as exc:
            _warn(
                f"could not compile {ext.name} ({type(exc).__name__}: {exc}).\n"
                f"Installing nnetlib WITHOUT its Cython kernel: CyNet is unavailable, the other "
                f"nets work.\nTo get CyNet, {HOW_TO_BUILD}."
            )


def _ext_modules():
    if _env_flag("NNETLIB_NO_EXT"):
        _warn("NNETLIB_NO_EXT is set: installing WITHOUT the Cython kernel (CyNet unavailable).")
        return []
    from Cython.Build import cythonize

    kernel = Extension(
        "nnetlib._ext._frontprop",
        sources=[os.path.join(EXT_DIR, "_frontprop.pyx")],
        include_dirs=[EXT_DIR],
        # the C headers it includes: an edit of one rebuilds the kernel
        depends=[os.path.join(EXT_DIR, h) for h in ("frontprop_helpers.h", "block_pool.h")],
    )
    exts = cythonize([kernel], compiler_directives=COMPILER_DIRECTIVES)
    for ext in exts:  # optional (set after cythonize, which drops it): when a failed build
        ext.optional = True  # (BuildExt.build_extension) leaves no output, the install goes on
    return exts


setup(ext_modules=_ext_modules(), cmdclass={"build_ext": BuildExt})
