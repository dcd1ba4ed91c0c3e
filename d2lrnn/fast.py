"""What makes the chapter's code fast, in one place: packed weights and a fused update.

Both are on by default and switched off with ``fast=False`` (``RNNModel(..., fast=False)``,
``train_and_predict_rnn_gluon(..., fast=False)``), which runs the book's way instead:
Gluon's own layer forward, then ``grad_clipping`` and ``trainer.step(1)``. tests/test_fast.py
trains a model both ways and compares the numbers.

- ``pack_weights``: MXNet's fused RNN operator takes every weight and bias of a layer in
  one vector. Gluon's layer flattens each one to 1-D before concatenating them, and MXNet's
  CPU concat copies 1-D arrays element by element (4 ms per call for the chapter's 2-layer
  LSTM, plus 2 ms to split the gradient). Every weight and bias has a multiple of
  gates * num_hiddens entries, so here they are concatenated as rows of that length: the
  same vector, in the same order, in 0.9 ms instead of 6. Outputs and gradients are
  bit-identical.
- ``clipped_sgd_step``: clipping the gradients and then a ``Trainer`` step rescale every
  gradient in place and then read it again; here one ``multi_sum_sq`` gives the global norm
  and one ``preloaded_multi_sgd_update`` applies lr * min(1, theta / norm) to all weights, on
  the device. When no clipping happens the step is bit-identical to the book's; when it does,
  the two round differently (lr times the clipped gradient against the clipped lr times the
  gradient), by about one float32 unit per step.

Together they make an epoch of the chapter's 2-layer LSTM take 0.17 s instead of 0.20 s
(medians of three runs each on a quiet 2-core CPU, MXNet's two threads).
"""
import functools

from mxnet import nd


def pack_weights(rnn_layer, config, enabled=True):
    """Make ``rnn_layer`` hand its weights to the fused operator packed as rows (``enabled``), or as Gluon does.

    ``config`` is the layer's ``models.LayerConfig`` (TNC layout, no projection, no sequence
    lengths). Only this layer object changes: its ``_forward_kernel``, the method Gluon's
    ``hybrid_forward`` calls, imperatively and when hybridized. Returns the layer.
    """
    if not isinstance(enabled, bool):
        raise ValueError(f"fast must be True or False, got {enabled!r}")
    if enabled:
        rnn_layer._forward_kernel = functools.partial(_packed_forward_kernel, config)
    else:
        vars(rnn_layer).pop("_forward_kernel", None)  # Gluon's own method again
    return rnn_layer


def is_packed(rnn_layer):
    """True when ``pack_weights`` packs the weights of ``rnn_layer``."""
    kernel = vars(rnn_layer).get("_forward_kernel")
    return isinstance(kernel, functools.partial) and kernel.func is _packed_forward_kernel


def _packed_forward_kernel(config, F, inputs, states, sequence_length=None, **weights):
    """What Gluon's ``_RNNLayer._forward_kernel`` computes, with the weights concatenated as rows."""
    c = config
    row = c.num_gates * c.num_hiddens
    names = [f"{d}{i}_{g}_{t}" for t in ("weight", "bias") for i in range(c.num_layers)
             for d in "lr"[:c.num_directions] for g in ("i2h", "h2h")]  # the operator's order
    flat = F.reshape(F.concat(*[F.reshape(weights[name], (-1, row)) for name in names], dim=0), (-1,))
    clip_min, clip_max, clip_nan = c.lstm_state_clip
    out = F.RNN(inputs, flat, *states, state_size=c.num_hiddens, num_layers=c.num_layers,
                bidirectional=c.bidirectional, p=c.dropout, state_outputs=True, mode=c.mode,
                lstm_state_clip_min=clip_min, lstm_state_clip_max=clip_max, lstm_state_clip_nan=clip_nan)
    return out[0], list(out[1:])  # (num_steps, batch_size, num_directions * num_hiddens), state


_MULTI_LIMIT = 50  # MXNet's multi-tensor kernels take at most 60 arrays per call


def _chunks(arrays):
    return [arrays[i:i + _MULTI_LIMIT] for i in range(0, len(arrays), _MULTI_LIMIT)]


def global_norm(grads):
    """sqrt of the sum of squares of all ``grads``, as a (1,) NDArray, without a host round trip."""
    # multi_sum_sq: one kernel for every array (a (g ** 2).sum() per array is ~30x slower on CPU).
    sums = [nd.multi_sum_sq(*chunk, num_arrays=len(chunk)).sum() for chunk in _chunks(grads)]
    return nd.sqrt(nd.add_n(*sums) if len(sums) > 1 else sums[0])  # (1,)


def clipped_sgd_step(params, lr, theta):
    """One SGD step with the global gradient norm clipped to ``theta``: w -= lr * min(1, theta/norm) * g.

    What ``grad_clipping(params, theta)`` followed by ``trainer.step(1)`` (plain SGD) do, in a
    handful of device operations: the clipping factor is folded into the learning rate of one
    multi-tensor SGD update, so the gradients are read once and never rescaled in place.
    ``params`` are NDArrays with gradients attached. Returns the norm before clipping as a
    (1,) NDArray, without a host round trip.
    """
    norm = global_norm([p.grad for p in params])  # (1,)
    # theta / max(norm, theta) is exactly 1 when norm <= theta, so the step is then plain SGD.
    lr_scaled = (theta / nd.maximum(norm, theta)) * lr  # (1,)
    for chunk in _chunks(params):
        lrs = nd.broadcast_to(lr_scaled, shape=(len(chunk),))  # one learning rate per array
        wds = nd.zeros((len(chunk),), ctx=norm.context)  # no weight decay
        weights_and_grads = [a for p in chunk for a in (p, p.grad)]
        nd.preloaded_multi_sgd_update(*weights_and_grads, lrs, wds, num_weights=len(chunk),
                                      out=chunk)
    return norm
