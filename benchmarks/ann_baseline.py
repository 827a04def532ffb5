"""ANN baselines for the accuracy tables: the same architecture and split, trained the usual way.

    python benchmarks/ann_baseline.py --dataset fashion-mnist --data-dir ../shared/data/fashion-mnist --epochs 15
    python benchmarks/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist-10k --epochs 15
    python benchmarks/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist-10k --epochs 15 \
        --hidden 100 --dropout 0,0 --feedback random        (eRBP's RBP column; --feedback bp: its BP column)
    python benchmarks/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist --epochs 10 --hidden 100 \
        --dropout 0,0 --feedback random --optimizer sgd --batch 1 --lr 0.01 --no-bias --feedback-std 7
                                                            (eRBP's closest network: per-sample SGD, no biases)
    python benchmarks/ann_baseline.py --dataset mnist --data-dir ../shared/data/mnist-10k --epochs 10 \
        --optimizer sgd --batch 1 --lr 0.01 --lr-decay 0.75 --no-bias --output wta
                                                            (SSNN-BP's output error behind its winner-take-all)

784-1280-10 by default (``--hidden``), ReLU, softmax cross-entropy, dropout 0.2 on the inputs and 0.3 on the hidden layer
(the paper's SSNN-BP rates), He initialisation, Adam (learning rate 1e-3, minibatches of 100), inputs pixel/255;
the test accuracy after every epoch. Results go to
``benchmarks/results/ann_baseline_<dataset>_<data dir>_<network>_<feedback>[...].json``.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: SSNN-BP's output ceiling over its label count at Ts 100: Ts - 2 output spikes at most, the label fires 0.5 Ts
WTA_CEILING = 98 / 50


def softmax(logits):
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def winner_take_all(logits):
    rows = np.arange(len(logits))
    winner = np.argmax(logits, axis=1)
    out = np.zeros_like(logits)
    out[rows, winner] = np.clip(logits[rows, winner], 0.0, WTA_CEILING)
    return out


#: SSNN-BP's lateral inhibition in spikes: a rival's spike takes w_inh / theta = 2.5 / 5 of a spike's drive away
INHIBITION = 0.5


def mutual_inhibition(logits, inhibition: float = INHIBITION, ceiling: float = WTA_CEILING):
    """The rates at which units driven by ``logits`` settle when each one's rate lowers every other one's drive
    by ``inhibition`` (< 1) times itself: c_i = max(0, z_i - a sum_{j != i} c_j), clipped at the ceiling. The
    solution is unique (the matrix I + a (11^T - I) is positive definite for a < 1) and its active units are the
    k largest drives for the one k where those stay positive and the next one is held at 0."""
    out = np.zeros_like(logits)
    a = inhibition
    for row, z in enumerate(logits):
        order = np.argsort(-z, kind="stable")
        top = z[order]
        for k in range(1, len(z) + 1):
            total = top[:k].sum() / (1 - a + a * k)       # sum of the active rates
            rates = (top[:k] - a * total) / (1 - a)
            if rates[-1] > 0 and (k == len(z) or top[k] - a * total <= 0):
                out[row, order[:k]] = rates
                break
    return np.clip(out, 0.0, ceiling)


#: what the output layer compares with the target: its error is (this - target)
OUTPUTS = {"softmax": softmax, "mse": lambda logits: logits, "wta": winner_take_all, "inhibited": mutual_inhibition}


def train(X, Y, X_test, y_test, hidden, epochs: int, seed: int, batch: int = 100, lr: float = 1e-3,
          dropout=(0.2, 0.3), feedback: str = "bp", optimizer: str = "adam", bias: bool = True,
          feedback_std: float = 0.2, lr_decay: float = 1.0, input_counts=None, output: str = "softmax",
          inhibition: float = INHIBITION):
    """Test accuracy per epoch of a ReLU network with hidden layers ``hidden`` (a tuple), softmax
    cross-entropy, input and hidden ``dropout`` rates, Adam (or plain SGD: ``optimizer="sgd"``, with
    ``batch=1`` per-sample updates), with or without ``bias``, the learning rate times ``lr_decay`` after every
    epoch. ``feedback``: ``bp`` (backprop) or ``random`` (random backprop as eRBP's circuit does it: each hidden
    layer gets the output error through a fixed random matrix G_l (n_out, n_hl), uniform
    +-sqrt(feedback_std / (n_out + n_hl)) with its mean over classes removed). ``input_counts`` = (Ts, mean_rate):
    each training presentation sees spike counts instead of intensities, Binomial(Ts, mean_rate x pixel) over their
    mean Ts x mean_rate (SSNN-BP's input noise, the front-loaded trains' counts to within their slightly smaller
    variance); the test sees the intensities, as the rate readout of the SNN's weights does."""
    rng = np.random.default_rng(seed)
    sizes = [X.shape[1], *hidden, Y.shape[1]]
    weights = [rng.normal(0, np.sqrt(2 / a), (a, b)) for a, b in zip(sizes, sizes[1:])]
    biases = [np.zeros(b) for b in sizes[1:]]
    G, feedback_rng = [], np.random.default_rng([seed, 1])  # its own stream: bp runs draw as before
    for n in hidden:
        bound = np.sqrt(feedback_std / (sizes[-1] + n))
        g = feedback_rng.uniform(-bound, bound, (sizes[-1], n))
        G.append(g - g.mean(axis=0))
    params = weights + biases
    moments = [[np.zeros_like(p), np.zeros_like(p)] for p in params]
    step, curve = 0, []
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(X))
        for start in range(0, len(X), batch):
            rows = order[start:start + batch]
            x = X[rows]
            if input_counts is not None:
                Ts, mean_rate = input_counts
                x = rng.binomial(Ts, mean_rate * x) / (Ts * mean_rate)
            x = x * (rng.random((len(rows), sizes[0])) >= dropout[0]) / (1 - dropout[0])
            activity, masks = [x], []
            for W, b in zip(weights[:-1], biases[:-1]):
                h = np.maximum(activity[-1] @ W + b, 0)
                mask = (rng.random(h.shape) >= dropout[1]) / (1 - dropout[1])
                masks.append(mask * (h > 0))
                activity.append(h * mask)
            logits = activity[-1] @ weights[-1] + biases[-1]
            settled = mutual_inhibition(logits, inhibition) if output == "inhibited" else OUTPUTS[output](logits)
            deltas = [(settled - Y[rows]) / len(rows)]
            for layer in range(len(hidden) - 1, -1, -1):
                back = deltas[0] @ weights[layer + 1].T if feedback == "bp" else deltas[-1] @ G[layer]
                deltas.insert(0, back * masks[layer])
            step += 1
            if optimizer == "sgd" and len(rows) == 1:
                # per sample, a.T @ d is zero outside the rows of the active inputs: change only those rows (the
                # same products, the same weights, bit for bit)
                rate = lr * lr_decay ** (epoch - 1)
                for W, a, d in zip(weights, activity, deltas):
                    i = np.flatnonzero(a[0])
                    W[i] -= rate * np.outer(a[0, i], d[0])
                for b, d in zip(biases if bias else [], deltas):
                    b -= rate * d[0]
                continue
            grads = [a.T @ d for a, d in zip(activity, deltas)] + [d.sum(axis=0) for d in deltas]
            if optimizer == "sgd":
                rate = lr * lr_decay ** (epoch - 1)
                for param, grad in zip(params[:len(weights)] + (params[len(weights):] if bias else []), grads):
                    param -= rate * grad
                continue
            for param, grad, (m, v) in zip(params, grads, moments):
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad ** 2
                param -= lr * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
        out = X_test
        for W, b in zip(weights[:-1], biases[:-1]):
            out = np.maximum(out @ W + b, 0)
        prediction = np.argmax(out @ weights[-1] + biases[-1], axis=1)
        curve.append(round(float(np.mean(prediction == y_test)), 4))
        print(f"epoch {epoch}: test accuracy {curve[-1]:.4f}", flush=True)
    return curve


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--hidden", default="1280", help="hidden layer sizes, e.g. 1280 or 200,200")
    parser.add_argument("--dropout", default="0.2,0.3", help="input,hidden dropout rates (0,0: none)")
    parser.add_argument("--feedback", default="bp", choices=("bp", "random"), help="backprop or random backprop")
    parser.add_argument("--optimizer", default="adam", choices=("adam", "sgd"))
    parser.add_argument("--batch", type=int, default=100, help="samples per update (1: per-sample, as the circuits)")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate")
    parser.add_argument("--lr-decay", type=float, default=1.0, help="sgd: the rate times this after every epoch")
    parser.add_argument("--no-bias", action="store_true", help="no biases (sgd; the circuits have none)")
    parser.add_argument("--feedback-std", type=float, default=0.2, help="random feedback G uniform in "
                        "+-sqrt(std / (n_out + n_h)) (eRBP's authors: 7)")
    parser.add_argument("--input-counts", default=None, metavar="TS,MEAN_RATE",
                        help="train on binomial spike counts of the pixels over TS steps at MEAN_RATE x pixel/255, "
                             "over their mean (SSNN-BP's input noise: 100,0.4); default: the intensities")
    parser.add_argument("--output", default="softmax", choices=tuple(OUTPUTS),
                        help="the output error: softmax cross-entropy, mse (linear outputs), wta (SSNN-BP's count "
                             "error behind a hard winner-take-all output), or inhibited (the count error of units "
                             "that settle under SSNN-BP's mutual inhibition, 0.5 spike per rival spike)")
    parser.add_argument("--inhibition", type=float, default=INHIBITION,
                        help="--output inhibited: how much of a spike a rival's spike takes away, in [0, 1)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only")
    parser.add_argument("--limit-test", type=int, default=None, help="test on the first N test images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    hidden = tuple(int(n) for n in args.hidden.split(","))
    dropout = tuple(float(r) for r in args.dropout.split(","))
    input_counts = None
    if args.input_counts is not None:
        try:
            steps, mean_rate = args.input_counts.split(",")
            input_counts = (int(steps), float(mean_rate))
        except ValueError:
            parser.error(f"--input-counts {args.input_counts}: give TS,MEAN_RATE, e.g. 100,0.4")
        if input_counts[0] < 1 or not 0 < input_counts[1] <= 1:
            parser.error(f"--input-counts {args.input_counts}: TS must be a positive whole number and MEAN_RATE "
                         f"lie in (0, 1], e.g. 100,0.4")
    from spikingbp.data import load_dataset, one_hot
    from spikingbp.io import write_json

    if not 0 <= args.inhibition < 1:
        parser.error(f"--inhibition {args.inhibition}: give a value in [0, 1), e.g. {INHIBITION}")
    if args.inhibition != INHIBITION and args.output != "inhibited":
        parser.error("--inhibition goes with --output inhibited")
    for flag, value in (("--limit", args.limit), ("--limit-test", args.limit_test)):
        if value is not None and value < 1:
            parser.error(f"{flag} {value}: give a positive number of images, e.g. 10000")
    data = load_dataset(args.dataset, args.data_dir, limit_train=args.limit, limit_test=args.limit_test)
    X = data.x_train.reshape(data.n_train, -1) / 255.0
    X_test = data.x_test.reshape(data.n_test, -1) / 255.0
    started = time.perf_counter()
    if args.no_bias and args.optimizer != "sgd":
        parser.error("--no-bias goes with --optimizer sgd")
    curve = train(X, one_hot(data.y_train, data.n_classes), X_test, data.y_test, hidden, args.epochs, args.seed,
                  batch=args.batch, lr=args.lr, dropout=dropout, feedback=args.feedback, optimizer=args.optimizer,
                  bias=not args.no_bias, feedback_std=args.feedback_std, lr_decay=args.lr_decay,
                  input_counts=input_counts, output=args.output, inhibition=args.inhibition)
    sgd = args.optimizer == "sgd"
    network = "-".join(map(str, [X.shape[1], *hidden, data.n_classes]))
    summary = {"command": f"python benchmarks/ann_baseline.py --dataset {args.dataset}"
                          + (f" --data-dir {args.data_dir}" if args.data_dir else "") + f" --epochs {args.epochs}"
                          + f" --hidden {args.hidden} --dropout {args.dropout} --feedback {args.feedback}"
                          + (f" --optimizer sgd --batch {args.batch} --lr {args.lr} --lr-decay {args.lr_decay}"
                             + (" --no-bias" if args.no_bias else "") if sgd else "")
                          + (f" --feedback-std {args.feedback_std}" if args.feedback_std != 0.2 else "")
                          + (f" --input-counts {args.input_counts}" if input_counts else "")
                          + (f" --output {args.output}" if args.output != "softmax" else "")
                          + (f" --inhibition {args.inhibition}" if args.inhibition != INHIBITION else "")
                          + (f" --limit {args.limit}" if args.limit is not None else "")
                          + (f" --limit-test {args.limit_test}" if args.limit_test is not None else "")
                          + (f" --out {args.out}" if args.out else ""),
               "optimizer": args.optimizer, "batch": args.batch, "lr": args.lr, "bias": not args.no_bias,
               "network": network, "feedback": args.feedback, "dropout": dropout, "train": data.n_train,
               "test": data.n_test,
               "input_counts": list(input_counts) if input_counts else None, "output": args.output,
               "inhibition": args.inhibition if args.output == "inhibited" else None,
               "seed": args.seed, "test_accuracy_per_epoch": curve, "final_test_accuracy": curve[-1],
               "wall_seconds": round(time.perf_counter() - started, 1)}
    # one name per setting: the data, the network, the feedback, and what differs from Adam with dropout
    default = (f"ann_baseline_{args.dataset}{'' if args.data_dir is None else '_' + Path(args.data_dir).name}_{network}_"
               f"{args.feedback}{'' if any(dropout) else '_nodropout'}{'_sgd' + str(args.batch) if sgd else ''}"
               f"{'_lr' + format(args.lr, 'g') if sgd and args.lr != 0.01 else ''}"
               f"{'_decay' + format(args.lr_decay, 'g') if sgd and args.lr_decay != 1.0 else ''}"
               f"{'_counts' + str(input_counts[0]) if input_counts else ''}"
               f"{'' if args.output == 'softmax' else '_' + args.output}"
               f"{'' if args.inhibition == INHIBITION else format(args.inhibition, 'g')}"
               f"{'' if args.limit is None else '_first' + str(args.limit)}"
               f"{'' if args.limit_test is None else '_test' + str(args.limit_test)}.json")
    out = Path(args.out or REPO / "benchmarks" / "results" / default)
    write_json(out, summary, indent=1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
