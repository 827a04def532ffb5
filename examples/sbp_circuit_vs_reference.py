"""Train the spiking sBP circuit and the numpy reference side by side and compare them bit for bit.

    python examples/sbp_circuit_vs_reference.py            # 64-40-10, 300 samples of the embedded digits

The circuit runs on Brian2's runtime device (give device="cpp_standalone" to compile it: slower to start,
faster per sample); the reference is the binary update of the spec. Afterwards the circuit's inference
outputs are compared too.
"""
import numpy as np

from spikingbp.circuits import sbp
from spikingbp.data import binarize, load_dataset, one_hot
from spikingbp.reference import sbp as reference

data = load_dataset("digits")
X = binarize(data.x_train)[:300]
T = one_hot(data.y_train, data.n_classes, dtype=bool)[:300]
W1, W2 = reference.init_weights(X.shape[1], 40, data.n_classes, rng=0)

C1, C2 = sbp.train(W1, W2, X, T, device="runtime", target="numpy")   # also checks the plastic copies agree
R1, R2 = reference.train_epoch(X, T, W1, W2)
print("W1 identical:", np.array_equal(C1, R1), "| W2 identical:", np.array_equal(C2, R2))

X_test = binarize(data.x_test)
spikes, potentials = sbp.infer(C1, C2, X_test, device="runtime", target="numpy")
expected = reference.forward(X_test, R1, R2)
print("inference outputs identical:", np.array_equal(spikes, expected.o), "| potentials identical:",
      np.array_equal(potentials, expected.a2))
print("test accuracy (argmax of potential):", np.mean(np.argmax(potentials, axis=1) == data.y_test))
if not (np.array_equal(C1, R1) and np.array_equal(C2, R2) and np.array_equal(spikes, expected.o)):
    raise SystemExit("the circuit and the reference differ")
