"""Gradient clipping and the SGD step, as few device operations as MXNet allows."""
from mxnet import nd


def _global_norm(grads):
    """sqrt of the sum of squares of all ``grads``, as a (1,) NDArray, without a host round trip."""
    # multi_sum_sq: one kernel for every array (a (g ** 2).sum() per array is ~30x slower on CPU).
    sums = [nd.multi_sum_sq(*chunk, num_arrays=len(chunk)).sum() for chunk in _chunks(grads)]
    return nd.sqrt(nd.add_n(*sums) if len(sums) > 1 else sums[0])  # (1,)


_MULTI_LIMIT = 50  # MXNet's multi-tensor kernels take at most 60 arrays per call


def _chunks(arrays):
    return [arrays[i:i + _MULTI_LIMIT] for i in range(0, len(arrays), _MULTI_LIMIT)]


def grad_clipping(params, theta, ctx=None):
    """Rescale the gradients of ``params`` in place so their global L2 norm is at most ``theta``.

    ``params`` are NDArrays with gradients attached (``[p.data() for p in ...]``).
    Returns the norm before clipping as a (1,) NDArray; nothing is copied to the
    host, so training never waits here. ``ctx`` is accepted for call compatibility.
    """
    norm = _global_norm([p.grad for p in params])  # (1,)
    # theta / max(norm, theta) is exactly 1 when norm <= theta: gradients unchanged.
    scale = theta / nd.maximum(norm, theta)
    for p in params:
        nd.broadcast_mul(p.grad, scale, out=p.grad)
    return norm


def clipped_sgd_step(params, lr, theta):
    """One SGD step with the global gradient norm clipped to ``theta``: w -= lr * min(1, theta/norm) * g.

    The same update as ``grad_clipping`` followed by plain SGD, done in a handful of
    device ops: the clipping factor is folded into the learning rate of a single
    multi-tensor SGD update, so the gradients are read once and never rescaled in
    place. ``params`` are NDArrays with gradients attached. Returns the norm before
    clipping as a (1,) NDArray, without a host round trip.
    """
    norm = _global_norm([p.grad for p in params])  # (1,)
    # theta / max(norm, theta) is exactly 1 when norm <= theta, so the step is then plain SGD.
    lr_scaled = (theta / nd.maximum(norm, theta)) * lr  # (1,)
    for chunk in _chunks(params):
        lrs = nd.broadcast_to(lr_scaled, shape=(len(chunk),))  # one learning rate per array
        wds = nd.zeros((len(chunk),), ctx=norm.context)  # no weight decay
        weights_and_grads = [a for p in chunk for a in (p, p.grad)]
        nd.preloaded_multi_sgd_update(*weights_and_grads, lrs, wds, num_weights=len(chunk),
                                      out=chunk)
    return norm
