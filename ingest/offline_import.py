"""Bulk first load: validated rows -> ``neo4j-admin database import full`` CSVs -> a new database.

Neo4j's offline importer writes the store files directly and is how Neo4j
recommends loading a large graph the first time (hundreds of thousands of
entities a second, against tens of thousands through ``MERGE``). It needs the
server stopped and replaces the whole database, so chainrisk uses it only for a
first load; later loads go through :func:`ingest.load.load_dataset` (``MERGE``).

The CSVs come from the same dataset stream (:class:`ingest.dataset.DatasetStream`)
and the same table -> graph map (``ingest.tables``) as the Bolt path, and hold the
same fields as its rows (:func:`ingest.rows.prepare_rows`), built column by column
instead (:mod:`ingest.offline_import_csv`), so every node and relationship gets
the same properties, ``key``, ``uid`` and ``row_hash``: re-ingesting the same
dataset with ``MERGE`` afterwards reports zero changes. The import also holds the
``(:ChainriskMeta {key: 'schema'})`` marker (``graph.schema.schema_marker``, so
``ensure_schema`` recognises the database as chainrisk's) and the committed
``(:Run)`` of this ingest (``graph.runs.run_properties``). Constraints and
indexes cannot be imported: :func:`bulk_load` starts the
server afterwards and applies them (``graph.schema.ensure_schema``).

Files: one header file and one data file per node label / relationship type
(and start label, for ``GUARANTEES`` and ``OWNS``, whose start is a Firm or a
Person), headers typed as the importer expects (``uscc:ID(Firm)``,
``:START_ID(Firm)``, ``start:date``, ``amount:double``, ``employees:long`` ...).
An empty field is a missing property, as a ``null`` is on the ``MERGE`` path.

Speed: on a 2-core machine, 100k firms (3.5M input rows, 6.0M entities) take
about 23 s with validation in a worker process, 37 s without (75 s with per-row dicts and
``csv.writer``); validation is then the larger half (``ingest.validate``).

>>> from ingest.tables import TABLES
>>> typed_header(TABLES["supply"], ("annual_value", "start"))
['annual_value:double', 'start:date']
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from chainrisk.errors import GraphError, ServerBuildError
from chainrisk.settings import Settings, get_settings
from graph.runs import run_properties
from graph.schema import schema_marker
from ingest.dataset import DEFAULT_CHUNKSIZE, DatasetStream
from ingest.manifest import Manifest
from ingest.offline_import_csv import ChunkColumns, CsvFiles, ImportFile, chunk_columns, present, take
from ingest.report import IngestReport, Progress
from ingest.tables import CONTRACT, ENDPOINT_NODES, PROVENANCE, Contract, NodeMap, RelMap, TableSpec

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
#: Importer types of the provenance properties that are not strings.
_PROVENANCE_TYPES = {"ingested_at": "datetime"}


def _provenance(kind: str) -> list[str]:
    """Header fields of one kind of provenance (``ingest.tables.PROVENANCE``)."""
    return [f"{p}:{_PROVENANCE_TYPES[p]}" if p in _PROVENANCE_TYPES else p for p in PROVENANCE[kind]]


def _provenance_values(kind: str, source: str, run_id: str, now: datetime) -> list[str]:
    """The constant tail of a row: every provenance field but ``row_hash`` (a column)."""
    values = {"source": source, "ingest_run": run_id, "ingested_at": now.isoformat()}
    return [values[p] for p in PROVENANCE[kind] if p != "row_hash"]


def typed_header(spec: TableSpec, columns: Sequence[str]) -> list[str]:
    """Header fields ``name:type`` for ``columns`` of the table ``spec`` (strings stay untyped)."""
    out = []
    for c in columns:
        t = _KIND_TYPES.get(spec.column(c).kind)
        out.append(f"{c}:{t}" if t else c)
    return out


def _typed_record(props: Mapping[str, Any], id_property: str, label: str) -> tuple[list[str], list[str]]:
    """A header and a row for one node given as a property map (``None``: not stored)."""
    header, row = [], []
    for k, v in props.items():
        if v is None:
            continue
        if k == id_property:
            header.append(f"{k}:ID({label})")
        elif isinstance(v, bool):
            header.append(f"{k}:boolean")
        elif isinstance(v, int):
            header.append(f"{k}:long")
        elif isinstance(v, datetime):
            header.append(f"{k}:datetime")
        elif isinstance(v, date):
            header.append(f"{k}:date")
        else:
            header.append(k)
        text = v.isoformat() if isinstance(v, date) else str(v).lower() if isinstance(v, bool) else str(v)
        row.append(text)
    return header, row


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


@dataclass
class _Known:
    """Ids seen so far, by endpoint kind: firms of the firms table, and every other id named."""

    firms: set[str] = field(default_factory=set)
    named: dict[str, set[str]] = field(default_factory=lambda: {"firm": set(), "person": set(),
                                                                 "platform": set(), "loan": set()})


def write_import_csvs(
    dataset_dir: str | Path,
    folder: str | Path,
    *,
    run_id: str | None = None,
    now: datetime | None = None,
    quarantine_dir: str | Path | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    progress: Progress | None = None,
    parallel: bool | None = None,
    contract: Contract = CONTRACT,
) -> ImportPlan:
    """Validate ``dataset_dir`` chunk by chunk and write importer CSVs into ``folder``.

    Memory holds a few chunks plus the sets of firm, person, platform and loan ids
    (for external counterparties and the ``HAS_STATUS`` links), never a whole table.
    With ``parallel`` (default: for large datasets) validation runs in a worker process
    (:class:`ingest.dataset.DatasetStream`) while this one turns chunks into CSV text;
    the files are the same either way.
    """
    now = now or datetime.now(UTC)
    run_id = run_id or f"ingest-{now.strftime('%Y%m%dT%H%M%S')}-bulk"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = CsvFiles(folder)
    known = _Known()
    try:
        with DatasetStream(dataset_dir, contract=contract, quarantine_dir=quarantine_dir, chunksize=chunksize,
                           parallel=parallel, progress=progress, run_id=run_id, bulk=True) as stream:
            manifest, report = stream.manifest, stream.report
            for table in stream:
                first = table.spec.graph == contract[contract.load_order[0]].graph
                for good in table:
                    cols = chunk_columns(good, table.spec, source=manifest.source)
                    before = len(known.named["firm"] - known.firms)
                    _write_chunk(files, table.spec, cols, manifest.source, run_id, now, known)
                    # externals are counted on the first table (in load order) that names them, as with MERGE
                    if not first:
                        table.report.externals += len(known.named["firm"] - known.firms) - before
                    table.report.created += cols.rows
            _write_endpoints(files, known, manifest.source, run_id, now)
            _write_bookkeeping(files, report, manifest, Path(dataset_dir), run_id, now)
    finally:
        files.close()
    entities = sum(f.rows for f in files.files.values())
    return ImportPlan(folder, list(files.files.values()), report, files.multiline, entities)


def _write_chunk(files: CsvFiles, spec: TableSpec, ch: ChunkColumns, source: str, run_id: str,
                 now: datetime, known: _Known) -> None:
    g = spec.graph
    tail_node = _provenance_values("fact_node", source, run_id, now)
    tail_link = _provenance_values("structural", source, run_id, now)
    if isinstance(g, NodeMap):
        stored = list(spec.stored)
        fixed = [f"{p}:boolean" for p, _ in g.fixed]
        header = [f"{g.id_property}:ID({g.label})", *typed_header(spec, stored), *fixed,
                  *_provenance("fact_node")]
        cols = [ch.k, *(ch.cells[c] for c in stored), *([str(v).lower()] * ch.rows for _, v in g.fixed), ch.h]
        files.write_columns(spec.name, "nodes", g.label, header, cols, tail_node)
        if (g.label, g.id_property) == ENDPOINT_NODES["firm"]:
            known.firms.update(ch.k)
        elif (g.label, g.id_property) == ENDPOINT_NODES["loan"]:
            known.named["loan"].update(ch.k)
        plabel = ENDPOINT_NODES[g.parent.kind][0]
        # a status of an unknown loan is stored without its link, as on the Bolt path
        keep = present(ch.a, known.named["loan"] if g.parent.kind == "loan" else None)
        parents: Sequence[str] = take(ch.a, keep)
        if g.parent.kind != "loan":
            known.named[g.parent.kind].update(parents)
        nodes = take(ch.k, keep)
        if g.outgoing:
            link_header = [f":START_ID({g.label})", f":END_ID({plabel})", *_provenance("structural")]
            link_cols = [nodes, parents]
        else:
            link_header = [f":START_ID({plabel})", f":END_ID({g.label})", *_provenance("structural")]
            link_cols = [parents, nodes]
        files.write_columns(f"{spec.name}_link", "relationships", g.link, link_header, link_cols, tail_link)
        return
    assert isinstance(g, RelMap)
    stored = list(spec.stored)
    end_label = ENDPOINT_NODES[g.end.kind][0]
    header_props = typed_header(spec, stored)
    person = [i for i, t in enumerate(ch.t) if t == "person"] if g.start.kind == "party" else []
    is_person = set(person)
    firm = [i for i in range(ch.rows) if i not in is_person] if person else None
    parties: tuple[tuple[str, list[int] | None], ...] = (("firm", firm), ("person", person))
    tail = _provenance_values("fact_link", source, run_id, now)
    for party, keep in parties:
        if keep is not None and not keep:
            continue
        kind = party if g.start.kind == "party" else g.start.kind
        start_label = ENDPOINT_NODES[kind][0]
        starts = take(ch.a, keep)
        ends = take(ch.b, keep)
        known.named[kind].update(starts)
        known.named[g.end.kind].update(ends)
        files.write_columns(f"{spec.name}_{party}", "relationships", g.type,
                            [f":START_ID({start_label})", f":END_ID({end_label})", "uid", *header_props,
                             *_provenance("fact_link")],
                            [starts, ends, take(ch.u, keep), *(take(ch.cells[c], keep) for c in stored),
                             take(ch.h, keep)], tail)


def _write_endpoints(files: CsvFiles, known: _Known, source: str, run_id: str, now: datetime) -> None:
    """Nodes only named by rows: external firms, persons, platforms (never loans: see above)."""
    tail = _provenance_values("endpoint", source, run_id, now)
    prov = _provenance("endpoint")
    externals = sorted(known.named["firm"] - known.firms)
    label, prop = ENDPOINT_NODES["firm"]
    files.write_columns("firm_external", "nodes", label, [f"{prop}:ID({label})", "external:boolean", *prov],
                        [externals, ["true"] * len(externals)], tail)
    for kind in ("person", "platform"):
        label, prop = ENDPOINT_NODES[kind]
        files.write_columns(kind, "nodes", label, [f"{prop}:ID({label})", *prov],
                            [sorted(known.named[kind])], tail)


def _write_bookkeeping(
    files: CsvFiles, report: IngestReport, manifest: Manifest, dataset_dir: Path, run_id: str, now: datetime
) -> None:
    """The schema marker and the committed ingest run, as nodes of the import."""
    header, row = _typed_record(schema_marker(now), "key", "ChainriskMeta")
    files.write("meta", "nodes", "ChainriskMeta", header, [row])
    parameters = {
        "dataset": str(dataset_dir), "source": manifest.source, "as_of": manifest.as_of.isoformat(),
        "mode": manifest.mode, "currency": manifest.currency, "unit": manifest.unit, "bulk": True,
    }
    props = run_properties(run_id=run_id, kind="ingest", status="committed", started=now,
                           finished=datetime.now(UTC), as_of=manifest.as_of, parameters=parameters,
                           summary=report.to_dict())
    header, row = _typed_record(props, "run_id", "Run")
    files.write("run", "nodes", "Run", header, [row])


def _database_exists(settings: Settings, database: str) -> bool:
    return (Path(settings.server_home) / "data" / "databases" / database).exists()


def bulk_load(
    dataset_dir: str | Path,
    *,
    settings: Settings | None = None,
    database: str | None = None,
    force: bool = False,
    quarantine_dir: str | Path | None = None,
    chunksize: int = DEFAULT_CHUNKSIZE,
    progress: Progress | None = None,
    start_after: bool = True,
    keep_csvs: bool = False,
    parallel: bool | None = None,
    contract: Contract = CONTRACT,
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
    contract : Contract
        The tables and their graph map (default: the shipped contract).

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
                             chunksize=chunksize, progress=progress, parallel=parallel, contract=contract)
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
