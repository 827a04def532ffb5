"""Non-spiking reference models: plain numpy, the ground truth the spiking circuits must reproduce.

- ``spikingbp.reference.sbp``: the exact binary backprop update of sBP, integer weights (its names are
  importable from here);
- ``spikingbp.reference.ssnnbp``: SSNN-BP's discrete dynamics, stochastic and rate forms;
- ``spikingbp.reference.erbp``: eRBP's discrete dynamics (units, error units, boxcar rule, blank-out);
- ``spikingbp.reference.sums``: sums taken in the order a circuit's synapses add, for bit-exact floats.
"""
from spikingbp.reference.sbp import (Accuracy, ForwardPass, Prediction, StepTrace, accuracy, forward,
                                     init_weights, predict, score, train_epoch, train_step)

__all__ = [
    "Accuracy", "ForwardPass", "Prediction", "StepTrace",
    "accuracy", "forward", "init_weights", "predict", "score", "train_epoch", "train_step",
]
