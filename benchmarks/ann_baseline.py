"""ANN baseline for the SSNN-BP accuracy table: the same architecture and split, trained the usual way.

    python benchmarks/ann_baseline.py --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist --epochs 15
    python benchmarks/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist-10k --epochs 15

784-1280-10 (``--hidden``), ReLU, softmax cross-entropy, dropout 0.2 on the inputs and 0.3 on the hidden layer
(the paper's SSNN-BP rates), He initialisation, Adam (learning rate 1e-3, minibatches of 100), inputs pixel/255;
the test accuracy after every epoch. Results go to ``benchmarks/results/ann_baseline_<dataset>.json``.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def train(X, Y, X_test, y_test, hidden: int, epochs: int, seed: int, batch: int = 100, lr: float = 1e-3,
          dropout=(0.2, 0.3)):
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], hidden, Y.shape[1]]
    params = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes, sizes[1:])]
    params += [np.zeros(b) for b in sizes[1:]]
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    step, curve = 0, []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            x = X[rows] * (rng.random((len(rows), sizes[0])) >= dropout[0]) / (1 - dropout[0])
            W1, W2, b1, b2 = params
            h = np.maximum(x @ W1 + b1, 0)
            mask = (rng.random(h.shape) >= dropout[1]) / (1 - dropout[1])
            h_drop = h * mask
            logits = h_drop @ W2 + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            d_logits = (p - Y[rows]) / len(rows)
            d_h = (d_logits @ W2.T) * mask * (h > 0)
            grads = [x.T @ d_h, h_drop.T @ d_logits, d_h.sum(axis=0), d_logits.sum(axis=0)]
            step += 1
            for param, grad, (m, v) in zip(params, grads, moments):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad ** 2
                param -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        W1, W2, b1, b2 = params
        prediction = np.argmax(np.maximum(X_test @ W1 + b1, 0) @ W2 + b2, axis=1)
        curve.append(round(float(np.mean(prediction == y_test)), 4))
        print(f"epoch {epoch}: test accuracy {curve[-1]:.4f}", flush=True)
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--hidden", type=int, default=1280)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from spikingbp.data import load_dataset, one_hot
    from spikingbp.io import write_json

    data = load_dataset(args.dataset, args.data_dir)
    X = data.x_train.reshape(data.n_train, -1) / 255.0
    X_test = data.x_test.reshape(data.n_test, -1) / 255.0
    started = time.perf_counter()
    curve = train(X, one_hot(data.y_train, data.n_classes), X_test, data.y_test, args.hidden, args.epochs, args.seed)
    summary = {"command": f"python benchmarks/ann_baseline.py --dataset {args.dataset}"
                          + (f" --data-dir {args.data_dir}" if args.data_dir else "") + f" --epochs {args.epochs}",
               "network": f"{X.shape[1]}-{args.hidden}-{data.n_classes}", "train": data.n_train, "test": data.n_test,
               "seed": args.seed, "test_accuracy_per_epoch": curve, "final_test_accuracy": curve[-1],
               "wall_seconds": round(time.perf_counter() - started, 1)}
    out = Path(args.out or REPO / "benchmarks" / "results" / f"ann_baseline_{args.dataset}.json")
    write_json(out, summary, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
