"""Read and write IDX files, the format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist).

Layout of an IDX file::

    2 zero bytes | dtype code (1 byte) | ndim (1 byte) | ndim big-endian uint32 dims | data, big-endian

Dtype codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
A file may be gzip-compressed; the reader recognises gzip by its magic bytes (1f 8b), whatever the name.
"""
from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from spikingbp.errors import ConfigError, DataError
from spikingbp.io import atomic_open

GZIP_MAGIC = b"\x1f\x8b"

#: IDX dtype code -> big-endian numpy dtype of the stored values.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

#: numpy type string without byte order ("u1", "f4", ...) -> IDX dtype code.
_CODE_OF_TYPE = {dtype.str[1:]: code for code, dtype in IDX_DTYPES.items()}


def read_idx(path) -> np.ndarray:
    """The array stored in the IDX file at ``path`` (plain or gzip), in native byte order.

    Raises ``DataError`` naming the file when it is missing or unreadable, is not valid gzip, has a
    wrong magic number or unknown dtype code, holds fewer bytes than its header announces, or has bytes
    after the announced data.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if raw[:2] == GZIP_MAGIC:
        raw = _gunzip(raw, path)
    dtype, shape, header_size = _parse_header(raw, path)
    expected = math.prod(shape) * dtype.itemsize  # Python integers: a corrupt header cannot overflow
    present = len(raw) - header_size
    if present < expected:
        raise DataError(
            f"IDX file {path} is truncated or its header is corrupt: the header announces shape {shape} "
            f"({expected} data bytes) but only {present} bytes follow; download or copy the file again")
    if present > expected:
        raise DataError(
            f"IDX file {path} has {present - expected} bytes of trailing garbage after the {expected} data "
            f"bytes its header announces (shape {shape}); the file is corrupt, download or copy it again")
    values = np.frombuffer(raw, dtype=dtype, count=expected // dtype.itemsize, offset=header_size)
    return values.reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file at ``path`` and return the path.

    ``compress`` gzips the file; by default it does so when the name ends in ``.gz``. The file is written
    under a temporary name in the same directory and renamed, so a reader never sees a half-written file.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODE_OF_TYPE.get(array.dtype.str[1:])
    if code is None:
        raise ConfigError(
            f"write_idx: dtype {array.dtype} cannot be stored in IDX; convert the array to one of "
            f"uint8, int8, int16, int32, float32, float64")
    if not 1 <= array.ndim <= 255:
        raise ConfigError(f"write_idx: array has {array.ndim} dimensions; IDX stores 1 to 255")
    if any(size >= 2 ** 32 for size in array.shape):
        raise ConfigError(f"write_idx: shape {array.shape} has a dimension of 2**32 or more, too large for IDX")
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    content = header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    if compress if compress is not None else path.suffix == ".gz":
        content = gzip.compress(content, mtime=0)
    _write_atomically(path, content)
    return path


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DataError(f"IDX file {path} does not exist; check the path or the data directory")
    try:
        return path.read_bytes()
    except OSError as error:
        raise DataError(f"IDX file {path} cannot be read ({error}); check that it is a readable file") from error


def _gunzip(raw: bytes, path: Path) -> bytes:
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(
            f"IDX file {path} starts like gzip but is corrupt or truncated ({error}); "
            f"download or copy the file again") from error


def _parse_header(raw: bytes, path: Path) -> tuple[np.dtype, tuple[int, ...], int]:
    """The stored dtype, the shape and the header's length in bytes."""
    if len(raw) < 4:
        raise DataError(f"IDX file {path} is truncated: {len(raw)} bytes, shorter than the 4-byte magic number")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"IDX file {path} has a wrong magic number {raw[:4].hex()} (expected 0000 then a dtype code "
            f"and ndim); it is not an IDX file or is corrupt")
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{known:02X}" for known in IDX_DTYPES)
        raise DataError(f"IDX file {path} has unknown dtype code 0x{code:02X} (known: {known}); the file is corrupt")
    if ndim == 0:
        raise DataError(f"IDX file {path} announces 0 dimensions; the file is corrupt")
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DataError(
            f"IDX file {path} is truncated: it announces {ndim} dimensions but ends inside the header "
            f"({len(raw)} of {header_size} bytes); download or copy the file again")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    if 0 in shape:
        raise DataError(f"IDX file {path} announces shape {shape}, with a dimension of size 0; the file holds no "
                        f"data or its header is corrupt, download or copy it again")
    return IDX_DTYPES[code], shape, header_size


def _write_atomically(path: Path, content: bytes):
    """Write under a fresh temporary name beside ``path`` (created with the usual permissions), then rename."""
    with atomic_open(path, "wb") as file:
        file.write(content)
