"""The numpy reference of sBP (spikingbp.reference.sbp) against hand-computed values and the spec."""
import numpy as np
import pytest

from spikingbp.errors import ConfigError, DataError
from spikingbp.reference import sbp


def int_weights(rows):
    return np.array(rows, dtype=np.int32)


# --------------------------------------------------------------------------------------------------
# A 4-5-2 step worked out by hand
# --------------------------------------------------------------------------------------------------
#
# x = [1, 1, 1, 0], t = [1, 0]
#
# W1 (4 x 5), columns are hidden units j0..j4:
#     [ 200,  254,  200,  100, -254]
#     [ 200,  254,  200,  100,  100]
#     [ 200,  100,  150,  100,  100]
#     [   2,   -2,    4,    6,    8]     (input 3 is silent: this row never changes)
# a1 = rows 0+1+2 = [600, 608, 550, 300, -54]
# h  = a1 > 512                = [1, 1, 1, 0, 0]
# f1' = (a1 > 0) - (a1 > 1024) = [1, 1, 1, 1, 0]
#
# W2 (5 x 2):
#     [ 250,  252]
#     [ 254,  254]
#     [-200,   60]
#     [  10,  -20]
#     [ -30,   40]
# a2 = rows 0+1+2 = [250+254-200, 252+254+60] = [304, 566]
# o  = a2 > 512  = [0, 1];  o< = a2 > 0 = [1, 1];  o> = a2 > 1024 = [0, 0]
# d2+ = H(t - o) o<         = [1, 0]
# d2- = H(o - t) o< (1 - o>) = [0, 1]
# d2  = [1, -1]
#
# W2 rows 0..2 (h = 1) move by 2 * d2 = [+2, -2], then clip to +-254:
#     [ 252,  250]
#     [ 254,  252]     (254 + 2 = 256 clips to 254)
#     [-198,   58]
#     [  10,  -20]     (h = 0: unchanged)
#     [ -30,   40]
# W2_new @ d2 = [2, 2, -256, 30, -70] -> clip to +-1 -> [1, 1, -1, 1, -1], times f1' -> d1 = [1, 1, -1, 1, 0]
# (with the OLD W2 it would be [-2, 0, -260, 30, -70] -> [-1, 0, -1, 1, 0]: different in j0 and j1)
#
# W1 rows 0..2 (x = 1) move by 2 * d1 = [2, 2, -2, 2, 0], then clip:
#     [ 202,  254,  198,  102, -254]   (254 + 2 clips to 254)
#     [ 202,  254,  198,  102,  100]
#     [ 202,  102,  148,  102,  100]
#     [   2,   -2,    4,    6,    8]

HAND_X = np.array([1, 1, 1, 0], dtype=bool)
HAND_T = np.array([1, 0], dtype=bool)
HAND_W1 = int_weights([[200, 254, 200, 100, -254],
                       [200, 254, 200, 100, 100],
                       [200, 100, 150, 100, 100],
                       [2, -2, 4, 6, 8]])
HAND_W2 = int_weights([[250, 252], [254, 254], [-200, 60], [10, -20], [-30, 40]])


def test_hand_computed_step_intermediates():
    _, _, trace = sbp.train_step(HAND_X, HAND_T, HAND_W1, HAND_W2)
    np.testing.assert_array_equal(trace.a1, [600, 608, 550, 300, -54])
    np.testing.assert_array_equal(trace.h, [1, 1, 1, 0, 0])
    np.testing.assert_array_equal(trace.f1_prime, [1, 1, 1, 1, 0])
    np.testing.assert_array_equal(trace.a2, [304, 566])
    np.testing.assert_array_equal(trace.o, [0, 1])
    np.testing.assert_array_equal(trace.o_lt, [1, 1])
    np.testing.assert_array_equal(trace.o_gt, [0, 0])
    np.testing.assert_array_equal(trace.d2, [1, -1])
    np.testing.assert_array_equal(trace.d1, [1, 1, -1, 1, 0])


def test_hand_computed_step_weights():
    W1, W2, _ = sbp.train_step(HAND_X, HAND_T, HAND_W1, HAND_W2)
    np.testing.assert_array_equal(W2, [[252, 250], [254, 252], [-198, 58], [10, -20], [-30, 40]])
    np.testing.assert_array_equal(W1, [[202, 254, 198, 102, -254],
                                       [202, 254, 198, 102, 100],
                                       [202, 102, 148, 102, 100],
                                       [2, -2, 4, 6, 8]])
    assert W1.dtype == np.int32 and W2.dtype == np.int32


def test_d1_uses_the_updated_w2():
    _, W2_new, trace = sbp.train_step(HAND_X, HAND_T, HAND_W1, HAND_W2)
    with_old_w2 = np.clip(HAND_W2 @ trace.d2.astype(int), -1, 1) * trace.f1_prime
    with_new_w2 = np.clip(W2_new @ trace.d2.astype(int), -1, 1) * trace.f1_prime
    np.testing.assert_array_equal(with_old_w2, [-1, 0, -1, 1, 0])   # the case matters here ...
    np.testing.assert_array_equal(trace.d1, with_new_w2)            # ... and the update uses the new W2


def test_train_step_leaves_its_arguments_alone_unless_inplace():
    W1, W2 = HAND_W1.copy(), HAND_W2.copy()
    new_W1, new_W2, _ = sbp.train_step(HAND_X, HAND_T, W1, W2)
    np.testing.assert_array_equal(W1, HAND_W1)
    np.testing.assert_array_equal(W2, HAND_W2)
    same_W1, same_W2, _ = sbp.train_step(HAND_X, HAND_T, W1, W2, inplace=True)
    assert same_W1 is W1 and same_W2 is W2
    np.testing.assert_array_equal(W1, new_W1)
    np.testing.assert_array_equal(W2, new_W2)


# --------------------------------------------------------------------------------------------------
# Thresholds and the gating of d2 and f1'
# --------------------------------------------------------------------------------------------------

def column_summing_to(total, n_rows):
    """Even weights in [0, 254], as many 254s as fit, then the remainder, then zeros: they sum to total."""
    column = []
    for _ in range(n_rows):
        weight = min(254, total - sum(column))
        column.append(weight)
    assert sum(column) == total and all(w % 2 == 0 for w in column)
    return column


BOUNDARY_POTENTIALS = [0, 2, 512, 514, 1024, 1026]


def test_hidden_thresholds_at_their_boundaries():
    # 8 active inputs; column j of W1 sums to BOUNDARY_POTENTIALS[j], which is then a1[j].
    W1 = int_weights([column_summing_to(total, 8) for total in BOUNDARY_POTENTIALS]).T
    W2 = np.zeros((6, 2), dtype=np.int32)
    _, _, trace = sbp.train_step(np.ones(8, bool), np.array([1, 0], bool), W1, W2)
    np.testing.assert_array_equal(trace.h, [0, 0, 0, 1, 1, 1])         # a1 > 512
    np.testing.assert_array_equal(trace.f1_prime, [0, 1, 1, 1, 1, 0])  # 0 < a1 <= 1024


@pytest.mark.parametrize("target, d2_wanted", [
    (1, [0, 1, 1, 0, 0, 0]),    # t = 1: d2+ where o = 0 and a2 > 0
    (0, [0, 0, 0, -1, -1, 0]),  # t = 0: d2- where o = 1 and a2 <= 1024
])
def test_output_error_at_the_boundaries(target, d2_wanted):
    W1 = np.full((8, 8), 254, dtype=np.int32)       # every hidden unit spikes (a1 = 2032), f1' = 0
    W2 = int_weights([column_summing_to(total, 8) for total in BOUNDARY_POTENTIALS]).T   # a2 = the boundaries
    _, new_W2, trace = sbp.train_step(np.ones(8, bool), np.full(6, target, bool), W1, W2)
    np.testing.assert_array_equal(trace.o, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(trace.o_lt, [0, 1, 1, 1, 1, 1])
    np.testing.assert_array_equal(trace.o_gt, [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(trace.d2, d2_wanted)
    np.testing.assert_array_equal(new_W2 - W2, np.clip(W2 + 2 * np.array(d2_wanted), -254, 254) - W2)
    np.testing.assert_array_equal(trace.d1, np.zeros(8))  # f1' = 0 everywhere (a1 > 1024)


def test_no_error_no_change():
    x = np.array([1, 0, 1], bool)
    W1 = int_weights([[254, 0], [2, 2], [254, 0]])      # a1 = [508, 0]: h = [0, 0]
    W2 = int_weights([[100, -100], [4, 6]])
    new_W1, new_W2, trace = sbp.train_step(x, np.array([0, 1], bool), W1, W2)
    np.testing.assert_array_equal(trace.a2, [0, 0])      # no hidden spike: a2 = 0, so d2 = 0 whatever t is
    np.testing.assert_array_equal(trace.d2, [0, 0])
    np.testing.assert_array_equal(new_W1, W1)
    np.testing.assert_array_equal(new_W2, W2)


# --------------------------------------------------------------------------------------------------
# Against a literal transcription of the spec, on random data near the clip limits
# --------------------------------------------------------------------------------------------------

def spec_step(x, t, W1, W2):
    """The spec's formulas, transcribed literally with dense int64 arithmetic."""
    H = lambda condition: condition.astype(np.int64)  # noqa: E731
    x, t = x.astype(np.int64), t.astype(np.int64)
    a1 = x @ W1
    h = H(a1 > 512)
    f1 = H(a1 > 0) - H(a1 > 1024)
    a2 = h @ W2
    o, o_lt, o_gt = H(a2 > 512), H(a2 > 0), H(a2 > 1024)
    d2 = H(t - o > 0) * o_lt - H(o - t > 0) * o_lt * (1 - o_gt)
    W2 = np.clip(W2 + 2 * np.outer(h, d2), -254, 254)
    d1 = np.clip((W2 @ d2) * f1, -1, 1)
    W1 = np.clip(W1 + 2 * np.outer(x, d1), -254, 254)
    return W1, W2, d2, d1


def test_matches_a_literal_transcription_of_the_spec():
    rng = np.random.default_rng(7)
    n_in, n_hidden, n_out = 30, 12, 4
    W1 = rng.choice([-254, -252, -2, 0, 2, 100, 252, 254], size=(n_in, n_hidden)).astype(np.int32)
    W2 = rng.choice([-254, -252, -40, 0, 40, 252, 254], size=(n_hidden, n_out)).astype(np.int32)
    spec_W1, spec_W2 = W1.astype(np.int64), W2.astype(np.int64)
    changed = 0
    for _ in range(300):
        x = rng.random(n_in) < 0.3
        t = np.eye(n_out, dtype=bool)[rng.integers(n_out)]
        spec_W1, spec_W2, d2, d1 = spec_step(x, t, spec_W1, spec_W2)
        W1, W2, trace = sbp.train_step(x, t, W1, W2, inplace=True)
        np.testing.assert_array_equal(trace.d2, d2)
        np.testing.assert_array_equal(trace.d1, d1)
        np.testing.assert_array_equal(W1, spec_W1)
        np.testing.assert_array_equal(W2, spec_W2)
        changed += bool(d1.any())
        for weights in (W1, W2):
            assert np.all(weights % 2 == 0) and np.abs(weights).max() <= 254
    assert changed > 30  # the comparison exercised the backward pass


def test_train_epoch_equals_repeated_train_step():
    rng = np.random.default_rng(3)
    X = rng.random((40, 20)) < 0.4
    T = np.eye(5, dtype=bool)[rng.integers(5, size=40)]
    W1, W2 = sbp.init_weights(20, 16, 5, rng=1)
    order = rng.permutation(40)
    step_W1, step_W2 = W1.copy(), W2.copy()
    for index in order:
        step_W1, step_W2, _ = sbp.train_step(X[index], T[index], step_W1, step_W2)
    seen = []
    epoch_W1, epoch_W2 = sbp.train_epoch(X, T, W1.copy(), W2.copy(), order=order, on_sample=seen.append)
    np.testing.assert_array_equal(epoch_W1, step_W1)
    np.testing.assert_array_equal(epoch_W2, step_W2)
    assert seen == list(range(40))


# --------------------------------------------------------------------------------------------------
# Forward pass, prediction and accuracy
# --------------------------------------------------------------------------------------------------

def test_forward_single_sample_equals_batch_row():
    rng = np.random.default_rng(0)
    W1, W2 = sbp.init_weights(50, 30, 10, rng=rng)
    X = rng.random((9, 50)) < 0.5
    batch = sbp.forward(X, W1, W2)
    assert batch.a1.shape == (9, 30) and batch.a2.shape == (9, 10) and batch.a1.dtype == np.int64
    for row in range(9):
        single = sbp.forward(X[row], W1, W2)
        for name in single._fields:
            np.testing.assert_array_equal(getattr(single, name), getattr(batch, name)[row])
    np.testing.assert_array_equal(batch.a1, X.astype(np.int64) @ W1.astype(np.int64))


def test_predict_and_accuracy_three_ways():
    # 1 input, 1 hidden unit that always spikes (W1 = 254 * 3 via three inputs), outputs with chosen a2.
    W1 = int_weights([[254], [254], [254]])
    W2 = int_weights([[600, 600, 100]])                  # a2 = [600, 600, 100]: o = [1, 1, 0]
    X = np.ones((2, 3), bool)
    prediction = sbp.predict(X, W1, W2)
    np.testing.assert_array_equal(prediction.output_bits, [[1, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(prediction.argmax_spikes, [0, 0])
    np.testing.assert_array_equal(prediction.argmax_potential, [0, 0])
    T = np.array([[1, 0, 0], [0, 1, 0]], bool)
    assert sbp.accuracy(X, T, W1, W2) == (0.0, 0.5, 0.5)
    W2_one = int_weights([[600, 100, 100]])              # o = [1, 0, 0]: all bits right for the first sample
    assert sbp.accuracy(X, T, W1, W2_one) == (0.5, 0.5, 0.5)
    for bad in ([[0, 0, 0], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]]):  # all-zero and multi-hot rows
        with pytest.raises(DataError, match="not one-hot"):
            sbp.accuracy(X, np.array(bad, bool), W1, W2)
        with pytest.raises(DataError, match="not one-hot"):
            sbp.train_epoch(X, np.array(bad, bool), W1, W2)


# --------------------------------------------------------------------------------------------------
# Initialisation and argument checks
# --------------------------------------------------------------------------------------------------

def test_init_weights_properties():
    W1, W2 = sbp.init_weights(400, 400, 10, rng=np.random.default_rng(0))
    assert W1.shape == (400, 400) and W2.shape == (400, 10)
    for weights, fan_in, fan_out in ((W1, 400, 400), (W2, 400, 10)):
        assert weights.dtype == np.int32
        assert np.all(weights % 2 == 0)
        assert np.abs(weights).max() <= 240
        expected_std = np.sqrt(2 / (fan_in + fan_out)) * 1024          # 51.2 for W1, 71.5 for W2
        assert abs(weights.std() / expected_std - 1) < 0.05            # rounding toward zero shrinks it ~2 %
    again = sbp.init_weights(400, 400, 10, rng=0)
    np.testing.assert_array_equal(again[0], sbp.init_weights(400, 400, 10, rng=0)[0])


def test_init_weights_rounds_toward_zero_and_clips():
    W1, _ = sbp.init_weights(2000, 1, 1, rng=0)     # std = sqrt(2/2001) * 1024 = 32.4
    raw = np.random.default_rng(0).standard_normal((2000, 1)) * np.sqrt(2 / 2001) * 1024
    expected = np.trunc(np.clip(raw, -240, 240) / 2) * 2
    np.testing.assert_array_equal(W1, expected)
    # A 1-1-1 network has std 1024 per layer: most draws land on the +-240 clip, none beyond it.
    tiny = np.concatenate([np.concatenate(sbp.init_weights(1, 1, 1, rng=seed)).ravel() for seed in range(50)])
    assert np.abs(tiny).max() == 240
    assert np.mean(np.abs(tiny) == 240) > 0.6


def test_argument_errors():
    W1, W2 = sbp.init_weights(4, 3, 2, rng=0)
    with pytest.raises(ConfigError, match="hidden size"):
        sbp.forward(np.ones(4, bool), W1, W2.T)
    with pytest.raises(ConfigError, match="inputs"):
        sbp.forward(np.ones(5, bool), W1, W2)
    with pytest.raises(DataError, match="binar"):
        sbp.train_step(np.array([0, 2, 0, 1]), np.array([1, 0]), W1, W2)
    with pytest.raises(ConfigError, match="integers"):
        sbp.train_step(np.ones(4, bool), np.array([1, 0]), W1.astype(float), W2)
    with pytest.raises(ConfigError, match="int32"):
        sbp.train_step(np.ones(4, bool), np.array([1, 0]), W1.astype(np.int64), W2, inplace=True)
    with pytest.raises(ConfigError, match="n_in=0 must be at least 1"):
        sbp.init_weights(0, 3, 2, rng=0)


# --------------------------------------------------------------------------------------------------
# Learning on a real (small) dataset
# --------------------------------------------------------------------------------------------------

def test_learns_digits():
    """64-100-10 on scikit-learn's 8x8 digits for 3 epochs, seed 0: measured test accuracy 0.853 by argmax
    of potential, 0.728 by argmax of spikes, 0.681 all bits right; chance is 0.1."""
    from spikingbp.data import binarize, load_dataset, one_hot
    from spikingbp.training import epoch_order

    digits = load_dataset("digits")
    X_train, X_test = binarize(digits.x_train), binarize(digits.x_test)
    T_train, T_test = one_hot(digits.y_train, 10, dtype=bool), one_hot(digits.y_test, 10, dtype=bool)
    W1, W2 = sbp.init_weights(64, 100, 10, rng=0)
    for epoch in range(1, 4):
        W1, W2 = sbp.train_epoch(X_train, T_train, W1, W2, order=epoch_order(0, epoch, len(X_train)))
    result = sbp.accuracy(X_test, T_test, W1, W2)
    assert result.argmax_potential > 0.5
    assert result.argmax_spikes > 0.5
