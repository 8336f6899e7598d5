"""The store's parquet tables (a cell's batches and its ``runs.parquet``): written with the cell's
identity, their first run, their row count and a digest of their rows' values in their own metadata,
and read back only when they are what is expected (else ``Damaged``). A table too big to hold whole
is written and checked one batch, or one column, at a time.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
from pathlib import Path

import numpy as np
import pandas as pd

from guarantee_sim.runs.provenance import write_atomic
from guarantee_sim.runs.runner import TABLE_COLUMNS

META_KEY = b"guarantee_sim"  # a stored parquet file's own identity, in its schema's metadata


def rows_digest(df: pd.DataFrame) -> str:
    """A hash of a table's rows that depends on their values only (not on pandas', numpy's or
    pyarrow's version, nor on how a column is typed): the same rows give the same digest anywhere."""
    return _digest(df.items())


def _digest(columns) -> str:
    """``rows_digest`` of (name, column) pairs: a big table's columns can come one at a time."""
    digest = hashlib.sha256()
    for col, s in columns:
        digest.update(str(col).encode() + b"\0")
        digest.update(_column_bytes(s))
    return digest.hexdigest()


def _column_bytes(s: pd.Series) -> bytes:
    """A column's values as bytes: booleans as 0/1 and 2 for NA, integers as 64-bit, floats as 64-bit
    with one NaN, anything else as its text."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":  # numpy's own types hold no NA but NaN
        data = s.to_numpy()
        if dtype.kind == "f":
            data = np.where(np.isnan(data), np.nan, data.astype("<f8"))  # one NaN
        return data.astype({"b": "u1", "i": "<i8", "u": "<i8", "f": "<f8"}[dtype.kind]).tobytes()
    if pd.api.types.is_bool_dtype(dtype):
        data = np.where(s.isna().to_numpy(), 2, s.fillna(False).to_numpy(dtype=bool)).astype("u1")
    elif pd.api.types.is_integer_dtype(dtype):
        data = s.to_numpy(dtype="<i8")
    elif pd.api.types.is_float_dtype(dtype):
        data = s.to_numpy(dtype="<f8", na_value=np.nan)
        data = np.where(np.isnan(data), np.nan, data).astype("<f8")
    else:
        return "\x1f".join("\x00" if pd.isna(v) else str(v) for v in s).encode()
    return data.tobytes()


def columns_of(parts: list[Path], columns) -> pd.DataFrame:
    """Some columns of the rows stored in ``parts`` (parquet files of one table), one after another."""
    import pyarrow.parquet as pq

    return pd.concat([pq.read_table(p, columns=list(columns)).to_pandas() for p in parts], ignore_index=True)


def write_parquet(path: Path, df: pd.DataFrame, meta: dict) -> None:
    """``df`` as parquet (as ``DataFrame.to_parquet``) with ``meta`` and the rows' digest in its metadata."""
    write_atomic(path, parquet_writer(df, meta))


def stacked_parquet_writer(parts: list[Path], meta: dict):
    """What ``write_parquet`` writes of the rows of ``parts`` (a cell's batches) one after another,
    holding one batch, or one column of the whole, at a time: a cell's memory does not grow with
    its runs. The rows are staged in one file first, whose columns give the digest."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(parts[0])
    plain = {k: v for k, v in (schema.metadata or {}).items() if k != META_KEY}

    def write(path):
        staged = Path(f"{path}.rows")
        try:
            with pq.ParquetWriter(staged, schema.with_metadata(plain), compression="snappy") as out:
                for p in parts:
                    out.write_table(pq.read_table(p).replace_schema_metadata(plain))
            rows = pq.ParquetFile(staged)
            digest = _digest((col, rows.read(columns=[col]).to_pandas()[col]) for col in schema.names)
            info = json.dumps({**meta, "rows": rows.metadata.num_rows, "digest": digest}, sort_keys=True).encode()
            final = schema.with_metadata({**plain, META_KEY: info})
            with pq.ParquetWriter(path, final, compression="snappy") as out:
                for i in range(rows.num_row_groups):
                    out.write_table(rows.read_row_group(i).replace_schema_metadata(final.metadata))
        finally:
            Path(staged).unlink(missing_ok=True)

    return write


_SCHEMAS: dict[tuple, object] = {}  # the Arrow schema (pandas' metadata included) of a runs table's column types


def _schema(df: pd.DataFrame, columns: list[tuple[str, pd.Series]]):
    """What ``pyarrow.Schema.from_pandas`` gives ``df``, made once per set of column names and types.
    A column of Python objects is keyed by what pandas infers of its values (pyarrow records it),
    and an empty table by itself."""
    import pyarrow as pa

    key = (str(df.columns.dtype), len(df) == 0,
           *((c, s.dtype, pd.api.types.infer_dtype(s) if s.dtype == object else None) for c, s in columns))
    schema = None if df.attrs else _SCHEMAS.get(key)
    if schema is None:
        schema = pa.Schema.from_pandas(df, preserve_index=False)
        if not df.attrs:
            _SCHEMAS[key] = schema
    return schema


def _arrow_table(df: pd.DataFrame, columns: list[tuple[str, pd.Series]]):
    import pyarrow as pa

    schema = _schema(df, columns)
    arrays = [pa.array(s.to_numpy() if isinstance(s.dtype, np.dtype) and s.dtype != object else s.array,
                       type=field.type, from_pandas=True) for field, (_, s) in zip(schema, columns)]
    return pa.Table.from_arrays(arrays, schema=schema)


def arrow_table(df: pd.DataFrame):
    """``pyarrow.Table.from_pandas(df, preserve_index=False)`` without working out the schema again for
    every cell of a sweep (a 20-run cell's table costs a fraction of pyarrow's conversion)."""
    return _arrow_table(df, list(df.items()))


def parquet_writer(df: pd.DataFrame, meta: dict):
    """What ``write_parquet`` writes, for ``write_all``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(df.items())
    table = _arrow_table(df, columns)
    info = json.dumps({**meta, "rows": len(df), "digest": _digest(columns)}, sort_keys=True).encode()
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: info})

    def write(path):
        sink = pa.BufferOutputStream()  # one write to the file: pyarrow writes a file in a few hundred pieces
        pq.write_table(table, sink, compression="snappy")
        with open(path, "wb") as out:
            out.write(sink.getvalue())

    return write


class Damaged(Exception):
    """A stored file that cannot be used (the reason is the message)."""


def _check_identity(meta, accepted: set[str], columns) -> None:
    if not isinstance(meta, dict):
        raise Damaged("it carries no identity")
    if meta.get("fingerprint") not in accepted:
        raise Damaged("it belongs to another cell or configuration")
    if list(columns) != TABLE_COLUMNS:
        raise Damaged("its columns are not a run's")


def read_checked(path: Path, accepted: set[str], first: int = 0, seeds: list[int] | None = None) -> pd.DataFrame:
    """A stored table, if it is the one expected: readable, of this identity, the columns of a run row,
    its rows' digest as recorded, runs ``first ..`` in order and (when given) the run seeds. Else ``Damaged``."""
    import pyarrow.parquet as pq

    try:
        meta = json.loads((pq.read_schema(path).metadata or {}).get(META_KEY, b"null"))
        df = pd.read_parquet(path)
    except Exception as exc:  # a truncated or foreign file: pyarrow raises several types
        raise Damaged(f"unreadable ({type(exc).__name__})") from None
    _check_identity(meta, accepted, df.columns)
    if len(df) != meta.get("rows") or (seeds is not None and len(df) != len(seeds)):
        raise Damaged(f"{len(df)} rows instead of {len(seeds) if seeds is not None else meta.get('rows')}")
    if not np.array_equal(df["run"].to_numpy(), np.arange(first, first + len(df))):
        raise Damaged(f"its runs are not {first} to {first + len(df) - 1}")
    if seeds is not None and df["seed"].tolist() != seeds:
        raise Damaged("its seeds are not the ones the root seed gives")
    if rows_digest(df) != meta.get("digest"):
        raise Damaged("its rows changed after it was written")
    return df


_WRITTEN: dict[str, tuple[tuple[int, int, int], str, pd.DataFrame]] = {}  # runs.parquet -> (file signature, fingerprint, rows)
REMEMBERED_ROWS = 1_000_000  # at most this many rows kept for the sweep's tables (a few hundred MB); the rest are read back
_kept = [0]  # rows in _WRITTEN


def _signature(path: Path) -> tuple[int, int, int]:
    st = os.stat(path)
    return st.st_ino, st.st_mtime_ns, st.st_size


def remember(path: Path, fingerprint: str, df: pd.DataFrame) -> None:
    """Keep the rows of a ``runs.parquet`` the main process has just written (a sweep's basic
    launcher runs its cells there), for the sweep's tables to take without reading them back."""
    if mp.parent_process() is not None:  # a worker's memory goes with it
        return
    _forget(str(path))
    if _kept[0] + len(df) <= REMEMBERED_ROWS:
        _WRITTEN[str(path)] = (_signature(path), fingerprint, df)
        _kept[0] += len(df)


def _forget(path: str):
    """Drop what ``remember`` kept of ``path``; return it (or None)."""
    known = _WRITTEN.pop(path, None)
    if known is not None:
        _kept[0] -= len(known[2])
    return known


def read_cell_rows(path: Path, accepted: set[str]) -> pd.DataFrame:
    """``read_checked`` for a cell's ``runs.parquet``; one this process wrote and nobody has replaced
    or changed since (the same inode, modification time and size) is not read back."""
    known = _forget(str(path))
    if known is not None and known[1] in accepted:
        try:
            if _signature(path) == known[0]:
                return known[2]
        except OSError:
            pass
    return read_checked(path, accepted)


def check_stored(path: Path, accepted: set[str]) -> int:
    """``read_checked``'s checks of a ``runs.parquet`` too big to hold whole (more than
    ``IN_MEMORY_ROWS`` runs), one column at a time; its number of rows. Else ``Damaged``."""
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        meta = json.loads((schema.metadata or {}).get(META_KEY, b"null"))
        rows = pq.read_metadata(path).num_rows
    except Exception as exc:  # a truncated or foreign file: pyarrow raises several types
        raise Damaged(f"unreadable ({type(exc).__name__})") from None
    _check_identity(meta, accepted, schema.names)
    if rows != meta.get("rows"):
        raise Damaged(f"{rows} rows instead of {meta.get('rows')}")
    try:
        if not np.array_equal(pq.read_table(path, columns=["run"]).column(0).to_numpy(), np.arange(rows)):
            raise Damaged(f"its runs are not 0 to {rows - 1}")
        digest = _digest((col, pq.read_table(path, columns=[col]).to_pandas()[col]) for col in schema.names)
    except Damaged:
        raise
    except Exception as exc:
        raise Damaged(f"unreadable ({type(exc).__name__})") from None
    if digest != meta.get("digest"):
        raise Damaged("its rows changed after it was written")
    return rows
