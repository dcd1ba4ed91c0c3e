"""``History``: what a training run records per epoch, and what it was trained and validated on.

No MXNet here: the exercise checks and the checkpoint reader use it as plain data.
"""
import hashlib
from dataclasses import dataclass, field

import numpy as np


def text_fingerprint(corpus_indices):
    """``{'sha256': ..., 'num_tokens': n}`` of a sequence of token indices (list or array, any number type).

    Two sequences have the same fingerprint exactly when they hold the same indices in
    the same order, so a run's record names the text it saw without storing it.
    """
    tokens = np.asarray(corpus_indices).astype("<i8")  # one byte layout, whatever the input type
    return {"sha256": hashlib.sha256(tokens.tobytes()).hexdigest(), "num_tokens": int(tokens.size)}


@dataclass
class History:
    """Per-epoch record of a training run: perplexity, seconds and tokens seen.

    ``val_perplexity`` holds the held-out perplexity after each epoch, and stays
    empty when training had no validation data. ``seconds`` is training time only.
    ``trained_on`` has one entry per call of ``train`` that added to this history: the
    first epoch it trained, lr, clipping_theta, num_steps, batch_size, sampling, seed,
    the fingerprints (``text_fingerprint``) of the training and held-out texts, and the
    model's cell, num_layers and num_hiddens when ``train`` could tell them.
    ``diverged_at`` is the epoch whose perplexity made ``train`` give up, else None.
    With held-out text, ``best_epoch`` is the last call's epoch of lowest held-out
    perplexity; ``stopped_early_at`` the epoch after which its ``patience`` ran out (else
    None); ``restored_epoch`` the epoch whose weights ``restore_best`` gave the model (else None).
    """

    epoch: list = field(default_factory=list)
    perplexity: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    num_tokens: list = field(default_factory=list)
    val_perplexity: list = field(default_factory=list)
    interrupted: bool = False  # True when the run was stopped early (Ctrl-C or SIGTERM)
    stop_signal: str = None  # 'SIGINT' (Ctrl-C, Jupyter's interrupt) or 'SIGTERM' when interrupted
    trained_on: list = field(default_factory=list)
    diverged_at: int = None
    diverged_perplexity: float = None
    best_epoch: int = None
    stopped_early_at: int = None
    restored_epoch: int = None

    def append(self, epoch, perplexity, seconds, num_tokens, val_perplexity=None):
        self.epoch.append(epoch)
        self.perplexity.append(perplexity)
        self.seconds.append(seconds)
        self.num_tokens.append(num_tokens)
        if val_perplexity is not None:
            self.val_perplexity.append(val_perplexity)

    def __len__(self):
        return len(self.epoch)

    @property
    def tokens_per_sec(self):
        """Training throughput over the whole run (0 before the first epoch)."""
        total = sum(self.seconds)
        return sum(self.num_tokens) / total if total > 0 else 0.0

    def record_of(self, epoch):
        """The entry of ``trained_on`` that trained ``epoch`` (None when nothing recorded it)."""
        records = [r for r in self.trained_on if r["first_epoch"] <= epoch]
        return records[-1] if records else None

    @property
    def num_updates(self):
        """Parameter updates (minibatches) over the recorded epochs; None if an epoch has no record."""
        total = 0
        for epoch, tokens in zip(self.epoch, self.num_tokens):
            record = self.record_of(epoch)
            if record is None:
                return None
            total += tokens // (record["batch_size"] * record["num_steps"])  # every minibatch is full
        return total

    def __repr__(self):
        diverged = f", diverged at epoch {self.diverged_at}" if self.diverged_at is not None else ""
        if self.stopped_early_at is not None:
            diverged += f", stopped early after epoch {self.stopped_early_at}"
        if self.restored_epoch is not None:
            diverged += f", weights of epoch {self.restored_epoch} restored"
        if not self.epoch:
            return f"History(0 epochs{diverged})"
        valid = (f", validation perplexity {self.val_perplexity[0]:.2f} -> {self.val_perplexity[-1]:.2f}"
                 if self.val_perplexity else "")
        return (f"History({len(self)} epochs, perplexity {self.perplexity[0]:.2f} -> "
                f"{self.perplexity[-1]:.2f}{valid}, {sum(self.seconds) / len(self):.3f} s/epoch, "
                f"{self.tokens_per_sec:,.0f} tokens/s{', interrupted' if self.interrupted else ''}{diverged})")
