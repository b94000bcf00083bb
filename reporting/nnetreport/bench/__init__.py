"""``python -m nnetreport bench``: seconds per epoch of every implementation (06-timing).

The timing table of de Mayo (2021) (``ARTICLE_TABLE``), measured again:
one epoch of SGD is 60,000 MNIST training samples in file order, batch
1000, lr 10, momentum 0.5, for the classifier 784-16-16-10 and the
autoencoder 784-64-784.  Columns:

====== =============================================== ====================
column network                                          compared with
====== =============================================== ====================
py     PyNet (1 thread)                                 tr x1
np x1  NpNet, BLAS at 1 thread (key ``np1``)            tr x1
np xN  NpNet, BLAS at N threads (key ``np``)            tr xN
cy x1  CyNet(num_threads=1), BLAS at 1 thread           tr x1
cy xN  CyNet(num_threads=N), BLAS at N threads          tr xN
tr x1  TorchNet, torch.set_num_threads(1)               itself
tr xN  TorchNet, torch.set_num_threads(N)               itself
gpu    GpuNet on CUDA, ``train_epoch`` (CUDA graph)     tr graph (else tr xN)
tg     PyTorch's own loop on TorchNet's model, one      itself
       CUDA graph per epoch (label "tr graph")
====== =============================================== ====================

Every measurement runs under ``torch.set_num_threads(n)`` and a threadpoolctl
BLAS limit of n.  N defaults to the cores this process may use.

Method
------
* For each net, each implementation is timed on ``batches`` consecutive
  batches (1..k of the file, then 0: by default a whole epoch), after one
  untimed warm-up batch (batch 0) run under the same thread setting and a
  pause of ``SETTLE_S`` seconds, so that the thread pools of the
  implementation timed before have gone idle.  CyNet takes consecutive
  batches in one ``CyNet.steps`` call, as ``train`` does; the others one
  ``step`` call per batch.  Rounds over the implementations are
  repeated and interleaved (A B C ... A B C ..., ``repeats`` rounds) so that
  drifts of the machine (clock, other load) hit every implementation alike;
  the figure is the median round.  It is extrapolated to an epoch as
  (median seconds per sample) x 60,000, and marked as extrapolated in the
  table whenever fewer batches than an epoch's were timed.
* PyNet costs seconds (classifier) to minutes (autoencoder) per *sample*, so
  it is timed on ``py_samples`` samples of batch 0 (one step on that many
  samples), without a warm-up, and extrapolated to 60,000 samples; after the
  first round it is repeated only while its total stays under
  ``PY_BUDGET_S``.  With ``quick`` it is skipped for nets where one sample
  would take minutes (``PY_QUICK_LIMIT``).
* GpuNet is timed on a whole epoch (60 batches, data resident on the GPU,
  ``train_epoch`` replaying one CUDA graph), after one untimed epoch (which
  captures the graph); its figure is not extrapolated.
* "tr graph" (``tg``) is timed the same way: one whole epoch of PyTorch's
  own training loop (TorchNet's ``nn.Linear`` + ``nn.Sigmoid`` model,
  ``nn.MSELoss``, autograd, ``torch.optim.SGD`` with momentum, the same
  initial weights) captured in one CUDA graph (``torch_graph.TorchEpoch``);
  each measurement, like gpu's, copies the epoch's data into the graph's
  static input buffers and replays it.  When both run, gpu's "÷ torch" is
  gpu ÷ tr graph: GpuNet against PyTorch on the same GPU.  ``nnetlib.train``
  does not run PyTorch's loop, so tg has no "train s/ep".

Memory
------
"Peak RSS added by training": each (net, implementation) cell is run in a
fresh Python subprocess that first builds the network and random data of the
right shape (values do not change memory), then resets the kernel's
resident-set high-water mark (writing "5" to ``/proc/self/clear_refs``,
Linux >= 4.0) and runs one training step: VmHWM - VmRSS at the reset is the
"1st step MiB" figure, one-time set-up included (thread pools, pages of library
code touched for the first time, allocator pools).  It then resets the mark
again and runs ``MEMORY_BATCHES`` more steps: VmHWM - VmRSS at that reset is
the "+RSS" figure, the working memory of training proper.  Both count every
page touched beyond what was resident before, NumPy, torch, OpenMP and Python
objects alike.  Where the reset is refused (or there is no /proc), the
increase of ``ru_maxrss`` over all the steps is reported instead, a lower
bound (marked "≥").  For GpuNet the CUDA allocator's peak
(``torch.cuda.max_memory_allocated`` above the baseline, graph capture
included) is reported too.  PyNet runs one step on its ``py_samples``
samples; its memo grows linearly with the batch, so its figure holds for
those samples only.

Modules
-------
``plan`` (constants, the settings ``BenchSettings``, nets, columns, data),
``timing`` (one implementation on one net, interleaved rounds), ``memory``
(the RSS probe subprocess), ``table`` (the text table, JSON), ``run``
(``run_benchmark`` and the command's ``main``), ``torch_graph`` (PyTorch's
loop, eager or in a CUDA graph: the tg column), ``device_check`` (a prepared
run for a GPU machine: ``python -m nnetreport.bench.device_check --out DIR``).  In Python::

    bench.run_benchmark(bench.BenchSettings(quick=True, nets=("classifier",)))
"""

from .memory import MEMORY_BATCHES, measure_memory
from .plan import (
    ARTICLE_TABLE,
    BATCH_SIZE,
    EPOCH_SAMPLES,
    IMPLS,
    LR,
    MOMENTUM,
    NETS,
    BenchSettings,
    available_cores,
    cpu_model,
    impl_table,
    load_data,
    make_net,
)
from .run import main, run_benchmark
from .table import format_table, write_json
from .timing import SETTLE_S, thread_limit

__all__ = [
    "ARTICLE_TABLE",
    "BATCH_SIZE",
    "BenchSettings",
    "EPOCH_SAMPLES",
    "IMPLS",
    "LR",
    "MEMORY_BATCHES",
    "MOMENTUM",
    "NETS",
    "SETTLE_S",
    "available_cores",
    "cpu_model",
    "format_table",
    "impl_table",
    "load_data",
    "main",
    "make_net",
    "measure_memory",
    "run_benchmark",
    "thread_limit",
    "write_json",
]
