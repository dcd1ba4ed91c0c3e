"""What scripts/layer_timescales.py and scripts/cures.py share: the chapter's data with held-out
text after it, the chapter's model and settings, and running several seeds in child processes.

Not a script itself: the two scripts import it (Python puts scripts/ on the path of a script
run from there). The parent processes import no MXNet; the children (``--child``) do.
"""
import concurrent.futures
import datetime
import json
import os
import subprocess
import sys
import time

from multiseed import machine  # noqa: F401 (re-exported for the two scripts)

# The chapter's run (d2lrnn.facts): 2 layers of 256 LSTM units, 10,000 characters of The Time
# Machine, batch 32 x 35, lr 5, clipping 1, consecutive sampling, N(0, 0.01^2) weights, 500 epochs.
NUM_TRAIN = 10000
QUICK = {"num_epochs": 2, "num_train": 2400, "num_valid": 2000}  # a moment per run, to try a script


def chapter_data(num_valid, num_train=NUM_TRAIN):
    """The chapter's ``(corpus_indices, vocab)`` and the ``num_valid`` characters of the book after them.

    The held-out characters are indexed with the chapter's vocabulary; a character it does not
    have becomes ``'<unk>'``. Returns ``(train_indices, valid_indices, vocab, num_unknown)``.
    """
    import d2lrnn as d2l
    corpus_indices, vocab = d2l.load_data_time_machine()  # the chapter's 10,000 characters, its vocabulary
    valid_indices = d2l.load_held_out_time_machine(vocab, num_valid, num_examples=NUM_TRAIN)
    return corpus_indices[:num_train], valid_indices, vocab, sum(i == vocab.unk for i in valid_indices)


def chapter_model(vocab, dropout=0.0):
    """The chapter's two-layer LSTM of 256 units; with ``dropout``, dropout between the layers while training.

    Without dropout it is the chapter's ``RNNModel`` with one fused ``rnn.LSTM(256, num_layers=2)``.
    With dropout it is ``LSTMWithDropout``: ``rnn.LSTM(..., dropout=p)`` would do nothing here, since
    MXNet's oneDNN kernel for recurrent layers on a CPU (its default) ignores ``p``.
    """
    import d2lrnn as d2l
    from d2lrnn import facts as settings
    from mxnet.gluon import rnn
    num_hiddens, num_layers = settings.MODEL["num_hiddens"], settings.MODEL["num_layers"]
    if dropout == 0:
        return d2l.RNNModel(rnn.LSTM(num_hiddens, num_layers=num_layers), len(vocab))
    return lstm_with_dropout(len(vocab), num_hiddens, num_layers, dropout)


def lstm_with_dropout(vocab_size, num_hiddens, num_layers, dropout):
    """A language model like ``RNNModel`` with ``num_layers`` one-layer LSTMs and ``nn.Dropout(dropout)`` between them.

    Same calling convention and state layout as ``RNNModel(rnn.LSTM(num_hiddens, num_layers))``:
    X (batch_size, num_steps) -> logits (num_steps * batch_size, vocab_size), state [H, C], each
    (num_layers, batch_size, num_hiddens).
    """
    from mxnet import gluon
    from mxnet.gluon import nn, rnn

    class LSTMWithDropout(gluon.HybridBlock):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.vocab_size, self.num_layers = vocab_size, num_layers
            with self.name_scope():
                self.layers = nn.HybridSequential()
                for l in range(num_layers):
                    self.layers.add(rnn.LSTM(num_hiddens, input_size=vocab_size if l == 0 else num_hiddens))
                self.dropout = nn.Dropout(dropout)
                self.dense = nn.Dense(vocab_size, flatten=False, in_units=num_hiddens)

        def hybrid_forward(self, F, inputs, state):
            Y = F.one_hot(F.transpose(inputs), self.vocab_size)  # (num_steps, batch_size, vocab_size)
            new_H, new_C = [], []
            for l, layer in enumerate(self.layers):
                H, C = (F.slice_axis(s, axis=0, begin=l, end=l + 1) for s in state)  # (1, batch_size, num_hiddens)
                Y, (H, C) = layer(Y, [H, C])  # Y: (num_steps, batch_size, num_hiddens)
                if l < self.num_layers - 1:
                    Y = self.dropout(Y)  # only while training (autograd.record)
                new_H.append(H)
                new_C.append(C)
            output = self.dense(Y)  # (num_steps, batch_size, vocab_size)
            return F.reshape(output, (-1, self.vocab_size)), [F.concat(*new_H, dim=0), F.concat(*new_C, dim=0)]

        def begin_state(self, batch_size, ctx=None):
            from mxnet import nd
            return [nd.zeros((self.num_layers, batch_size, num_hiddens), ctx=ctx) for _ in range(2)]

    return LSTMWithDropout()


def history_dict(history):
    return {"epoch": history.epoch, "perplexity": history.perplexity,
            "val_perplexity": history.val_perplexity, "seconds": history.seconds,
            "num_tokens": history.num_tokens}


def run_children(script, jobs, n_jobs, extra_args, result, out):
    """Run ``script --child JOB...`` for each job (a list of strings), ``n_jobs`` at a time.

    Each child prints one JSON line; it goes into ``result["runs"]`` in the order of ``jobs``,
    and ``out`` is rewritten after every finished child, so a stopped run keeps what is done.
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OMP_WAIT_POLICY", "passive")
    result.update({"jobs": n_jobs, "omp_num_threads": env["OMP_NUM_THREADS"],
                   "omp_wait_policy": env["OMP_WAIT_POLICY"],
                   "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                   "machine_at_start": machine(), "runs": [], "complete": False})
    start = time.perf_counter()

    def run(job):
        cmd = [sys.executable, str(script), *extra_args, "--child", *job]
        # Its own session: with autogroup scheduling each run gets a fair share of the CPUs.
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, start_new_session=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(job)} failed (status {proc.returncode}):\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    order = {tuple(job): i for i, job in enumerate(jobs)}
    with concurrent.futures.ThreadPoolExecutor(max_workers=n_jobs) as pool:
        futures = {pool.submit(run, job): tuple(job) for job in jobs}
        for future in concurrent.futures.as_completed(futures):
            r = future.result()
            r["job"] = list(futures[future])
            result["runs"].append(r)
            result["runs"].sort(key=lambda r: order[tuple(r["job"])])
            result.update({"wall_seconds": time.perf_counter() - start, "machine_at_end": machine(),
                           "finished": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                           "complete": len(result["runs"]) == len(jobs)})
            out.write_text(json.dumps(result, indent=1) + "\n")
            print(f"{' '.join(futures[future])}: {r['wall_seconds']:.0f} s ({len(result['runs'])}/{len(jobs)})",
                  flush=True)
    return result
