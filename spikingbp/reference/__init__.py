"""Non-spiking reference models: plain numpy, the ground truth the spiking circuits must reproduce.

- ``spikingbp.reference.sbp``: the exact binary backprop update of sBP (spec ``sbp.md``), integer weights.
"""
from spikingbp.reference.sbp import (Accuracy, ForwardPass, Prediction, StepTrace, accuracy, forward,
                                     init_weights, predict, score, train_epoch, train_step)

__all__ = [
    "Accuracy", "ForwardPass", "Prediction", "StepTrace",
    "accuracy", "forward", "init_weights", "predict", "score", "train_epoch", "train_step",
]
