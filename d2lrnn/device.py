"""Pick where to compute: a GPU when MXNet can use one, otherwise the CPU."""
import mxnet as mx
from mxnet import nd


def _gpu_works(i):
    try:
        nd.zeros((1,), ctx=mx.gpu(i)).asnumpy()
    except mx.base.MXNetError:
        return False
    return True


def num_gpus():
    """Number of GPUs MXNet sees (0 for a CPU-only build such as PyPI's ``mxnet``)."""
    try:
        return mx.context.num_gpus()
    except mx.base.MXNetError:
        return 0


def try_gpu(i=0):
    """``mx.gpu(i)`` when that GPU exists and accepts an array, else ``mx.cpu()``."""
    if i < num_gpus() and _gpu_works(i):
        return mx.gpu(i)
    return mx.cpu()


def try_all_gpus():
    """Every usable GPU context, or ``[mx.cpu()]`` when there is none."""
    ctxs = [mx.gpu(i) for i in range(num_gpus()) if _gpu_works(i)]
    return ctxs or [mx.cpu()]
