"""Datasets and spike encoders.

- ``load_dataset`` / ``dataset_names`` / ``find_data_dir``: the ``digits``, ``mnist`` and ``fashion-mnist``
  datasets as uint8 images and int64 labels (``spikingbp.data.datasets`` documents where data is looked for);
- ``read_idx`` / ``write_idx``: IDX files, plain or gzip;
- ``binarize``, ``rate_encode``, ``front_loaded_rates``, ``poisson_trains``, ``front_loaded_trains``,
  ``one_hot``: inputs and targets for the networks.
"""
from spikingbp.data.datasets import ENV_VAR, Dataset, DatasetMismatchWarning, dataset_names, find_data_dir, load_dataset
from spikingbp.data.encoders import (as_generator, binarize, front_loaded_rates, front_loaded_trains, one_hot,
                                     poisson_trains, rate_encode)
from spikingbp.data.idx import read_idx, write_idx

__all__ = [
    "ENV_VAR", "Dataset", "DatasetMismatchWarning", "dataset_names", "find_data_dir", "load_dataset",
    "as_generator", "binarize", "front_loaded_rates", "front_loaded_trains", "one_hot", "poisson_trains",
    "rate_encode",
    "read_idx", "write_idx",
]
