"""Plain-data codec used across the process boundary of the grader.

Values travel as one JSON document plus ``.npy`` files (read with
``allow_pickle=False``), never as pickle, so decoding a value cannot run code.

Encodable: ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``,
lists, tuples, dicts (keys of those scalar types), NumPy arrays of a numeric,
boolean or string dtype, and NumPy scalars. Anything else is refused with a
:class:`WireError` that says what to return instead.

This module is imported by the child runner *before* student code, and keeps
private copies of the builtins and NumPy functions it uses, so a submission
that replaces ``builtins.isinstance`` or ``numpy.save`` cannot change how
its own results are written.
"""

from __future__ import annotations

import builtins as _builtins_module

# Functions defined below look builtins up here, not in the shared builtins
# module that student code could modify (Python >= 3.10 binds a function's
# builtins when it is created).
__builtins__ = dict(vars(_builtins_module))  # noqa: A001

import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402

import numpy as np  # noqa: E402

__all__ = ["WireError", "encode", "decode", "dump", "load", "dump_raw", "load_raw", "dump_blob",
           "load_blob", "MAX_DEPTH"]

MAX_DEPTH = 64
_ARRAY_NAME = re.compile(r"^a[0-9]{1,9}\.npy$")
_np_save = np.save
_np_load = np.load
_np_asarray = np.asarray
_np_ndarray = np.ndarray
_np_generic = np.generic
_np_dtype = np.dtype
_json_dumps = json.dumps
_json_loads = json.loads
_os_open = os.open
_os_fstat = os.fstat
_OK_KINDS = frozenset("biufcUS")


class WireError(ValueError):
    """A value cannot be sent as plain data."""


def encode(value, arrays: list, _depth: int = 0):
    """Return a JSON-able form of ``value``; arrays are appended to ``arrays``."""
    if _depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return value
    if type(value) is float:
        return value
    if type(value) is complex:
        return {"__complex__": [value.real, value.imag]}
    if isinstance(value, _np_ndarray):
        arr = _np_asarray(value)  # drop ndarray subclasses
        if type(arr) is not _np_ndarray:
            arr = arr.view(_np_ndarray)
        if arr.dtype.kind not in _OK_KINDS:
            raise WireError(
                f"cannot send an array of dtype={arr.dtype}; return a numeric array "
                "(e.g. np.asarray(x, dtype=float))"
            )
        arrays.append(arr.copy())  # a snapshot: later calls cannot change what was returned
        return {"__ndarray__": len(arrays) - 1}
    if isinstance(value, _np_generic):
        dt = value.dtype
        if dt.kind not in _OK_KINDS:
            raise WireError(f"cannot send a NumPy scalar of dtype={dt}")
        return {"__npscalar__": dt.str, "value": encode(value.item(), arrays, _depth + 1)}
    if isinstance(value, bool):  # subclasses of the plain types: convert to the base type
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, arrays, _depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, list):
        return [encode(v, arrays, _depth + 1) for v in list.__iter__(value)]
    if isinstance(value, dict):
        items = []
        for k, v in dict.items(value):
            if not (k is None or type(k) in (bool, int, float, str)):
                raise WireError(f"dict keys must be str, int, float, bool or None, got {type(k).__name__}")
            items.append([k, encode(v, arrays, _depth + 1)])
        return {"__dict__": items}
    raise WireError(
        f"cannot send a value of type {type(value).__name__}; return numbers, strings, "
        "lists, tuples, dicts or NumPy arrays"
    )


def decode(obj, arrays, _depth: int = 0):
    """Inverse of :func:`encode`; ``arrays`` maps index -> loaded array."""
    if _depth > MAX_DEPTH:
        raise WireError(f"value nested deeper than {MAX_DEPTH} levels")
    if obj is None or type(obj) in (bool, int, float, str):
        return obj
    if type(obj) is list:
        return [decode(v, arrays, _depth + 1) for v in obj]
    if type(obj) is dict:
        if set(obj) == {"__ndarray__"} and type(obj["__ndarray__"]) is int:
            return arrays[obj["__ndarray__"]].copy()
        if set(obj) == {"__tuple__"} and type(obj["__tuple__"]) is list:
            return tuple(decode(v, arrays, _depth + 1) for v in obj["__tuple__"])
        if set(obj) == {"__complex__"} and type(obj["__complex__"]) is list and len(obj["__complex__"]) == 2:
            re_, im = obj["__complex__"]
            return complex(float(re_), float(im))
        if set(obj) == {"__npscalar__", "value"} and type(obj["__npscalar__"]) is str:
            dt = _np_dtype(obj["__npscalar__"])
            if dt.kind not in _OK_KINDS:
                raise WireError(f"bad scalar dtype {dt}")
            return dt.type(decode(obj["value"], arrays, _depth + 1))
        if set(obj) == {"__dict__"} and type(obj["__dict__"]) is list:
            out = {}
            for pair in obj["__dict__"]:
                if type(pair) is not list or len(pair) != 2:
                    raise WireError("malformed dict entry")
                k = pair[0]
                if not (k is None or type(k) in (bool, int, float, str)):
                    raise WireError("malformed dict key")
                out[k] = decode(pair[1], arrays, _depth + 1)
            return out
    raise WireError(f"malformed value of type {type(obj).__name__}")


def dump(value, folder, *, stem: str) -> None:
    """Write ``value`` as ``folder/<stem>.json`` plus ``folder/<stem>/aN.npy``."""
    arrays: list = []
    dump_raw({"value": encode(value, arrays)}, arrays, folder, stem=stem)


def dump_raw(doc: dict, arrays: list, folder, *, stem: str) -> None:
    """Write an already encoded JSON document and its arrays (the runner builds results this way)."""
    sub = os.path.join(folder, stem)
    os.makedirs(sub, exist_ok=True)
    for i, arr in enumerate(arrays):
        _np_save(os.path.join(sub, f"a{i}.npy"), arr, allow_pickle=False)
    text = _json_dumps({"doc": doc, "n_arrays": len(arrays)})
    with open(os.path.join(folder, stem + ".json"), "w", encoding="utf-8") as f:
        f.write(text)


def _read_nofollow(path: str, max_bytes: int) -> bytes:
    try:
        fd = _os_open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise WireError(f"{os.path.basename(path)} cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as f:
        size = _os_fstat(f.fileno()).st_size
        if size > max_bytes:
            raise WireError(f"{os.path.basename(path)} is {size} bytes, more than the limit {max_bytes}")
        return f.read(max_bytes + 1)


def load_raw(folder, *, stem: str, max_bytes: int = 512 * 2**20, max_total_bytes: int = 2**30):
    """Read what :func:`dump_raw` wrote: ``(doc, arrays)``; refuses symlinks, pickles, huge files."""
    import io

    if os.path.islink(folder) or os.path.islink(os.path.join(folder, stem)):
        raise WireError("refusing to follow a symlink")
    try:
        doc = _json_loads(_read_nofollow(os.path.join(folder, stem + ".json"), 64 * 2**20))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"{stem}.json is not valid JSON ({type(exc).__name__})") from None
    if type(doc) is not dict or type(doc.get("n_arrays")) is not int or type(doc.get("doc")) is not dict:
        raise WireError("malformed document")
    n = doc["n_arrays"]
    if not 0 <= n <= 100_000:
        raise WireError("bad array count")
    arrays = []
    total = 0
    for i in range(n):
        raw = _read_nofollow(os.path.join(folder, stem, f"a{i}.npy"), max_bytes)
        total += len(raw)
        if total > max_total_bytes:
            raise WireError(f"the results add up to more than {max_total_bytes} bytes")
        try:
            arr = _np_load(io.BytesIO(raw), allow_pickle=False)
        except Exception as exc:
            raise WireError(f"a{i}.npy cannot be read ({type(exc).__name__})") from None
        if type(arr) is not _np_ndarray or arr.dtype.kind not in _OK_KINDS:
            raise WireError("bad array")
        arrays.append(arr)
    return doc["doc"], arrays


_BLOB_MAGIC = b"COURSEW1"


def dump_blob(doc: dict, arrays: list) -> bytes:
    """One byte string: magic, JSON length, JSON, then (length, ``.npy`` bytes) per array.

    The child runner writes its results this way to a file descriptor the parent
    opened, so nothing it leaves in its tree is ever read back.
    """
    import io

    parts = [_BLOB_MAGIC]
    text = _json_dumps({"doc": doc, "n_arrays": len(arrays)}).encode("utf-8")
    parts += [len(text).to_bytes(8, "little"), text]
    for arr in arrays:
        buf = io.BytesIO()
        _np_save(buf, arr, allow_pickle=False)
        raw = buf.getvalue()
        parts += [len(raw).to_bytes(8, "little"), raw]
    return b"".join(parts)


def load_blob(data: bytes):
    """Inverse of :func:`dump_blob`: ``(doc, arrays)``; refuses anything malformed or pickled."""
    import io

    if type(data) is not bytes or not data.startswith(_BLOB_MAGIC):
        raise WireError("results are not in the grader's format")
    pos = len(_BLOB_MAGIC)

    def take(n):
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise WireError("results are truncated")
        chunk = data[pos:pos + n]
        pos += n
        return chunk

    try:
        head = _json_loads(take(int.from_bytes(take(8), "little")).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise WireError(f"results are not valid JSON ({type(exc).__name__})") from None
    if type(head) is not dict or type(head.get("n_arrays")) is not int or type(head.get("doc")) is not dict:
        raise WireError("malformed document")
    n = head["n_arrays"]
    if not 0 <= n <= 100_000:
        raise WireError("bad array count")
    arrays = []
    for i in range(n):
        raw = take(int.from_bytes(take(8), "little"))
        try:
            arr = _np_load(io.BytesIO(raw), allow_pickle=False)
        except Exception as exc:
            raise WireError(f"array {i} cannot be read ({type(exc).__name__})") from None
        if type(arr) is not _np_ndarray or arr.dtype.kind not in _OK_KINDS:
            raise WireError("bad array")
        arrays.append(arr)
    if pos != len(data):
        raise WireError("trailing bytes after the results")
    return head["doc"], arrays


def load(folder, *, stem: str, max_bytes: int = 512 * 2**20):
    """Read what :func:`dump` wrote."""
    doc, arrays = load_raw(folder, stem=stem, max_bytes=max_bytes)
    if "value" not in doc:
        raise WireError("malformed document")
    try:
        return decode(doc["value"], arrays)
    except (IndexError, TypeError, RecursionError) as exc:
        raise WireError(f"malformed value ({type(exc).__name__})") from None
