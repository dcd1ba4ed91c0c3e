"""What a training run keeps, below the training loop: its ``History`` and its checkpoints (the loop saves into them)."""
