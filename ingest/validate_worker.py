"""Validate the tables of a dataset in a worker process while this one loads them.

Validation is the largest CPU cost of a load after the database's own (reading,
parsing, USCC checks, duplicate keys). :class:`ValidatedTables` hands out the
validated chunks of each table in order; with ``worker=True`` the tables after the
first are validated meanwhile in a child process, so on a machine with two cores
or more the loading process (and the server) keep a core to themselves.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from ingest.manifest import Manifest
from ingest.reader import find_table_file
from ingest.tables import TableSpec
from ingest.validate import ValidatedChunk, validate_table

__all__ = ["PARALLEL_MIN_BYTES", "ValidatedTables", "worth_a_worker"]


#: Datasets (table files, in bytes) from which :func:`write_import_csvs` validates in a
#: worker process by default: starting one costs about a second.
PARALLEL_MIN_BYTES = 16 << 20
#: Validated chunks the worker may hold ready (each ~100k rows, a few MB pickled).
_QUEUE_CHUNKS = 2


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worth_a_worker(dataset_dir: Path, manifest: Manifest, tables: Sequence[str]) -> bool:
    """Whether a worker pays: two tables or more, two CPUs or more, :data:`PARALLEL_MIN_BYTES` of files."""
    if len(tables) < 2 or _cpus() < 2:
        return False
    size = 0
    for t in tables:
        path = find_table_file(dataset_dir, t, manifest)
        size += path.stat().st_size if path is not None else 0
    return size >= PARALLEL_MIN_BYTES


def _validate_tables(
    dataset_dir: Path, manifest: Manifest, specs: Sequence[TableSpec], chunksize: int, out: Any
) -> None:
    """Worker process: put ``("chunk", table, chunk)`` for each validated chunk of ``specs`` in
    order, ``("end", table, None)`` after each table, ``("error", table, exc)`` on a failure."""
    table = specs[0].name
    try:
        for spec in specs:
            table = spec.name
            for chunk in validate_table(dataset_dir, table, manifest, chunksize=chunksize, spec=spec):
                out.put(("chunk", table, chunk))
            out.put(("end", table, None))
    except Exception as exc:  # re-raised by the parent
        err: Exception = exc
        try:
            pickle.dumps(err)
        except Exception:
            err = RuntimeError(f"{type(exc).__name__}: {exc}")
        out.put(("error", table, err))


class ValidatedTables:
    """The validated chunks of ``tables``, table by table, in order.

    The first table is validated in this process when asked for; with ``worker``,
    the others are validated meanwhile in a child process (``spawn``: nothing of this
    process is inherited), which stays at most :data:`_QUEUE_CHUNKS` chunks ahead, so
    memory stays bounded. Its errors (a missing required column ...) are raised here,
    where the table's chunks are asked for, as they would be without it.
    """

    def __init__(self, dataset_dir: Path, manifest: Manifest, specs: Sequence[TableSpec], chunksize: int,
                 *, worker: bool):
        self.dataset_dir, self.manifest, self.chunksize = dataset_dir, manifest, chunksize
        self._specs = {s.name: s for s in specs}
        self._remote: set[str] = set()
        self._proc: Any = None
        self._queue: Any = None
        if worker and len(specs) > 1:
            ctx = multiprocessing.get_context("spawn")
            self._queue = ctx.Queue(maxsize=_QUEUE_CHUNKS)
            self._remote = {s.name for s in specs[1:]}
            self._proc = ctx.Process(target=_validate_tables, name="chainrisk-validate", daemon=True,
                                     args=(dataset_dir, manifest, list(specs[1:]), chunksize, self._queue))
            self._proc.start()

    def chunks(self, table: str) -> Iterator[ValidatedChunk]:
        """The chunks of ``table`` (:func:`ingest.validate.validate_table`)."""
        if table not in self._remote:
            yield from validate_table(self.dataset_dir, table, self.manifest, chunksize=self.chunksize,
                                      spec=self._specs[table])
            return
        while True:
            kind, name, payload = self._get()
            if name != table:
                raise RuntimeError(f"validation worker sent {name!r} while {table!r} was expected")
            if kind == "error":
                raise payload
            if kind == "end":
                self._remote.discard(table)
                return
            yield payload

    def _get(self) -> tuple[str, str, Any]:
        while True:
            try:
                return cast(tuple[str, str, Any], self._queue.get(timeout=1.0))
            except queue.Empty:
                if self._proc.is_alive():
                    continue
            try:  # it may have put its last message just before it ended
                return cast(tuple[str, str, Any], self._queue.get(timeout=1.0))
            except queue.Empty:
                raise RuntimeError(
                    f"the validation worker ended unexpectedly (exit code {self._proc.exitcode})") from None

    def close(self) -> None:
        """Stop the worker (when this process stopped early) and wait for it."""
        if self._proc is None:
            return
        if not self._remote:  # every table came through: it is ending by itself
            self._proc.join(timeout=10)
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc.join()
        self._queue.close()
        self._queue.cancel_join_thread()
        self._proc = None
