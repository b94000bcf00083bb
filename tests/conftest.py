"""Shared test set-up: the ``net_class`` fixture and the ``gpu`` marker.

``net_class`` is the one list of network classes (``helpers.NET_NAMES``): a
test that takes it runs once per class, and a class that cannot run here (no
torch, or the Cython kernel not built) is skipped with the reason, never
silently dropped.  A test narrows it with ``@helpers.nets("PyNet", "NpNet")``.

Tests marked ``gpu`` are skipped here unless CUDA is available.  Every other
test sees the CPU as the default device, so GpuNet (whose default is CUDA when
present) gives the same results on a CUDA host as on a laptop.
"""

import functools
import glob
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from helpers import NET_NAMES, net_class_named


@pytest.fixture(scope="session", params=NET_NAMES)
def net_class(request):
    """Each network class in turn (see the module docstring)."""
    return net_class_named(request.param)


def _may_have_cuda():
    """Cheap: is there an NVIDIA device node at all?  (Spares importing torch on CPU hosts.)"""
    return bool(glob.glob("/dev/nvidia[0-9]*") or os.path.exists("/dev/dxg"))


@functools.cache
def _cuda_available():
    if not _may_have_cuda():
        return False
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def pytest_runtest_setup(item):
    if item.get_closest_marker("gpu") and not _cuda_available():
        pytest.skip("needs CUDA (marked gpu)")


@pytest.fixture(autouse=True)
def _cpu_unless_marked_gpu(request, monkeypatch):
    """On a CUDA host, the default device of unmarked tests is the CPU."""
    if request.node.get_closest_marker("gpu") or not _cuda_available():
        return
    import torch

    from nnetlib.nets import _torch

    monkeypatch.setattr(_torch, "default_device", lambda: torch.device("cpu"))
