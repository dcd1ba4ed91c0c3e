"""Continue a prefix with a trained model: greedy, as in the chapter, or sampled with a temperature."""
import math

import numpy as np
from mxnet import nd

from .env.device import check_ctx
from .facts import check_model, check_seed, check_vocab, is_integer, is_number
from .models import RNNModel


def check_prefix(prefix, vocab):
    """Raise ``ValueError`` unless ``prefix`` is a non-empty string of characters in ``vocab``."""
    if not isinstance(prefix, str) or not prefix:
        raise ValueError(f"prefix must be a non-empty string, got {prefix!r}")
    unknown = sorted({ch for ch in prefix if ch not in vocab.token_to_idx})
    if unknown:
        shown = repr(prefix) if len(prefix) <= 80 else f"of {len(prefix):,} characters"
        raise ValueError(
            f"prefix {shown} contains characters that are not in the vocabulary: "
            f"{unknown}; the model only knows {''.join(vocab.idx_to_token[1:])!r}"
            " (text is lower-cased during preprocessing)")


def choose_next(logits, temperature=0.0, top_k=None, rng=None, exclude=None):
    """Index of the next token from ``logits`` (vocab_size,): argmax when ``temperature`` is 0,
    else a draw from softmax(logits / temperature), restricted to the ``top_k`` largest
    logits; index ``exclude`` (e.g. ``'<unk>'``) is never chosen."""
    logits = np.array(logits, dtype=np.float64)
    if exclude is not None:
        logits[exclude] = -np.inf
    if top_k is not None:
        kth_largest = np.sort(logits)[-top_k]
        logits = np.where(logits >= kth_largest, logits, -np.inf)
    if temperature == 0:
        return int(np.argmax(logits))
    z = (logits - logits.max()) / temperature  # <= 0; as temperature -> 0 all but the max -> -inf
    p = np.exp(z)
    return int(rng.choice(len(p), p=p / p.sum()))


def _check_sampling(num_chars, temperature, top_k, vocab_size):
    if not is_integer(num_chars) or num_chars < 0:
        raise ValueError(f"num_chars must be a non-negative integer, got {num_chars!r}")
    if not is_number(temperature) \
            or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0 (0 = greedy, 1 = the model's "
                         f"own distribution), got {temperature!r}")
    if top_k is not None and (not is_integer(top_k)
                              or not 1 <= top_k < vocab_size):
        raise ValueError(f"top_k must be None or an integer from 1 to {vocab_size - 1} (the "
                         f"vocabulary without '<unk>'), got {top_k!r}")


def warm_up(model, prefix, vocab, ctx):
    """The state after reading all of ``prefix`` but its last character: ``model``'s state for batch_size 1.

    The characters go through ``model`` in one call of shape (1, len(prefix) - 1), which
    gives the state that feeding them one at a time gives (for a one-character prefix,
    the zero state). A bidirectional layer is the exception: over a sequence its backward
    direction would read the prefix from the end, so it gets one character per call, as
    it does while generating.
    """
    check_prefix(prefix, vocab)
    state = model.begin_state(batch_size=1, ctx=ctx)
    indices = vocab[list(prefix[:-1])]
    if not indices:
        return state
    if isinstance(model, RNNModel) and model.config.bidirectional:
        steps = [[i] for i in indices]  # len(prefix) - 1 calls of one character
    else:
        steps = [indices]  # one call of len(prefix) - 1 characters
    for step in steps:
        Y, state = model(nd.array([step], ctx=ctx), state)  # (1, len(step)) -> Y: (len(step), vocab_size)
        _check_output_width(Y, vocab)
    return state


def _check_output_width(Y, vocab):
    if Y.shape[-1] != len(vocab):
        raise ValueError(f"the model predicts {Y.shape[-1]} tokens but the vocabulary has "
                         f"{len(vocab)}; use the vocab the model was trained with")


def predict_rnn_gluon(prefix, num_chars, model, vocab, ctx, temperature=0.0, top_k=None, seed=None):
    """``prefix`` followed by ``num_chars`` predicted characters.

    The model reads the prefix in one call (``warm_up``), then predicts one character
    per call. With the default ``temperature=0`` each character is the most likely one
    (the chapter's greedy prediction). A positive temperature samples from
    softmax(logits / temperature): below 1 sharper, above 1 flatter; ``top_k`` keeps
    only the k most likely characters; ``seed`` makes the sampling repeatable.
    ``'<unk>'`` is never predicted.
    """
    check_model(model)
    check_vocab(vocab)
    check_ctx(ctx)
    check_prefix(prefix, vocab)
    _check_sampling(num_chars, temperature, top_k, len(vocab))
    check_seed(seed)
    rng = np.random.default_rng(seed)
    state = warm_up(model, prefix, vocab, ctx)
    output = [vocab[prefix[-1]]]
    for _ in range(num_chars):
        X = nd.array([[output[-1]]], ctx=ctx)  # (1, 1)
        Y, state = model(X, state)  # Y: (1, vocab_size)
        _check_output_width(Y, vocab)
        output.append(choose_next(Y[0].asnumpy(), temperature, top_k, rng, exclude=vocab.unk))
    return prefix + "".join(vocab.to_tokens(output[1:]))
