"""spikingbp.data: IDX files, the dataset registry and the spike encoders."""
import gzip
import hashlib
import struct
import warnings

import numpy as np
import pytest

from spikingbp.data import (ENV_VAR, Dataset, binarize, dataset_names, find_data_dir, front_loaded_rates,
                            front_loaded_trains, load_dataset, one_hot, poisson_trains, rate_encode, read_idx,
                            write_idx)
from spikingbp.data.datasets import IDX_FILES, DatasetMismatchWarning
from spikingbp.errors import ConfigError, DataError

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


def tiny_idx_dir(directory, n_train=6, n_test=4, gz=True, shape=(4, 4), seed=0, on=0.19, dotted=False):
    """A directory holding the four IDX files of a tiny random 10-class dataset whose images have a
    fraction ``on`` of non-zero pixels (0.19: like MNIST digits, 0.5: like Fashion-MNIST)."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".gz" if gz else ""

    def images(n):
        return np.where(rng.random((n,) + shape) < on, rng.integers(1, 256, (n,) + shape), 0).astype(np.uint8)

    arrays = {
        "train_images": images(n_train),
        "train_labels": rng.integers(0, 10, n_train).astype(np.uint8),
        "test_images": images(n_test),
        "test_labels": rng.integers(0, 10, n_test).astype(np.uint8),
    }
    for role, array in arrays.items():
        name = IDX_FILES[role].replace("-idx", ".idx") if dotted else IDX_FILES[role]
        write_idx(directory / f"{name}{suffix}", array)
    return directory


@pytest.fixture
def no_env(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


# ---------------------------------------------------------------- IDX files

@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("name", ["array-idx", "array-idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype) if np.dtype(dtype).kind != "u" \
        else np.arange(30, dtype=dtype).reshape(2, 3, 5)
    path = write_idx(tmp_path / name, array)
    loaded = read_idx(path)
    assert loaded.dtype == np.dtype(dtype)
    assert loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)
    assert (path.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")


def test_idx_layout_is_standard_big_endian(tmp_path):
    path = write_idx(tmp_path / "labels", np.array([1, 258], dtype=np.int32))
    assert path.read_bytes() == bytes([0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 1, 2])


def test_gzip_is_detected_by_magic_not_name(tmp_path):
    array = np.arange(12, dtype=np.uint8).reshape(3, 4)
    path = write_idx(tmp_path / "no-extension", array, compress=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(path), array)


def test_write_leaves_no_temporary_files(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((2, 2), np.uint8))
    write_idx(tmp_path / "a.gz", np.ones((3, 2), np.uint8))
    assert [p.name for p in tmp_path.iterdir()] == ["a.gz"]
    assert read_idx(tmp_path / "a.gz").shape == (3, 2)


def test_write_rejects_unsupported_dtype(tmp_path):
    with pytest.raises(ConfigError, match="uint8"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def _valid_bytes():
    return bytes([0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3]) + bytes(range(6))


@pytest.mark.parametrize("content, problem", [
    (b"\x01\x02" + _valid_bytes()[2:], "magic"),
    (bytes([0, 0, 0x07]) + _valid_bytes()[3:], "dtype code 0x07"),
    (_valid_bytes()[:-1], "truncated"),
    (_valid_bytes()[:9], "truncated"),
    (_valid_bytes()[:2], "truncated"),
    (_valid_bytes() + b"\x00\x00", "trailing garbage"),
    (b"\x1f\x8b" + b"not really gzip data", "gzip"),
    # mtime=0: the header's time is part of the test's id, which every pytest-xdist worker must collect alike
    (gzip.compress(_valid_bytes(), mtime=0)[:-6], "gzip"),
    (gzip.compress(_valid_bytes()[:-3], mtime=0), "truncated"),
    (bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 65536, 65536, 65536) + bytes(8), "truncated or its header is corrupt"),
    (bytes([0, 0, 0x08, 4]) + struct.pack(">4I", 65536, 65536, 65536, 65536), "truncated or its header is corrupt"),
    (bytes([0, 0, 0x08, 2, 0, 0, 0, 0, 0, 0, 0, 3]), "dimension of size 0"),
])
def test_corrupt_idx_raises_data_error_naming_file(tmp_path, content, problem):
    path = tmp_path / "corrupt-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataError, match=problem) as error:
        read_idx(path)
    assert str(path) in str(error.value)


def test_missing_idx_file(tmp_path):
    with pytest.raises(DataError, match="does not exist") as error:
        read_idx(tmp_path / "absent-idx3-ubyte")
    assert "absent-idx3-ubyte" in str(error.value)


# ---------------------------------------------------------------- dataset registry

def test_dataset_names_and_unknown_name():
    assert dataset_names() == ("digits", "mnist", "fashion-mnist")
    with pytest.raises(ConfigError, match="digits, mnist, fashion-mnist"):
        load_dataset("cifar10")


def test_digits_shapes_and_scaling():
    data = load_dataset("digits")
    assert isinstance(data, Dataset)
    assert data.x_train.shape == (1437, 8, 8) and data.x_test.shape == (360, 8, 8)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int64
    assert data.image_shape == (8, 8) and data.n_classes == 10
    allowed = {round(v * 255 / 16) for v in range(17)}
    assert set(np.unique(np.concatenate([data.x_train, data.x_test]))) <= allowed
    assert data.x_train.max() == 255


def test_digits_split_is_deterministic_and_stratified():
    first, again, other = load_dataset("digits"), load_dataset("digits", split_seed=0), \
        load_dataset("digits", split_seed=1)
    np.testing.assert_array_equal(first.x_train, again.x_train)
    np.testing.assert_array_equal(first.y_test, again.y_test)
    assert not np.array_equal(first.y_test, other.y_test)
    totals = np.bincount(np.concatenate([first.y_train, first.y_test]), minlength=10)
    test_counts = np.bincount(first.y_test, minlength=10)
    assert np.all(np.abs(test_counts - 0.2 * totals) <= 1)


def test_limits_keep_the_first_samples():
    full, limited = load_dataset("digits"), load_dataset("digits", limit_train=10, limit_test=3)
    np.testing.assert_array_equal(limited.x_train, full.x_train[:10])
    np.testing.assert_array_equal(limited.y_test, full.y_test[:3])
    with pytest.raises(ConfigError, match="limit_train"):
        load_dataset("digits", limit_train=0)
    with pytest.raises(ConfigError, match="split_seed"):
        load_dataset("digits", split_seed=-1)


def test_mnist_10k(mnist_dir):
    data = load_dataset("mnist", data_dir=mnist_dir)
    assert (data.n_train, data.n_test) == (8004, 1996)
    assert data.x_train.shape[1:] == (28, 28) and data.image_shape == (28, 28)
    assert data.x_train.dtype == np.uint8 and data.y_test.dtype == np.int64
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))
    pixels = binarize(data.x_test, crop=4)
    assert pixels.shape == (1996, 400) and pixels.dtype == bool
    assert 0.05 < pixels.mean() < 0.5


def test_fashion_mnist(fashion_dir):
    data = load_dataset("fashion-mnist", data_dir=fashion_dir)
    assert (data.n_train, data.n_test) == (60000, 10000)
    assert data.image_shape == (28, 28)
    assert np.all(np.bincount(data.y_test) == 1000)


def test_env_var_may_name_the_idx_directory(tmp_path, monkeypatch):
    directory = tiny_idx_dir(tmp_path / "somewhere")
    monkeypatch.setenv(ENV_VAR, str(directory))
    assert find_data_dir("mnist") == directory
    assert load_dataset("mnist").n_train == 6


def test_env_var_may_name_a_parent(tmp_path, monkeypatch):
    tiny_idx_dir(tmp_path / "mnist-10k", n_train=5)
    tiny_idx_dir(tmp_path / "fashion-mnist", n_train=7, gz=False, on=0.5)
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert load_dataset("mnist").n_train == 5
    assert load_dataset("fashion_mnist").n_train == 7
    tiny_idx_dir(tmp_path / "mnist", n_train=9)
    assert find_data_dir("mnist") == tmp_path / "mnist"
    assert load_dataset("mnist").n_train == 9


def test_env_var_parent_of_shared_data(mnist_dir, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(mnist_dir.parent))
    assert load_dataset("mnist", limit_test=10).n_test == 10


def test_data_dir_argument_wins_over_env(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tiny_idx_dir(tmp_path / "env", n_train=3)))
    chosen = tiny_idx_dir(tmp_path / "arg", n_train=8)
    assert load_dataset("mnist", data_dir=chosen).n_train == 8
    assert find_data_dir("mnist", data_dir=tmp_path / "nowhere") is None


def test_mixed_plain_and_gzip_names(tmp_path, no_env):
    directory = tiny_idx_dir(tmp_path, gz=False)
    plain = directory / IDX_FILES["test_images"]
    write_idx(directory / f"{plain.name}.gz", read_idx(plain))
    plain.unlink()
    assert load_dataset("mnist", data_dir=directory).n_test == 4


def test_torchvision_layout_and_dotted_names(tmp_path, no_env):
    tiny_idx_dir(tmp_path / "MNIST" / "raw", n_train=5, dotted=True)         # torchvision, mirror names
    tiny_idx_dir(tmp_path / "FashionMNIST" / "raw", n_train=7, gz=False, on=0.5)
    assert find_data_dir("mnist", tmp_path) == tmp_path / "MNIST" / "raw"
    assert load_dataset("mnist", data_dir=tmp_path).n_train == 5
    assert load_dataset("fashion-mnist", data_dir=tmp_path).n_train == 7


def test_not_found_lists_the_files_seen(tmp_path, no_env):
    (tmp_path / "train-images.idx3").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("")
    with pytest.raises(DataError, match=r"it holds: notes.txt, train-images.idx3\)"):
        load_dataset("mnist", data_dir=tmp_path)


def test_files_of_another_dataset_are_named(tmp_path, no_env):
    digits_like = tiny_idx_dir(tmp_path / "a", n_train=40, on=0.19)
    clothes_like = tiny_idx_dir(tmp_path / "b", n_train=40, on=0.5)
    with pytest.warns(DatasetMismatchWarning, match="look like mnist, not fashion-mnist"):
        load_dataset("fashion-mnist", data_dir=digits_like)
    with pytest.warns(DatasetMismatchWarning, match="look like fashion-mnist, not mnist"):
        load_dataset("mnist", data_dir=clothes_like)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the matching pairs pass silently
        load_dataset("mnist", data_dir=digits_like)
        load_dataset("fashion-mnist", data_dir=clothes_like)


def test_published_checksums_identify_the_dataset(tmp_path, no_env, monkeypatch):
    import spikingbp.data.datasets as datasets

    directory = tiny_idx_dir(tmp_path, n_train=40, on=0.5)  # looks like clothes, but its checksum says MNIST
    checksum = hashlib.md5((directory / f"{IDX_FILES['train_images']}.gz").read_bytes()).hexdigest()
    monkeypatch.setitem(datasets.PUBLISHED_MD5, "mnist", {checksum})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_dataset("mnist", data_dir=directory)
    with pytest.warns(DatasetMismatchWarning, match="are the published mnist files"):
        load_dataset("fashion-mnist", data_dir=directory)


def test_digits_refuses_a_data_dir(tmp_path):
    with pytest.raises(ConfigError, match="digits is embedded and reads no data directory"):
        load_dataset("digits", data_dir=tmp_path)


def test_find_data_dir_without_any_location(no_env):
    assert find_data_dir("mnist") is None
    assert find_data_dir("digits") is None


def test_missing_directory_names_the_fix(tmp_path, no_env):
    with pytest.raises(DataError, match=ENV_VAR) as error:
        load_dataset("mnist")
    assert "--data-dir" in str(error.value)
    with pytest.raises(DataError, match=ENV_VAR) as error:
        load_dataset("fashion-mnist", data_dir=tmp_path / "absent")
    assert str(tmp_path / "absent") in str(error.value)


def test_missing_file_is_named(tmp_path, no_env):
    directory = tiny_idx_dir(tmp_path)
    (directory / f"{IDX_FILES['train_labels']}.gz").unlink()
    with pytest.raises(DataError, match="missing train-labels-idx1-ubyte"):
        load_dataset("mnist", data_dir=directory)


def test_mismatched_counts_name_both_files(tmp_path):
    directory = tiny_idx_dir(tmp_path, n_train=5)
    labels = directory / f"{IDX_FILES['train_labels']}.gz"
    write_idx(labels, np.zeros(4, np.uint8))
    with pytest.raises(DataError, match="4 labels") as error:
        load_dataset("mnist", data_dir=directory)
    assert str(labels) in str(error.value)
    assert str(directory / f"{IDX_FILES['train_images']}.gz") in str(error.value)


def test_labels_out_of_range(tmp_path):
    directory = tiny_idx_dir(tmp_path)
    write_idx(directory / f"{IDX_FILES['test_labels']}.gz", np.array([0, 1, 2, 10], np.uint8))
    with pytest.raises(DataError, match="outside 0..9"):
        load_dataset("mnist", data_dir=directory)


def test_images_must_be_3d(tmp_path):
    directory = tiny_idx_dir(tmp_path)
    images = directory / f"{IDX_FILES['train_images']}.gz"
    write_idx(images, np.zeros((6, 16), np.uint8))
    with pytest.raises(DataError, match="3-d") as error:
        load_dataset("mnist", data_dir=directory)
    assert str(images) in str(error.value)


def test_corrupt_file_in_dataset_is_named(tmp_path):
    directory = tiny_idx_dir(tmp_path)
    images = directory / f"{IDX_FILES['test_images']}.gz"
    images.write_bytes(images.read_bytes()[:-10])
    with pytest.raises(DataError) as error:
        load_dataset("mnist", data_dir=directory)
    assert str(images) in str(error.value)


# ---------------------------------------------------------------- encoders

def test_binarize_threshold_crop_and_downsample():
    images = np.zeros((2, 6, 6), np.uint8)
    images[0, 1, 1] = 127
    images[0, 2, 2] = 128
    assert binarize(images).shape == (2, 36)
    assert binarize(images)[0].sum() == 1 and binarize(images)[0, 2 * 6 + 2]
    assert binarize(images, crop=1).shape == (2, 16)
    images[1, 0:2, 0:2] = [[255, 255], [255, 0]]   # block mean 191.25
    images[1, 0:2, 2:4] = [[255, 0], [0, 0]]       # block mean 63.75
    down = binarize(images, downsample=2)
    assert down.shape == (2, 9)
    np.testing.assert_array_equal(down[1], [True] + [False] * 8)


def test_binarize_rejects_bad_arguments():
    images = np.zeros((1, 28, 28), np.uint8)
    with pytest.raises(ConfigError, match="downsample=3"):
        binarize(images, downsample=3)
    with pytest.raises(ConfigError, match="crop"):
        binarize(images, crop=14)
    with pytest.raises(ConfigError, match="images"):
        binarize(images[0])
    with pytest.raises(ConfigError, match="NaN"):
        binarize(np.full((1, 2, 2), np.nan))
    assert binarize(images, crop=4, downsample=5).shape == (1, 16)


def test_rate_encode():
    images = np.array([[[0, 51], [255, 102]]], np.uint8)
    rates = rate_encode(images, max_rate=100.0)
    np.testing.assert_allclose(rates, [[0, 20, 100, 40]])
    with pytest.raises(ConfigError, match="max_rate"):
        rate_encode(images, 0)
    with pytest.raises(ConfigError, match="0..255"):
        rate_encode(np.array([[300.0]]), 1.0)


def test_front_loaded_rates_average_and_shape():
    intensity = np.array([[0.0, 0.5, 1.0]])
    rates = front_loaded_rates(intensity, n_steps=50, mean_rate=0.4)
    assert rates.shape == (50, 1, 3)
    np.testing.assert_allclose(rates.mean(axis=0), 0.4 * intensity)
    assert np.all(np.diff(rates[:, 0, 2]) < 0)
    assert rates[0, 0, 2] == pytest.approx(0.8, abs=0.01) and rates[-1, 0, 2] == pytest.approx(0, abs=0.01)


def test_front_loaded_trains_empirical_rate():
    intensity = np.tile([0.0, 0.25, 0.5, 1.0], (2000, 1))
    trains = front_loaded_trains(intensity, n_steps=100, mean_rate=0.4, rng=3)
    assert trains.shape == (100, 2000, 4) and trains.dtype == bool
    np.testing.assert_allclose(trains.mean(axis=(0, 1)), 0.4 * intensity[0], atol=0.005)
    first, second = trains[:50].mean(axis=(0, 1)), trains[50:].mean(axis=(0, 1))
    assert np.all(first[1:] > second[1:])
    np.testing.assert_allclose(first[3] / second[3], 3.0, rtol=0.05)


def test_seeds_reproduce():
    rates = np.full((3, 20), 0.3)
    np.testing.assert_array_equal(poisson_trains(rates, 10, 7), poisson_trains(rates, 10, 7))
    assert not np.array_equal(poisson_trains(rates, 10, 7), poisson_trains(rates, 10, 8))
    np.testing.assert_array_equal(poisson_trains(rates, 10, np.random.default_rng(7)), poisson_trains(rates, 10, 7))


def test_poisson_trains_shapes_and_extremes():
    assert poisson_trains(np.zeros(5), 4, 0).shape == (4, 5)
    assert poisson_trains(np.ones((2, 5)), 4, 0).all()
    assert not poisson_trains(np.zeros((2, 5)), 4, 0).any()
    varying = front_loaded_rates(np.ones(5), 8, 0.5)
    assert poisson_trains(varying, 8, 0, time_varying=True).shape == (8, 5)


@pytest.mark.parametrize("call, argument", [
    (lambda: poisson_trains(np.full(3, 1.5), 5, 0), "rates_per_step"),
    (lambda: poisson_trains(np.array([0.1, np.nan]), 5, 0), "NaN"),
    (lambda: poisson_trains(np.full(3, 0.1), 0, 0), "n_steps"),
    (lambda: poisson_trains(np.full((2, 2, 2), 0.1), 5, 0), "time_varying"),
    (lambda: poisson_trains(np.full((4, 3), 0.1), 5, 0, time_varying=True), "n_steps=5"),
    (lambda: poisson_trains(np.full(3, 0.1), 5, "seed"), "rng"),
    (lambda: front_loaded_rates(np.full(3, 2.0), 5, 0.4), "intensity"),
    (lambda: front_loaded_rates(np.full(3, 0.5), -1, 0.4), "n_steps"),
    (lambda: front_loaded_rates(np.full(3, 0.5), 5, 0.6), "mean_rate"),
    (lambda: one_hot(np.array([0, 3]), 3), "labels"),
    (lambda: one_hot(np.array([[0]]), 3), "labels"),
    (lambda: one_hot(np.array([0.0]), 3), "labels"),
    (lambda: one_hot(np.array([0]), 0), "n_classes"),
])
def test_bad_encoder_inputs_raise_config_error(call, argument):
    with pytest.raises(ConfigError, match=argument):
        call()


def test_one_hot():
    encoded = one_hot(np.array([2, 0]), 3)
    np.testing.assert_array_equal(encoded, [[0, 0, 1], [1, 0, 0]])
    assert one_hot(np.array([], dtype=int), 4).shape == (0, 4)
