"""Feedback on the comparison exercises' training runs: trained and validated as the question asks.

A run is judged by the record ``train`` keeps in its ``History`` (``History.trained_on``):
the texts it trained and was validated on (by fingerprint), its settings and its model.
The texts the question names come from the notebook's set-up cell. No MXNet here.
"""
import itertools

import numpy as np

from ..facts import CELLS
from ..store.history import History, text_fingerprint
from .feedback import Mistake, report

OVERLAP_WINDOW, OVERLAP_PROBES = 64, 24  # a shared stretch of 64 tokens counts as the same text


def expected_num_parameters(cell, num_layers, vocab_size, num_hiddens):
    """Parameters of ``RNNModel`` with a Gluon ``cell`` layer: per layer G*H*(in + H) + 2*G*H, then the dense output."""
    rows = CELLS[cell].num_gates * num_hiddens
    layers = sum(rows * ((vocab_size if l == 0 else num_hiddens) + num_hiddens) + 2 * rows for l in range(num_layers))
    return layers + num_hiddens * vocab_size + vocab_size


def check_runs(histories, num_params, runs, vocab_size, num_hiddens, *, train_texts=None, valid_texts=None,
               num_epochs=1, equal_updates=False):
    """Check every run of ``runs`` against what the question asks; print a verdict, return True/False.

    ``runs`` maps a label to ``(cell, num_layers)``, or to a dict with ``cell``,
    ``num_layers`` and optionally ``train`` (names of ``train_texts``, concatenated),
    ``valid`` (a name of ``valid_texts``) and ``epochs`` (at least this many; default
    ``num_epochs``). ``histories`` and ``num_params`` map labels to what ``train``
    returned and to the model's parameter count. With ``train_texts`` and ``valid_texts``
    ({name: token indices}) each run must have trained on the named training texts and
    been validated on the named held-out text, which must share no text with them;
    ``equal_updates`` asks all runs to have made the same number of updates (give or
    take one per epoch, which a random start offset can cost).
    """
    return report("runs", lambda: _check_runs(histories, num_params, runs, vocab_size, num_hiddens,
                                              train_texts or {}, valid_texts or {}, num_epochs,
                                              equal_updates), "are complete")


def check_divergence(diverged, label, cell, num_layers, lr, num_hiddens, *, train_texts=None):
    """Check that ``diverged[label]`` is the History of a ``cell`` run at ``lr`` that really diverged; print, return True/False.

    ``diverged`` maps labels to the ``history`` of a caught ``TrainingDivergedError``.
    """
    return report("divergence", lambda: _check_divergence(diverged, label, cell, num_layers, lr, num_hiddens,
                                                          train_texts or {}), "was observed")


# ---------------------------------------------------------------- the texts

def _shares_text(a, b):
    """True when a stretch of ``OVERLAP_WINDOW`` tokens of ``a``, probed at evenly spaced places, occurs in ``b``."""
    a, b = np.asarray(a).astype("<i4"), np.asarray(b).astype("<i4").tobytes()
    if len(a) == 0:
        return False
    window = min(OVERLAP_WINDOW, len(a))
    for start in np.linspace(0, len(a) - window, OVERLAP_PROBES).astype(int):
        chunk, pos = a[start:start + window].tobytes(), 0
        while (pos := b.find(chunk, pos)) != -1:
            if pos % 4 == 0:  # aligned on a token, not inside one
                return True
            pos += 1
    return False


def _known_texts(train_texts, valid_texts):
    """{fingerprint sha256: words} for the texts of the exercise and their concatenations."""
    known = {}
    for n in range(1, min(3, len(train_texts)) + 1):
        for names in itertools.permutations(train_texts, n):
            joined = [i for name in names for i in train_texts[name]]
            known.setdefault(text_fingerprint(joined)["sha256"], _train_words(names))
    for name, text in valid_texts.items():
        known.setdefault(text_fingerprint(text)["sha256"], f"the held-out text{_of(name)}")
    return known


def _of(name):
    return "" if name in ("training text", "held-out text") else f" of {name}"


def _train_words(names, only=True):
    if names == ("training text",):
        return "the training text"
    return "the training text of " + " and ".join(names) + (" only" if only and len(names) == 1 else "")


def _describe(fingerprint, known):
    words = known.get(fingerprint["sha256"])
    return words or f"a text of {fingerprint['num_tokens']:,} characters that is none of this exercise's texts"


def _check_texts_apart(train_texts, valid_texts):
    """The named held-out texts must share nothing with the named training texts."""
    for (t_name, train), (v_name, valid) in itertools.product(train_texts.items(), valid_texts.items()):
        if _shares_text(valid, train):
            raise Mistake(f"the held-out text{_of(v_name)} shares text with the training text{_of(t_name)}: "
                          "a model is then validated on characters it trained on. Keep the set-up cell's "
                          "split (split_corpus) and do not reassign the texts it made")


# ---------------------------------------------------------------- one run

def _spec(spec, train_texts, valid_texts, num_epochs):
    if isinstance(spec, dict):
        spec = dict(spec)
    else:
        cell, num_layers = spec
        spec = {"cell": cell, "num_layers": num_layers}
    spec.setdefault("train", list(train_texts) if len(train_texts) == 1 else None)
    spec.setdefault("valid", next(iter(valid_texts)) if len(valid_texts) == 1 else None)
    spec.setdefault("epochs", num_epochs)
    return spec


def _title(cell):
    """'LSTM', 'GRU', 'RNN (tanh)'; an unknown cell name as it is."""
    return CELLS[cell].title if cell in CELLS else cell


def _layers(num_layers):
    return f"{num_layers} layer{'s' if num_layers > 1 else ''}"


def _records(label, history):
    """The History's records of training; a Mistake for anything ``train`` did not make."""
    # By name: grading.fresh_checks loads its own copy of the History class.
    if type(history).__name__ != History.__name__ or not hasattr(history, "trained_on"):
        raise Mistake(f"{label!r} is a {type(history).__name__}, not the History that d2l.train returns: keep "
                      "what train_run stores")
    if not history.trained_on:
        raise Mistake(f"{label!r} has no record of what it was trained on, so it was not made by d2l.train "
                      "(or by an older d2lrnn): train it with train_run")
    return history.trained_on


def _check_model(label, records, cell, num_layers, num_hiddens):
    want = {"cell": cell, "num_layers": num_layers, "num_hiddens": num_hiddens}
    for record in records:
        got = record.get("model")
        if got is not None and got != want:
            raise Mistake(f"{label!r} is a {_title(got['cell'])} with "
                          f"{_layers(got['num_layers'])} of {got['num_hiddens']} units, but the question asks for a "
                          f"{CELLS[cell].title} with {_layers(num_layers)} of {num_hiddens}: check the cell and the "
                          "number of layers")


def _check_train_text(label, records, spec, train_texts, known):
    if not spec["train"]:
        return
    wanted = {text_fingerprint([i for name in names for i in train_texts[name]])["sha256"]
              for names in itertools.permutations(spec["train"])}
    for record in records:
        if record["train_text"]["sha256"] not in wanted:
            raise Mistake(f"{label!r} was trained on {_describe(record['train_text'], known)}, but the question "
                          f"asks for {_train_words(tuple(spec['train']), only=False)}: pass exactly that text "
                          "to train_run")


def _check_valid_text(label, history, records, spec, valid_texts, known):
    if not history.val_perplexity or any(r["valid_text"] is None for r in records):
        raise Mistake(f"{label!r} has no validation perplexity: train it with valid_indices=... "
                      "(the held-out text)")
    for record in records:
        if record["valid_text"] == record["train_text"]:
            raise Mistake(f"{label!r} was validated on the text it was trained on: that measures memorisation. "
                          "Validate it on the held-out text")
        if spec["valid"] is None:
            continue
        want = text_fingerprint(valid_texts[spec["valid"]])
        if record["valid_text"] != want:
            raise Mistake(f"{label!r} was validated on {_describe(record['valid_text'], known)}, but the question "
                          f"asks for the held-out text{_of(spec['valid'])}: pass that as its held-out text")


def _check_epochs(label, history, epochs):
    if len(history) < epochs:
        why = " (it was interrupted)" if history.interrupted else ""
        raise Mistake(f"{label!r} was trained for {len(history)} epoch{'s' if len(history) != 1 else ''}{why}, "
                      f"but the question asks for at least {epochs}: train it again with the set-up cell's "
                      "budget")


def _check_size(label, num_params, cell, num_layers, vocab_size, num_hiddens):
    want = expected_num_parameters(cell, num_layers, vocab_size, num_hiddens)
    if num_params.get(label) != want:
        got = f"{num_params[label]:,}" if isinstance(num_params.get(label), int) else "no recorded number of"
        raise Mistake(f"{label!r} has {got} parameters, but a {CELLS[cell].title} with {_layers(num_layers)} of "
                      f"{num_hiddens} units on {vocab_size} characters has {want:,}: check the cell and the number "
                      "of layers")


def _check_run(label, history, spec, num_params, vocab_size, num_hiddens, train_texts, valid_texts, known):
    records = _records(label, history)
    if history.diverged_at is not None:
        raise Mistake(f"{label!r} diverged at epoch {history.diverged_at} with lr={records[-1]['lr']}: train it "
                      "with a learning rate at which it trains")
    if len(history) == 0:
        raise Mistake(f"{label!r} was trained for 0 epochs")
    _check_model(label, records, spec["cell"], spec["num_layers"], num_hiddens)
    _check_train_text(label, records, spec, train_texts, known)
    _check_valid_text(label, history, records, spec, valid_texts, known)
    _check_epochs(label, history, spec["epochs"])
    _check_size(label, num_params, spec["cell"], spec["num_layers"], vocab_size, num_hiddens)


def _check_runs(histories, num_params, runs, vocab_size, num_hiddens, train_texts, valid_texts, num_epochs,
                equal_updates):
    _check_texts_apart(train_texts, valid_texts)
    known = _known_texts(train_texts, valid_texts)
    for label, spec in runs.items():
        if label not in histories:
            so_far = f" (runs so far: {', '.join(map(repr, histories))})" if histories else ""
            raise Mistake(f"no run labelled {label!r} yet{so_far}: train it in the cell above, with exactly "
                          "this label")
        _check_run(label, histories[label], _spec(spec, train_texts, valid_texts, num_epochs), num_params,
                   vocab_size, num_hiddens, train_texts, valid_texts, known)
    updates = {label: histories[label].num_updates for label in runs}
    # Each epoch starts at a random offset below num_steps, which can cost it one minibatch.
    slack = max(len(histories[label]) for label in runs)
    if equal_updates and max(updates.values()) - min(updates.values()) > slack:
        raise Mistake("the runs made different numbers of updates (" + ", ".join(
            f"{label}: {n:,}" for label, n in updates.items()) + "); the question compares them at equal "
            "updates: a run on twice the text gets half the epochs")
    best = ", ".join(f"{label} {min(histories[label].val_perplexity):.2f}" for label in runs)
    same = f", each with about {min(updates.values()):,} updates" if equal_updates else ""
    return (f"every run is there, trained on the texts asked for for at least its epochs{same}, validated on "
            f"held-out text, with the right size (best validation perplexity: {best})")


# ---------------------------------------------------------------- question 2's divergence

def _check_divergence(diverged, label, cell, num_layers, lr, num_hiddens, train_texts):
    if label not in diverged:
        so_far = f" (diverged runs so far: {', '.join(map(repr, diverged))})" if diverged else ""
        raise Mistake(f"no diverged run labelled {label!r}{so_far}: train it with lr={lr} inside "
                      "`try: ... except d2l.TrainingDivergedError as err:` and keep err.history in "
                      f"diverged[{label!r}], as the cell shows")
    history = diverged[label]
    records = _records(label, history)
    if records[-1]["lr"] != lr:
        raise Mistake(f"{label!r} was trained with lr={records[-1]['lr']}, but the question asks what lr={lr} does")
    _check_model(label, records, cell, num_layers, num_hiddens)
    _check_train_text(label, records, {"train": list(train_texts) or None}, train_texts,
                      _known_texts(train_texts, {}))
    if history.diverged_at is None:
        raise Mistake(f"{label!r} did not diverge: it trained {len(history)} epochs at lr={lr}. Keep in "
                      "diverged only the history of a caught TrainingDivergedError")
    return (f"the {CELLS[cell].title} with {_layers(num_layers)} diverged at epoch {history.diverged_at} with "
            f"lr={lr} (training perplexity {history.diverged_perplexity:.4g})")
