"""The PyTorch peer: nn.LSTM/GRU/RNN trained on the same minibatches, with the same SGD and clipping, as d2lrnn."""
import json
import os
import time
from pathlib import Path

from d2lrnn.facts import CELLS as CELL_TABLE
from d2lrnn.facts import consecutive_layout, epoch_rng, is_diverged, perplexity_from_loss

from .children import boundaries_to_epochs, run_config
from .config import CHAPTER


def _model(torch, nn, cell, vocab_size, num_hiddens):
    """One-hot tokens -> recurrent layer -> dense logits, like d2lrnn.RNNModel, with the chapter's init."""
    layer_cls = getattr(nn, CELL_TABLE[cell].layer)  # torch.nn names its layers as Gluon does
    activation = CELL_TABLE[cell].activation
    extra = {"nonlinearity": activation} if activation else {}

    class TorchRNNModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = layer_cls(vocab_size, num_hiddens, CHAPTER["num_layers"], **extra)
            self.dense = nn.Linear(num_hiddens, vocab_size)

        def forward(self, X, state):
            inputs = nn.functional.one_hot(X.T, vocab_size).float()  # (num_steps, batch_size, vocab_size)
            Y, state = self.rnn(inputs, state)  # (num_steps, batch_size, num_hiddens)
            return self.dense(Y.reshape(-1, num_hiddens)), state  # (num_steps * batch_size, vocab_size)

    model = TorchRNNModel()
    with torch.no_grad():  # the chapter's init.Normal(0.01) for weights; Gluon's biases start at 0
        for name, p in model.named_parameters():
            nn.init.zeros_(p) if "bias" in name else nn.init.normal_(p, 0.0, 0.01)
    return model


def child_torch(args):
    """PyTorch with the same model, data order, SGD and global-norm clipping as d2lrnn's trainer."""
    import torch
    from torch import nn

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device("cuda:0" if args.device == "gpu" else "cpu")
    data = json.loads(Path(args.corpus_file).read_text())
    corpus, vocab_size = data["corpus_indices"], len(data["idx_to_token"])
    batch_size, num_steps = CHAPTER["batch_size"], CHAPTER["num_steps"]
    model = _model(torch, nn, args.cell, vocab_size, args.num_hiddens).to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    params = list(model.parameters())

    bounds, tokens, perplexities = [time.perf_counter()], [], []
    for epoch in range(1, args.epochs + 1):
        offset, row_len, num_batches = consecutive_layout(len(corpus), batch_size, num_steps,
                                                          epoch_rng(args.seed, epoch))
        rows = torch.tensor(corpus[offset:offset + row_len * batch_size], device=device).view(batch_size, row_len)
        state, loss_sum, n = None, 0.0, 0
        for i in range(0, num_batches * num_steps, num_steps):
            X, Y = rows[:, i:i + num_steps], rows[:, i + 1:i + 1 + num_steps]
            if state is not None:  # keep values, cut the graph
                state = tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()
            output, state = model(X, state)
            y = Y.T.reshape(-1)  # time-major, like output
            loss = loss_fn(output, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, CHAPTER["clipping_theta"])
            optimizer.step()
            loss_sum += loss.item() * y.numel()
            n += y.numel()
        bounds.append(time.perf_counter())
        tokens.append(n)
        perplexities.append(perplexity_from_loss(loss_sum / n))
    # d2lrnn's criterion, reported only: PyTorch trains on regardless.
    bad = [e for e, p in enumerate(perplexities, 1) if is_diverged(p, vocab_size)]
    diverged = f"perplexity above vocab_size**2 from epoch {bad[0]}" if bad else None
    return {"kind": "torch", "config": run_config(args), "diverged": diverged,
            **boundaries_to_epochs(bounds, tokens),
            "perplexity": perplexities, "vocab_size": vocab_size,
            "threads": {"torch_threads": torch.get_num_threads(),
                        "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
            "torch_version": torch.__version__}
