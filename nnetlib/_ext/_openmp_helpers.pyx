# cython: language_level=3
"""Whether this build of nnetlib's compiled kernels uses OpenMP.

setup.py compiles with ``-fopenmp`` only when a test program with
``#pragma omp parallel`` compiles and links; otherwise it warns and builds
serially. The answer here is fixed at compile time by the ``_OPENMP`` macro.
"""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define NNETLIB_HAVE_OPENMP 1
    static int nnetlib_omp_max_threads(void) { return omp_get_max_threads(); }
    #else
    #define NNETLIB_HAVE_OPENMP 0
    static int nnetlib_omp_max_threads(void) { return 1; }
    #endif
    """
    const int NNETLIB_HAVE_OPENMP
    int nnetlib_omp_max_threads() nogil


def openmp_enabled():
    """True iff the extensions were compiled with OpenMP."""
    return NNETLIB_HAVE_OPENMP != 0


def openmp_max_threads():
    """``omp_get_max_threads()`` (honours OMP_NUM_THREADS); 1 without OpenMP."""
    return nnetlib_omp_max_threads()
