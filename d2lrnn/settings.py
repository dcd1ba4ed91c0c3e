"""The chapter's settings: its model, its training run and the prefixes it continues (no MXNet here).

The command line's defaults and the benchmark's configuration are these values.
"""
# 2-layer LSTM with 256 hidden units.
MODEL = {"cell": "lstm", "num_layers": 2, "num_hiddens": 256}
# The first 10,000 characters of The Time Machine, batch 32 x 35 steps, SGD with lr 5 and
# the global gradient norm clipped to 1, minibatches drawn by consecutive sampling.
TRAINING = {"num_steps": 35, "batch_size": 32, "lr": 5.0, "clipping_theta": 1.0,
            "num_examples": 10000, "sampling": "consecutive"}
NUM_EPOCHS = 500
PREFIXES = ("traveller", "time traveller")
