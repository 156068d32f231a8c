"""Bulk first load: validated rows -> ``neo4j-admin database import full`` CSVs -> a new database.

Neo4j's offline importer writes the store files directly and is how Neo4j
recommends loading a large graph the first time (hundreds of thousands of
entities a second, against tens of thousands through ``MERGE``). It needs the
server stopped and replaces the whole database, so chainrisk uses it only for a
first load; later loads go through :func:`ingest.api.load_dataset` (``MERGE``).

The CSVs come from the same validated chunks as the ``MERGE`` path and hold the
same fields as its rows (:func:`ingest.loader.prepare_rows`), built column by
column instead (:func:`chunk_columns`, :func:`csv_text`), so every node and
relationship gets the same properties, ``key``, ``uid`` and ``row_hash``: re-ingesting the
same dataset with ``MERGE`` afterwards reports zero changes. The import also
holds the ``(:ChainriskMeta {key: 'schema'})`` marker (so ``ensure_schema``
recognises the database as chainrisk's) and the committed ``(:Run)`` of this
ingest. Constraints and indexes cannot be imported: :func:`bulk_load` starts the
server afterwards and applies them (``graph.schema.ensure_schema``).

Files: one header file and one data file per node label / relationship type
(and start label, for ``GUARANTEES`` and ``OWNS``, whose start is a Firm or a
Person), headers typed as the importer expects (``uscc:ID(Firm)``,
``:START_ID(Firm)``, ``start:date``, ``amount:double``, ``employees:long`` ...).
An empty field is a missing property, as a ``null`` is on the ``MERGE`` path.

Speed: on a 2-core machine, 100k firms (3.5M input rows, 6.0M entities) take
about 23 s with validation in a worker process, 37 s without (75 s with per-row dicts and
``csv.writer``); validation is then the larger half (``ingest.validate``).

>>> typed_header("supply", ("annual_value", "start"))
['annual_value:double', 'start:date']
"""

from __future__ import annotations

import csv
import json
import multiprocessing
import os
import pickle
import queue
import shutil
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal, cast

import pandas as pd

from chainrisk import __version__
from chainrisk.errors import GraphError, ServerBuildError
from chainrisk.settings import Settings, get_settings
from graph.runs import parameters_hash
from graph.schema import SCHEMA_VERSION
from ingest.cypher_load import GRAPH_TABLES
from ingest.loader import IngestReport, TableReport, key_strings, uid_strings
from ingest.manifest import Manifest, read_manifest
from ingest.quarantine import QuarantineWriter
from ingest.reader import find_table_file
from ingest.row_hash import NA_TEXT, canonical_parts, hashes_of_parts
from ingest.tables import LOAD_ORDER, TABLES
from ingest.validate import ValidatedChunk, validate_table

__all__ = [
    "ImportFile",
    "ImportPlan",
    "admin_arguments",
    "bulk_load",
    "typed_header",
    "write_import_csvs",
]

_KIND_TYPES = {"date": "date", "month": "date", "money": "double", "float": "double", "int": "long",
               "bool": "boolean"}
#: Provenance columns, as the MERGE path stores them (ingest.cypher_load): fact nodes,
#: fact relationships, structural links, and nodes created only as endpoints (externals, persons, platforms).
_PROVENANCE = ["row_hash", "source", "ingest_run", "ingested_at:datetime"]
_REL_PROVENANCE = ["row_hash", "source", "ingest_run"]
_LINK_PROVENANCE = ["source", "ingest_run"]
_ENDPOINT_PROVENANCE = ["source", "ingest_run", "ingested_at:datetime"]

#: Node label of a table's fact nodes, with the property the importer uses as ID.
_NODE_TABLES: dict[str, tuple[str, str]] = {
    "firms": ("Firm", "uscc"),
    "financials": ("Financials", "key"),
    "loans": ("Loan", "loan_id"),
    "loan_status": ("LoanStatus", "key"),
    "events": ("Event", "key"),
    "signals": ("Signal", "key"),
}
#: Link from the parent to a fact node: (type, parent label, table whose ``a`` is the parent).
_PARENT_LINKS: dict[str, tuple[str, str]] = {
    "financials": ("REPORTED", "Firm"),
    "loans": ("BORROWED", "Firm"),
    "loan_status": ("HAS_STATUS", "Loan"),
    "events": ("HAS_EVENT", "Firm"),
    "signals": ("HAS_SIGNAL", "Firm"),
}
#: Relationship tables: (type, end label).
_REL_TABLES: dict[str, str] = {
    "supply": "SUPPLIES",
    "receivables": "OWES",
    "guarantees": "GUARANTEES",
    "ownership": "OWNS",
}


def typed_header(table: str, columns: Sequence[str]) -> list[str]:
    """Header fields ``name:type`` for ``columns`` of ``table`` (strings stay untyped)."""
    spec = TABLES[table]
    out = []
    for c in columns:
        t = _KIND_TYPES.get(spec.column(c).kind)
        out.append(f"{c}:{t}" if t else c)
    return out


def _quote(v: str) -> str:
    """A CSV field: quoted (inner quotes doubled) when it holds a comma, a quote or a line break.

    >>> _quote("plain"), _quote('say "hi", then go')
    ('plain', '"say ""hi"", then go"')
    """
    if "," in v or '"' in v or "\n" in v or "\r" in v:
        return '"' + v.replace('"', '""') + '"'
    return v


def _quote_column(col: Sequence[str]) -> Sequence[str]:
    """``col`` with :func:`_quote` applied; ``col`` itself when no field needs quoting (one scan)."""
    joined = "\x1f".join(col)
    if "," in joined or '"' in joined or "\n" in joined or "\r" in joined:
        return [_quote(v) for v in col]
    return col


def csv_text(cols: Sequence[Sequence[str]], tail: Sequence[str] = ()) -> tuple[str, bool]:
    """CSV text of the rows ``zip(*cols)``, each followed by the constant fields ``tail``.

    Returns the text (``\\r\\n`` line ends, as :mod:`csv` writes) and whether some
    field holds a line break (the importer then needs ``--multiline-fields``).
    Fields are ``str`` (an empty one is a missing property). Rows are joined with
    plain ``str.join``; quoting is decided after the fact: each row holds exactly
    ``len(cols) - 1`` commas and one ``\\r\\n`` of its own (plus what the tail holds),
    so when the text counts no more commas, quotes and line-break characters than
    that, no field needs quoting; otherwise only the columns that do are quoted.
    The text is the one :func:`csv.writer` writes (default dialect; rows of two fields or more).

    >>> csv_text([["a", "b"], ["1.5", ""]], ["src"])
    ('a,1.5,src\\r\\nb,,src\\r\\n', False)
    >>> csv_text([["x,y", 'q"r', "l\\nm"]])
    ('"x,y"\\r\\n"q""r"\\r\\n"l\\nm"\\r\\n', True)
    """
    n = len(cols[0]) if cols else 0
    if n == 0:
        return "", False
    end = "".join("," + _quote(t) for t in tail) + "\r\n"
    text = end.join(map(",".join, zip(*cols, strict=True))) + end
    plain = (text.count(",") == n * (len(cols) - 1 + end.count(","))
             and text.count('"') == n * end.count('"')
             and text.count("\n") == n * end.count("\n")
             and text.count("\r") == n * end.count("\r"))
    if plain:  # no field holds a line break, unless a tail field does
        return text, "\n" in end[:-2] or "\r" in end[:-2]
    text = end.join(map(",".join, zip(*map(_quote_column, cols), strict=True))) + end
    return text, text.count("\n") != n or text.count("\r") != n


@dataclass
class ImportFile:
    """One header + data file pair for ``--nodes`` or ``--relationships``."""

    kind: Literal["nodes", "relationships"]
    name: str  # label(s) or relationship type
    header_path: Path
    data_path: Path
    rows: int = 0

    @property
    def argument(self) -> str:
        """``--nodes=Label=header.csv,data.csv`` (or ``--relationships=TYPE=...``)."""
        return f"--{self.kind}={self.name}={self.header_path},{self.data_path}"


class _Files:
    """Open data files lazily, one per (kind, name, start label); write their headers once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.files: dict[str, ImportFile] = {}
        self._handles: dict[str, IO[str]] = {}
        self.multiline = False

    def _open(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str]) -> None:
        if slot not in self._handles:
            hp, dp = self.folder / f"{slot}.header.csv", self.folder / f"{slot}.csv"
            with hp.open("w", encoding="utf-8", newline="") as h:
                csv.writer(h).writerow(header)
            self._handles[slot] = dp.open("w", encoding="utf-8", newline="")
            self.files[slot] = ImportFile(kind, name, hp, dp)

    def write(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str],
              rows: Iterable[Sequence[str]]) -> None:
        """Append ``rows`` (sequences of ``str``) to the slot's data file (small files: run, meta ...)."""
        rows = rows if isinstance(rows, list) else list(rows)
        self.write_columns(slot, kind, name, header, [list(c) for c in zip(*rows, strict=True)])

    def write_columns(self, slot: str, kind: Literal["nodes", "relationships"], name: str, header: list[str],
                      cols: Sequence[Sequence[str]], tail: Sequence[str] = ()) -> None:
        """Append the rows ``zip(*cols)`` + ``tail`` (:func:`csv_text`) to the slot's data file."""
        self._open(slot, kind, name, header)
        if not cols or not len(cols[0]):
            return
        text, multiline = csv_text(cols, tail)
        self.multiline = self.multiline or multiline
        self._handles[slot].write(text)
        self.files[slot].rows += len(cols[0])

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles.clear()


@dataclass
class ImportPlan:
    """The CSVs of one bulk import and what they hold."""

    folder: Path
    files: list[ImportFile]
    report: IngestReport
    multiline: bool = False
    entities: int = 0


def admin_arguments(plan: ImportPlan, database: str, *, overwrite: bool) -> list[str]:
    """The ``neo4j-admin`` argument list that imports ``plan`` into ``database``."""
    args = ["database", "import", "full"]
    args += [f.argument for f in plan.files]
    args += [
        "--skip-duplicate-nodes=true",  # belt and braces: validation already drops duplicate keys
        "--bad-tolerance=0",  # a relationship to a missing node is a bug here, not data to skip
        f"--multiline-fields={'true' if plan.multiline else 'false'}",
        "--verbose=false",
    ]
    if overwrite:
        args.append("--overwrite-destination=true")
    args.append(database)
    return args


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


def _worth_a_worker(dataset_dir: Path, manifest: Manifest, tables: Sequence[str]) -> bool:
    if len(tables) < 2 or _cpus() < 2:
        return False
    size = 0
    for t in tables:
        path = find_table_file(dataset_dir, t, manifest)
        size += path.stat().st_size if path is not None else 0
    return size >= PARALLEL_MIN_BYTES


def _validate_tables(
    dataset_dir: Path, manifest: Manifest, tables: Sequence[str], chunksize: int, out: Any
) -> None:
    """Worker process: put ``("chunk", table, chunk)`` for each validated chunk of ``tables`` in
    order, ``("end", table, None)`` after each table, ``("error", table, exc)`` on a failure."""
    table = tables[0]
    try:
        for table in tables:
            for chunk in validate_table(dataset_dir, table, manifest, chunksize=chunksize):
                out.put(("chunk", table, chunk))
            out.put(("end", table, None))
    except Exception as exc:  # re-raised by the parent
        err: Exception = exc
        try:
            pickle.dumps(err)
        except Exception:
            err = RuntimeError(f"{type(exc).__name__}: {exc}")
        out.put(("error", table, err))


class _Validated:
    """The validated chunks of ``tables``, table by table, in order.

    The first table is validated in this process when asked for; with ``worker``,
    the others are validated meanwhile in a child process (``spawn``: nothing of this
    process is inherited), which stays at most :data:`_QUEUE_CHUNKS` chunks ahead, so
    memory stays bounded. Its errors (a missing required column ...) are raised here,
    where the table's chunks are asked for, as they would be without it.
    """

    def __init__(self, dataset_dir: Path, manifest: Manifest, tables: Sequence[str], chunksize: int,
                 *, worker: bool):
        self.dataset_dir, self.manifest, self.chunksize = dataset_dir, manifest, chunksize
        self._remote: set[str] = set()
        self._proc: Any = None
        self._queue: Any = None
        if worker and len(tables) > 1:
            ctx = multiprocessing.get_context("spawn")
            self._queue = ctx.Queue(maxsize=_QUEUE_CHUNKS)
            self._remote = set(tables[1:])
            self._proc = ctx.Process(target=_validate_tables, name="chainrisk-validate", daemon=True,
                                     args=(dataset_dir, manifest, list(tables[1:]), chunksize, self._queue))
            self._proc.start()

    def chunks(self, table: str) -> Iterator[ValidatedChunk]:
        """The chunks of ``table`` (:func:`ingest.validate.validate_table`)."""
        if table not in self._remote:
            yield from validate_table(self.dataset_dir, table, self.manifest, chunksize=self.chunksize)
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


def write_import_csvs(
    dataset_dir: str | Path,
    folder: str | Path,
    *,
    run_id: str | None = None,
    now: datetime | None = None,
    quarantine_dir: str | Path | None = None,
    chunksize: int = 100_000,
    progress: Any = None,
    parallel: bool | None = None,
) -> ImportPlan:
    """Validate ``dataset_dir`` chunk by chunk and write importer CSVs into ``folder``.

    Memory holds a few chunks plus the sets of firm, person, platform and loan ids
    (for external counterparties and the ``HAS_STATUS`` links), never a whole table.

    With ``parallel`` (default: when the dataset holds at least
    :data:`PARALLEL_MIN_BYTES` and two CPUs are available), the tables after the first
    are validated in a worker process (:class:`_Validated`) while this one turns
    chunks into CSV text, at most :data:`_QUEUE_CHUNKS` chunks ahead. The files are
    the same either way.
    """
    t0 = time.monotonic()
    dataset_dir = Path(dataset_dir)
    manifest = read_manifest(dataset_dir)
    now = now or datetime.now(UTC)
    run_id = run_id or f"ingest-{now.strftime('%Y%m%dT%H%M%S')}-bulk"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    qdir = Path(quarantine_dir) if quarantine_dir is not None else dataset_dir / "_quarantine"
    quarantine = QuarantineWriter(qdir)
    for table in TABLES:
        quarantine.path(table).unlink(missing_ok=True)
    report = IngestReport(
        dataset=str(dataset_dir), source=manifest.source, as_of=manifest.as_of, mode=manifest.mode,
        run_id=run_id, bulk=True, quarantine_dir=str(qdir),
    )
    prov = [manifest.source, run_id, now.isoformat()]
    files = _Files(folder)
    firms: set[str] = set()
    referenced: set[str] = set()
    persons: set[str] = set()
    platforms: set[str] = set()
    loans: set[str] = set()
    tables = [t for t in LOAD_ORDER
              if not (TABLES[t].optional and find_table_file(dataset_dir, t, manifest) is None)]
    if parallel is None:
        parallel = _worth_a_worker(dataset_dir, manifest, tables)
    validated = _Validated(dataset_dir, manifest, tables, chunksize, worker=parallel)
    try:
        for table in tables:
            t1 = time.monotonic()
            tr = report.tables.setdefault(table, TableReport(table))
            if progress is not None:
                progress.start(table, None)
            for chunk in validated.chunks(table):
                bad = 0 if chunk.quarantine.empty else int(
                    chunk.quarantine[["file", "row"]].drop_duplicates().shape[0])
                tr.read += len(chunk.good) + bad
                tr.quarantined += bad
                tr.warnings.extend(chunk.warnings)
                quarantine.write(table, chunk.quarantine)
                if not chunk.good.empty:
                    cols = chunk_columns(chunk.good, table, source=manifest.source)
                    before = len(referenced - firms) if table != "firms" else 0
                    _write_chunk(files, table, cols, prov, firms, referenced, persons, platforms, loans)
                    # externals are counted on the first table (in load order) that names them, as with MERGE
                    if table != "firms":
                        tr.externals += len(referenced - firms) - before
                    tr.created += cols.rows
                if progress is not None:
                    progress.advance(table, len(chunk.good) + bad)
            if progress is not None:
                progress.finish(table)
            tr.seconds = time.monotonic() - t1
        externals = sorted(referenced - firms)
        files.write_columns("firm_external", "nodes", "Firm",
                            ["uscc:ID(Firm)", "external:boolean", *_ENDPOINT_PROVENANCE],
                            [externals, ["true"] * len(externals)], prov)
        files.write_columns("person", "nodes", "Person", ["person_id:ID(Person)", *_ENDPOINT_PROVENANCE],
                            [sorted(persons)], prov)
        files.write_columns("platform", "nodes", "Platform",
                            ["platform_id:ID(Platform)", *_ENDPOINT_PROVENANCE], [sorted(platforms)], prov)
        report.seconds = time.monotonic() - t0
        _write_bookkeeping(files, report, manifest, dataset_dir, run_id, now)
    finally:
        validated.close()
        files.close()
    entities = sum(f.rows for f in files.files.values())
    return ImportPlan(folder, list(files.files.values()), report, files.multiline, entities)


@dataclass
class ChunkColumns:
    """One validated chunk as columns of CSV fields: the CSV path's counterpart of
    :func:`ingest.loader.prepare_rows` (same keys, hashes, ids and values), one list per field.

    ``k``, ``h``, ``u`` and the ``cells`` of the stored columns are ``str`` (a missing
    value is ``""``); the ids ``a``, ``b`` and the start type ``t`` are ``None`` where missing.
    """

    rows: int
    k: Sequence[str]
    h: Sequence[str]
    a: Sequence[str | None]
    b: Sequence[str | None]
    t: Sequence[str | None]
    u: Sequence[str]
    cells: dict[str, Sequence[str]]


#: Key column kinds whose ``key_strings`` text is their canonical text (months: its first 7 characters).
_TEXT_KINDS = frozenset({"str", "uscc", "id", "enum"})


def chunk_columns(df: pd.DataFrame, table: str, *, source: str) -> ChunkColumns:
    """The fields of one validated chunk of ``table``, column by column.

    Each contract column is rendered once (:func:`ingest.row_hash.canonical_parts`):
    its canonical text is the row hash's input, the CSV field (dates ``YYYY-MM-DD``,
    floats ``repr``, booleans ``true``/``false``, ``""`` where missing) and, for
    identity columns, the part of the key (as :func:`ingest.loader.key_strings`
    makes it) and of the ``uid`` (:func:`ingest.loader.uid_strings`). No per-row
    dict and no per-cell formatting.

    >>> df = pd.DataFrame({"supplier_uscc": ["A"], "buyer_uscc": ["B"], "annual_value": [2.0],
    ...                    "start": pd.to_datetime(["2023-01-01"]), "end": pd.to_datetime([None])})
    >>> c = chunk_columns(df, "supply", source="p1")
    >>> c.k, c.u, c.a, c.b, c.t, c.cells["annual_value"], c.cells["end"]
    (['2023-01-01'], ['A|B|2023-01-01'], ['A'], ['B'], [None], ['2.0'], [''])
    """
    gt = GRAPH_TABLES[table]
    spec = TABLES[table]
    n = len(df)
    parts: dict[str, tuple[list[str], list[bool] | None]] = {
        c: canonical_parts(df[c]) if c in df.columns else ([NA_TEXT] * n, [True] * n)
        for c in spec.column_names
    }

    def cells(c: str) -> Sequence[str]:
        texts, mask = parts[c]
        return texts if mask is None else ["" if m else t for t, m in zip(texts, mask, strict=True)]

    def ids(c: str | None) -> Sequence[str | None]:
        if c is None:
            return [None] * n
        texts, mask = parts[c]
        return texts if mask is None else [None if m else t for t, m in zip(texts, mask, strict=True)]

    def key() -> Sequence[str]:
        cols: list[Sequence[str]] = []
        for c in gt.key:
            kind = spec.column(c).kind
            if c not in df.columns:
                cols.append([""] * n)
            elif kind in ("date", "month") and pd.api.types.is_datetime64_any_dtype(df[c].dtype):
                texts = cells(c)
                cols.append([t[:7] for t in texts] if kind == "month" else texts)
            elif kind in _TEXT_KINDS and pd.api.types.infer_dtype(df[c], skipna=True) in ("string", "empty"):
                cols.append(cells(c))
            else:  # not a validated frame's dtype: the loader's own rendering
                return key_strings(df, table, gt.key)
        return cols[0] if len(cols) == 1 else list(map("|".join, zip(*cols, strict=True)))

    k = key()
    a = ids(gt.start.column if gt.start is not None else None)
    b = ids(gt.end.column if gt.end is not None else None)
    return ChunkColumns(
        rows=n,
        k=k,
        h=hashes_of_parts([p[0] for p in parts.values()], source=source, rows=n),
        a=a,
        b=b,
        t=ids(gt.start.type_column if gt.start is not None else None),
        u=_uids(a, b, k) if gt.is_relationship else [],
        cells={c: cells(c) for c in gt.props},
    )


def _uids(a: Sequence[str | None], b: Sequence[str | None], k: Sequence[str]) -> list[str]:
    """:func:`ingest.loader.uid_strings`, joined directly when no id is missing (both are required)."""
    if None in a or None in b:
        return uid_strings(a, b, k)
    return list(map("|".join, zip(cast(Sequence[str], a), cast(Sequence[str], b), k, strict=True)))


def _present(ids: Sequence[str | None], known: set[str] | None = None) -> list[int] | None:
    """Positions of the ids that are not ``None`` (and in ``known``, if given); ``None``: all of them."""
    if None not in ids and (known is None or known.issuperset(ids)):
        return None
    return [i for i, v in enumerate(ids) if v is not None and (known is None or v in known)]


def _take(col: Sequence[Any], keep: list[int] | None) -> Sequence[Any]:
    """``col`` at the positions ``keep`` (all of it when ``None``)."""
    return col if keep is None else [col[i] for i in keep]


def _write_chunk(
    files: _Files,
    table: str,
    ch: ChunkColumns,
    prov: list[str],
    firms: set[str],
    referenced: set[str],
    persons: set[str],
    platforms: set[str],
    loans: set[str],
) -> None:
    gt = GRAPH_TABLES[table]
    link_tail = prov[:2]  # structural links and fact relationships carry no ingested_at
    if table in _NODE_TABLES:
        label, id_prop = _NODE_TABLES[table]
        props = [c for c in gt.props if c != id_prop]
        header = [f"{id_prop}:ID({label})", *typed_header(table, props), *_PROVENANCE]
        cols = [ch.k, *(ch.cells[c] for c in props)]
        if table == "firms":
            header.insert(len(props) + 1, "external:boolean")
            files.write_columns(table, "nodes", label, header, [*cols, ["false"] * ch.rows, ch.h], prov)
            firms.update(ch.k)
            keep = _present(ch.a)
            platform_ids: Sequence[str] = _take(ch.a, keep)
            platforms.update(platform_ids)
            files.write_columns("on_platform", "relationships", "ON_PLATFORM",
                                [":START_ID(Firm)", ":END_ID(Platform)", *_LINK_PROVENANCE],
                                [_take(ch.k, keep), platform_ids], link_tail)
            return
        files.write_columns(table, "nodes", label, header, [*cols, ch.h], prov)
        if table == "loans":
            loans.update(ch.k)
        rel, parent = _PARENT_LINKS[table]
        keep = _present(ch.a, loans if parent == "Loan" else None)
        starts: Sequence[str] = _take(ch.a, keep)
        if parent == "Firm":
            referenced.update(starts)
        files.write_columns(f"{table}_link", "relationships", rel,
                            [f":START_ID({parent})", f":END_ID({label})", *_LINK_PROVENANCE],
                            [starts, _take(ch.k, keep)], link_tail)
        return
    rel = _REL_TABLES[table]
    header_props = typed_header(table, gt.props)
    person = [i for i, t in enumerate(ch.t) if t == "person"]
    is_person = set(person)
    firm = [i for i in range(ch.rows) if i not in is_person] if person else None
    parties: tuple[tuple[str, list[int] | None], ...] = (("firm", firm), ("person", person))
    for party, keep in parties:
        if keep is not None and not keep:
            continue
        start = "Person" if party == "person" else "Firm"
        starts = _take(ch.a, keep)
        ends = _take(ch.b, keep)
        (persons if party == "person" else referenced).update(starts)
        referenced.update(ends)
        files.write_columns(f"{table}_{party}", "relationships", rel,
                            [f":START_ID({start})", ":END_ID(Firm)", "uid", *header_props, *_REL_PROVENANCE],
                            [starts, ends, _take(ch.u, keep), *(_take(ch.cells[c], keep) for c in gt.props),
                             _take(ch.h, keep)], link_tail)


def _write_bookkeeping(
    files: _Files, report: IngestReport, manifest: Manifest, dataset_dir: Path, run_id: str, now: datetime
) -> None:
    """The schema marker and the committed ingest run, as nodes of the import."""
    files.write("meta", "nodes", "ChainriskMeta",
                ["key:ID(ChainriskMeta)", "created_at:datetime", "created_by", "schema_version:long"],
                [["schema", now.isoformat(), "chainrisk", str(SCHEMA_VERSION)]])
    parameters = {
        "dataset": str(dataset_dir), "source": manifest.source, "as_of": manifest.as_of.isoformat(),
        "mode": manifest.mode, "currency": manifest.currency, "unit": manifest.unit, "bulk": True,
    }
    finished = datetime.now(UTC)
    files.write("run", "nodes", "Run",
                ["run_id:ID(Run)", "kind", "status", "started:datetime", "finished:datetime", "as_of:date",
                 "code_version", "parameters_hash", "parameters", "summary"],
                [[run_id, "ingest", "committed", now.isoformat(), finished.isoformat(),
                  manifest.as_of.isoformat(), __version__, parameters_hash(parameters),
                  json.dumps(parameters, sort_keys=True, ensure_ascii=False),
                  json.dumps(report.to_dict(), default=str, ensure_ascii=False)]])


def _database_exists(settings: Settings, database: str) -> bool:
    return (Path(settings.server_home) / "data" / "databases" / database).exists()


def bulk_load(
    dataset_dir: str | Path,
    *,
    settings: Settings | None = None,
    database: str | None = None,
    force: bool = False,
    quarantine_dir: str | Path | None = None,
    chunksize: int = 100_000,
    progress: Any = None,
    start_after: bool = True,
    keep_csvs: bool = False,
    parallel: bool | None = None,
) -> IngestReport:
    """First load of ``dataset_dir`` through ``neo4j-admin database import full``.

    Parameters
    ----------
    dataset_dir : str or Path
    settings : Settings, optional
        Which local server home (default: the process settings).
    database : str, optional
        Default ``settings.neo4j_database``.
    force : bool
        Replace an existing database (everything in it is lost). Without it, a
        database that exists already is refused: the importer only creates.
    start_after : bool
        Start the server afterwards and apply the schema (constraints cannot be
        imported); the server is left running. Without it, the next
        ``chainrisk ingest`` applies the schema.
    keep_csvs : bool
        Keep the CSVs (under ``<server home>/import/``) after a successful import.
    parallel : bool, optional
        Validate in a worker process (see :func:`write_import_csvs`; default: for large datasets).

    Raises
    ------
    GraphError
        The server is running, the database exists (without ``force``), or the importer failed
        (its output is in the message; the CSVs are kept for inspection).
    """
    from graph import server

    s = settings or get_settings()
    db = database or s.neo4j_database
    if server.server_pid(s) is not None:
        raise GraphError("the bulk import needs the server stopped: run `chainrisk db stop` first")
    if _database_exists(s, db) and not force:
        raise GraphError(
            f"database {db!r} exists in {s.server_home}; the bulk import replaces a whole database: "
            "pass --force to overwrite it, or load with MERGE (without --bulk)"
        )
    now = datetime.now(UTC)
    run_id = f"ingest-{now.strftime('%Y%m%dT%H%M%S')}-bulk"
    folder = Path(s.server_home) / "import" / run_id
    plan = write_import_csvs(dataset_dir, folder, run_id=run_id, now=now, quarantine_dir=quarantine_dir,
                             chunksize=chunksize, progress=progress, parallel=parallel)
    t0 = time.monotonic()
    proc = server.run_admin(s, admin_arguments(plan, db, overwrite=True), heap="1g")
    if proc.returncode != 0:
        tail = (proc.stdout or "")[-1500:] + (proc.stderr or "")[-1500:]
        raise GraphError(f"neo4j-admin database import failed (CSVs kept in {folder}): {tail.strip()}")
    plan.report.seconds += time.monotonic() - t0
    if not keep_csvs:
        shutil.rmtree(folder, ignore_errors=True)
    if start_after:
        _apply_schema_after_import(s)
    return plan.report


def _apply_schema_after_import(settings: Settings) -> None:
    from graph import server
    from graph.runner import GraphRunner
    from graph.schema import ensure_schema

    try:
        server.start_server(settings)
    except ServerBuildError as exc:
        raise GraphError(f"imported, but the server did not start to apply the schema: {exc}") from exc
    with GraphRunner.from_settings(settings) as runner:
        ensure_schema(runner)
