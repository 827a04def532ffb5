"""Named datasets of labelled grey-scale images: uint8 images (N, H, W) and int64 labels.

``digits``         scikit-learn's bundled 8x8 digits (1,797 images), needs no download; split 80/20 per class
                   with ``split_seed``.
``mnist``          a directory of the four standard IDX files (28x28, 10 classes), e.g. the full MNIST or the
                   10,000-image ``mnist-10k`` subset.
``fashion-mnist``  the same for Fashion-MNIST.

Where an IDX dataset is looked for (the first match wins; a match is a directory holding all four files
``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
``t10k-labels-idx1-ubyte``, each plain or with ``.gz``):

1. the ``data_dir`` argument (``--data-dir`` on the command line), if given; then nothing else;
2. otherwise the directory in the ``SPIKINGBP_DATA`` environment variable.

The chosen directory may be the IDX directory itself or a parent of it: for ``mnist`` its subdirectories
``mnist/``, ``mnist-10k/`` and torchvision's ``MNIST/raw/`` are tried, for ``fashion-mnist``
``fashion-mnist/`` and ``FashionMNIST/raw/``. File names may also use the dotted form some mirrors use
(``train-images.idx3-ubyte``).

``digits`` is embedded and reads no directory: a ``data_dir`` given with it is refused. A loaded IDX
dataset is checked to be the one named: the published gzip files of MNIST and Fashion-MNIST are known by
their MD5 checksums, and any other copy by its images (MNIST digits have about 19 % non-zero pixels,
Fashion-MNIST clothes about 50 %); a mismatch is a ``DatasetMismatchWarning``.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spikingbp.data.idx import read_idx
from spikingbp.checks import optional_whole, whole
from spikingbp.errors import ConfigError, DataError

ENV_VAR = "SPIKINGBP_DATA"

#: role -> file name without ``.gz``, in the order the files are reported.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: IDX dataset name -> subdirectories of a parent directory that may hold it, most preferred first.
IDX_SUBDIRS = {
    "mnist": ("mnist", "mnist-10k", "MNIST/raw"),
    "fashion-mnist": ("fashion-mnist", "FashionMNIST/raw"),
}

#: MD5 checksums of the published gzip files (as torchvision and the datasets' own pages list them).
PUBLISHED_MD5 = {
    "mnist": {"f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
              "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"},
    "fashion-mnist": {"8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                      "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"},
}
#: Fraction of non-zero pixels that separates MNIST digits (about 0.19) from Fashion-MNIST (about 0.50).
NONZERO_FRACTION_SPLIT = 0.33

EMBEDDED = ("digits",)
N_CLASSES = 10


class DatasetMismatchWarning(UserWarning):
    """The files of an IDX dataset look like another dataset than the one named."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A train/test split of labelled images: uint8 images (N, H, W), int64 labels in 0..n_classes-1."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    image_shape: tuple[int, int]
    n_classes: int
    directory: Path | None = None   #: where its IDX files were read (None: embedded)

    @property
    def n_train(self) -> int:
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        return len(self.y_test)

    def __repr__(self) -> str:
        height, width = self.image_shape
        return (f"Dataset({self.name!r}, {self.n_train} train / {self.n_test} test, {height}x{width}, "
                f"{self.n_classes} classes)")


def dataset_names() -> tuple[str, ...]:
    """Every name ``load_dataset`` accepts."""
    return EMBEDDED + tuple(IDX_SUBDIRS)


def find_data_dir(name: str, data_dir=None) -> Path | None:
    """The directory holding the four IDX files of ``name``, or ``None`` if there is none (and for the
    embedded ``digits``, which needs no directory). The lookup order is in the module docstring."""
    name = _checked_name(name)
    if name in EMBEDDED:
        return None
    for directory in _candidate_dirs(name, data_dir):
        if all(_idx_file(directory, role) for role in IDX_FILES):
            return directory
    return None


def load_dataset(name: str, data_dir=None, split_seed: int = 0, *, limit_train: int | None = None,
                 limit_test: int | None = None) -> Dataset:
    """Load dataset ``name`` (see ``dataset_names()``).

    ``data_dir`` locates an IDX dataset (see the module docstring); ``split_seed`` seeds the stratified
    80/20 split of ``digits`` (the IDX datasets come split). ``limit_train`` / ``limit_test`` keep only
    the first N samples of each part.
    """
    name = _checked_name(name)
    limit_train = _checked_limit(limit_train, "limit_train")
    limit_test = _checked_limit(limit_test, "limit_test")
    if name in EMBEDDED and data_dir is not None:
        raise ConfigError(f"{name} is embedded and reads no data directory, but data_dir={data_dir} was given; "
                          f"drop --data-dir, or name the dataset that lies there (--dataset mnist or fashion-mnist)")
    if name == "digits":
        dataset = _load_digits(_checked_seed(split_seed))
    else:
        dataset = _load_idx_dataset(name, data_dir)
    return Dataset(
        name=dataset.name,
        x_train=dataset.x_train[:limit_train], y_train=dataset.y_train[:limit_train],
        x_test=dataset.x_test[:limit_test], y_test=dataset.y_test[:limit_test],
        image_shape=dataset.image_shape, n_classes=dataset.n_classes, directory=dataset.directory)


def _load_digits(split_seed: int) -> Dataset:
    """scikit-learn's 8x8 digits, pixels 0..16 scaled to 0..255, split 80/20 per class."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * 255 / 16).astype(np.uint8)
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, stratify=labels, random_state=split_seed)
    return Dataset("digits", x_train, y_train, x_test, y_test, images.shape[1:], N_CLASSES)


def _load_idx_dataset(name: str, data_dir) -> Dataset:
    directory = find_data_dir(name, data_dir)
    if directory is None:
        raise DataError(_not_found_message(name, data_dir))
    paths = {role: _idx_file(directory, role) for role in IDX_FILES}
    x_train = _images(paths["train_images"])
    y_train = _labels(paths["train_labels"], len(x_train), paths["train_images"])
    x_test = _images(paths["test_images"])
    y_test = _labels(paths["test_labels"], len(x_test), paths["test_images"])
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DataError(
            f"{name}: train images {paths['train_images']} are {x_train.shape[1:]} but test images "
            f"{paths['test_images']} are {x_test.shape[1:]}; both parts must come from the same dataset")
    mismatch = _identity_mismatch(name, paths, x_train)
    if mismatch:
        warnings.warn(mismatch, DatasetMismatchWarning, stacklevel=3)
    return Dataset(name, x_train, y_train, x_test, y_test, x_train.shape[1:], N_CLASSES, Path(directory).resolve())


def _identity_mismatch(name: str, paths: dict, x_train: np.ndarray) -> str | None:
    """Why the files in ``paths`` are not dataset ``name`` (None: they are, as far as can be told)."""
    checksums = {_md5(path) for path in paths.values() if path.suffix == ".gz"}
    for other, known in PUBLISHED_MD5.items():
        if checksums & known:
            if other == name:
                return None
            return (f"the files in {paths['train_images'].parent} are the published {other} files (by their "
                    f"MD5 checksums), not {name}; give --dataset {other}, or the directory of the {name} files")
    fraction = float(np.mean(x_train[:1000] > 0)) if x_train.size else 0.0
    looks_like = "mnist" if fraction < NONZERO_FRACTION_SPLIT else "fashion-mnist"
    if looks_like != name:
        return (f"the images in {paths['train_images']} look like {looks_like}, not {name} ({fraction:.0%} of "
                f"pixels are non-zero; MNIST digits have about 19 %, Fashion-MNIST about 50 %); check --dataset "
                f"and --data-dir")
    return None


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _images(path: Path) -> np.ndarray:
    """The images of ``path`` as uint8 (N, H, W); integer files with values in 0..255 are converted."""
    images = read_idx(path)
    if images.ndim != 3:
        raise DataError(
            f"image file {path} holds an array of shape {images.shape}; images must be 3-d (N, H, W), "
            f"check that this is an images file and not a labels file")
    if images.dtype == np.uint8:
        return images
    if np.issubdtype(images.dtype, np.integer) and (images.size == 0 or
                                                     (images.min() >= 0 and images.max() <= 255)):
        return images.astype(np.uint8)
    raise DataError(
        f"image file {path} stores {images.dtype} values; images must be grey levels 0..255 (IDX uint8), "
        f"convert the file to uint8")


def _labels(path: Path, n_images: int, images_path: Path) -> np.ndarray:
    """The labels of ``path`` as int64, checked to be 1-d, in range and as many as the images."""
    labels = read_idx(path)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"label file {path} holds {labels.dtype} of shape {labels.shape}; labels must be a 1-d integer "
            f"array, check that this is a labels file")
    if len(labels) != n_images:
        raise DataError(
            f"label file {path} holds {len(labels)} labels but image file {images_path} holds {n_images} "
            f"images; the two files must belong together, replace the mismatched one")
    if labels.size and (labels.min() < 0 or labels.max() >= N_CLASSES):
        raise DataError(
            f"label file {path} holds labels from {labels.min()} to {labels.max()}, outside 0..{N_CLASSES - 1}; "
            f"the file is corrupt or not a 10-class dataset")
    return labels.astype(np.int64)


def _idx_file(directory: Path, role: str) -> Path | None:
    """The plain or gzip file of ``role`` in ``directory``, or ``None``."""
    stem = IDX_FILES[role]
    dotted = stem.replace("-idx", ".idx")  # train-images.idx3-ubyte, as some mirrors name the files
    for name in (stem, f"{stem}.gz", dotted, f"{dotted}.gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def _candidate_dirs(name: str, data_dir) -> list[Path]:
    base = data_dir if data_dir is not None else os.environ.get(ENV_VAR) or None
    if base is None:
        return []
    base = Path(base).expanduser()
    return [base] + [base / subdir for subdir in IDX_SUBDIRS[name]]


def _not_found_message(name: str, data_dir) -> str:
    files = ", ".join(f"{stem}[.gz]" for stem in IDX_FILES.values())
    subdirs = ", ".join(f"{subdir}/" for subdir in IDX_SUBDIRS[name])
    fix = (f"pass --data-dir DIR (data_dir=DIR) or set {ENV_VAR}=DIR, where DIR holds the four files "
           f"or is a parent of {subdirs}")
    candidates = _candidate_dirs(name, data_dir)
    if not candidates:
        return f"{name}: no data directory given (no data_dir argument and {ENV_VAR} is not set); {fix}"
    source = "data_dir" if data_dir is not None else ENV_VAR
    looked = []
    for directory in candidates:
        if not directory.is_dir():
            looked.append(f"{directory} (no such directory)")
            continue
        missing = [f"{stem}[.gz]" for role, stem in IDX_FILES.items() if _idx_file(directory, role) is None]
        seen = sorted(entry.name for entry in directory.iterdir())
        shown = ", ".join(seen[:12]) + (f" and {len(seen) - 12} more" if len(seen) > 12 else "")
        looked.append(f"{directory} (missing {', '.join(missing)}; it holds: {shown or 'nothing'})")
    return (f"{name}: the IDX files {files} were not found from {source}={candidates[0]}; looked in "
            f"{'; '.join(looked)}. Fix: {fix}")


def _checked_name(name: str) -> str:
    key = str(name).strip().lower().replace("_", "-")
    if key not in dataset_names():
        raise ConfigError(f"unknown dataset {name!r}; choose one of {', '.join(dataset_names())}")
    return key


def _checked_limit(limit, argument: str) -> int | None:
    return optional_whole(limit, argument, minimum=1, hint="; give a count of samples or None for all")


def _checked_seed(seed) -> int:
    return whole(seed, "split_seed", minimum=0, hint="; give e.g. split_seed=0")
