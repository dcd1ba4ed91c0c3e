"""The three recurrent cells as facts: name, layer class name, gate blocks, state arrays (no MXNet here).

The one table that the Gluon models (``models``), the from-scratch cells (``scratch``),
the exercise checks and the benchmark's FLOP count and PyTorch peer all read.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Cell:
    """One kind of recurrent cell."""

    name: str  # 'lstm', 'gru' or 'rnn' (always tanh): what functions and the command line accept
    layer: str  # the layer's class name, the same in mxnet.gluon.rnn and torch.nn
    gates: tuple  # the gate blocks stacked in each weight, in MXNet's order
    num_state_arrays: int  # 2 for an LSTM (hidden state H and memory cell C), else 1 (H)

    @property
    def num_gates(self):
        """Weight blocks per layer: 4 (LSTM), 3 (GRU), 1 (tanh RNN)."""
        return len(self.gates)


CELLS = {cell.name: cell for cell in (
    Cell("lstm", "LSTM", ("i", "f", "g", "o"), 2),
    Cell("gru", "GRU", ("r", "z", "n"), 1),
    Cell("rnn", "RNN", ("h",), 1),
)}


def get_cell(name):
    """The ``Cell`` called ``name``; ``ValueError`` naming the three choices otherwise."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be 'lstm', 'gru' or 'rnn', got {name!r}")
    return CELLS[name]
