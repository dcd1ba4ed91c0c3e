"""The parts of ``benchmarks/bench_train.py``: what is measured and against which targets (``config``),
the measurements, each run as a child process (``children``, ``torch_child``), the implementations
and how the parent starts them (``peers``), the machine (``machine``) and the tables (``report``).

Facts about the chapter and the package (settings, cells, sampling, divergence) come from
d2lrnn's MXNet-free ``d2lrnn.facts``; the parent process never imports MXNet or PyTorch.
"""
