"""``History``: what a training run records per epoch, for printing, plotting and checkpoints."""
from dataclasses import dataclass, field


@dataclass
class History:
    """Per-epoch record of a training run: perplexity, seconds and tokens seen.

    ``val_perplexity`` holds the held-out perplexity after each epoch, and stays
    empty when training had no validation data. ``seconds`` is training time only.
    """

    epoch: list = field(default_factory=list)
    perplexity: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    num_tokens: list = field(default_factory=list)
    val_perplexity: list = field(default_factory=list)
    interrupted: bool = False  # True when the run was stopped early (Ctrl-C or SIGTERM)
    stop_signal: str = None  # 'SIGINT' (Ctrl-C, Jupyter's interrupt) or 'SIGTERM' when interrupted

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

    def __repr__(self):
        if not self.epoch:
            return "History(0 epochs)"
        valid = (f", validation perplexity {self.val_perplexity[0]:.2f} -> {self.val_perplexity[-1]:.2f}"
                 if self.val_perplexity else "")
        return (f"History({len(self)} epochs, perplexity {self.perplexity[0]:.2f} -> "
                f"{self.perplexity[-1]:.2f}{valid}, {sum(self.seconds) / len(self):.3f} s/epoch, "
                f"{self.tokens_per_sec:,.0f} tokens/s{', interrupted' if self.interrupted else ''})")
