"""Ingest benchmark: bulk import, incremental MERGE, per-row baseline, re-ingest, peak memory.

Prints figures; never asserts a time. Everything runs against a scratch server
home of its own (``<work>/neo4j``, free ports), never the development server.

    python bench/ingest.py                 # 100k firms (~3.5M rows), several minutes
    python bench/ingest.py --quick         # 2k firms, about a minute
    python bench/ingest.py --firms 20000 --work out/bench-ingest

Figures:

1. MERGE load of the generated dataset into an empty database (``load_dataset``,
   in a child process whose peak RSS is the "ingest peak memory": the largest
   table, ``signals``, has ~1.3M rows at 100k firms): relationships/s over the
   relationship tables, rows/s overall.
2. Re-ingest of the unchanged dataset: changes and properties set (both 0) and its
   time against the first load.
3. Batched MERGE vs one transaction per row on a sample of new supply links, in
   this process: rows/s each and the ratio.
4. Bulk first load: import CSVs + ``neo4j-admin database import full`` into the
   stopped server (entities/s = nodes + relationships over CSV writing + import),
   then a MERGE re-ingest on top of it (0 changes expected).
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chainrisk.settings import Settings  # noqa: E402

REL_TABLES = ("supply", "receivables", "guarantees", "ownership")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _settings(home: Path, writers: int) -> Settings:
    bolt = _free_port()
    return Settings(
        _env_file=None, server_home=home, bolt_port=bolt, http_port=_free_port(),
        # page cache sized to the store (1.8 GB at 100k firms over 13 months), as a bank would size it
        neo4j_uri=f"bolt://127.0.0.1:{bolt}", heap="2g", pagecache="3g", transaction_max="1g",
        ingest_writers=writers,
    )


def _env(s: Settings) -> dict[str, str]:
    import os

    return {**os.environ, "NEO4J_URI": s.neo4j_uri, "CHAINRISK_SERVER_HOME": str(s.server_home),
            "CHAINRISK_BOLT_PORT": str(s.bolt_port), "CHAINRISK_HTTP_PORT": str(s.http_port),
            "CHAINRISK_INGEST_WRITERS": str(s.ingest_writers)}


def _child_load(dataset: str, qdir: str) -> None:
    """Run one MERGE ingest and print its report and this process's peak RSS as JSON."""
    from ingest.load import load_dataset

    t = time.monotonic()
    report = load_dataset(dataset, quarantine_dir=qdir)
    out = report.to_dict()
    out["wall_s"] = time.monotonic() - t
    out["properties_set"] = report.properties_set
    out["changes"] = report.changes
    out["maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # the validation worker (ingest.validate_worker), when the dataset is large enough for one
    out["worker_maxrss_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("BENCH-JSON " + json.dumps(out, default=str))


def _load_in_child(dataset: Path, s: Settings, qdir: Path) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child-load", str(dataset), "--quarantine-dir", str(qdir)],
        env=_env(s), capture_output=True, text=True, check=False,
    )
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH-JSON ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"child load failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(line.removeprefix("BENCH-JSON "))
    return result


def _rel_rate(rep: dict[str, Any]) -> tuple[int, float]:
    tabs = rep["tables"]
    n = sum(tabs[t]["created"] + tabs[t]["updated"] + tabs[t]["unchanged"] for t in REL_TABLES if t in tabs)
    secs = sum(tabs[t]["seconds"] for t in REL_TABLES if t in tabs)
    return n, secs


def _per_row_vs_batched(s: Settings, dataset: Path, n_batched: int, n_single: int,
                        writers: int) -> dict[str, float]:
    """New supply links into the loaded graph, same process, same ``MERGE`` query.

    Batched is the loader's own path (``TableLoader``: 5k-row batches, ``writers`` at
    once; the firms are known to exist, as after an ingest's firms table); the
    baseline writes one row per transaction in a loop.
    """
    import pandas as pd

    from graph.runner import GraphRunner
    from ingest.cypher import table_cypher
    from ingest.report import TableReport
    from ingest.rows import prepare_rows
    from ingest.table_loader import LoadContext, TableLoader
    from ingest.tables import TABLES

    frame = pd.read_parquet(dataset / "supply.parquet")
    frame = frame.drop_duplicates(["supplier_uscc", "buyer_uscc", "start"]).head(n_batched + n_single)
    frame["start"] = pd.to_datetime(frame["start"]) + timedelta(days=1)  # new identities: fresh links
    frame["end"] = pd.to_datetime(frame["end"])
    now = pd.Timestamp.now(tz="UTC").to_pydatetime()
    with GraphRunner.from_settings(s) as g:
        ctx = LoadContext(runner=g, run_id="bench", source="bench", as_of=now.date(), mode="delta", now=now,
                          batch_size=s.batch_size, writers=writers)
        # as in an ingest, whose firms table ran first: the endpoints are known to exist, so
        # both sides run the same query on the same rows and nothing else
        ctx.known_ids("firm").update(r["u"] for r in g.read("MATCH (f:Firm) RETURN f.uscc AS u"))
        report = TableReport("supply")
        loader = TableLoader(ctx, TABLES["supply"], report)
        t = time.perf_counter()
        loader.load_chunk(frame.head(n_batched))
        loader.finish()
        batched = n_batched / (time.perf_counter() - t)
        assert not loader.first_load and report.created == n_batched, report
        q = table_cypher(TABLES["supply"]).load
        single_rows = prepare_rows(frame.iloc[n_batched:], TABLES["supply"], source="bench")
        t = time.perf_counter()
        for r in single_rows:
            g.write(q, {**ctx.params, "rows": [r]})
        single = len(single_rows) / (time.perf_counter() - t)
    return {"batched_rows_s": batched, "single_rows_s": single, "ratio": batched / single}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firms", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months", type=int, default=13, help="generator window (signals rows = firms x months)")
    ap.add_argument("--quick", action="store_true", help="2,000 firms")
    ap.add_argument("--writers", type=int, default=2, help="batches written at once (ingest_writers)")
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "chainrisk-bench-ingest")
    ap.add_argument("--child-load", help=argparse.SUPPRESS)
    ap.add_argument("--quarantine-dir", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child_load:
        _child_load(args.child_load, args.quarantine_dir)
        return

    from graph import server
    from graph.runner import GraphRunner
    from graph.schema import ensure_schema
    from ingest.generate import generate
    from ingest.offline_import import admin_arguments, write_import_csvs

    firms = 2_000 if args.quick else args.firms
    work = args.work
    dataset = work / f"g{firms}-s{args.seed}-m{args.months}"
    if not (dataset / "dataset.yaml").exists():
        t = time.monotonic()
        summary = generate(dataset, firms=firms, seed=args.seed, months=args.months)
        print(f"generated {firms:,} firms, {summary.supply_links:,} supply and {summary.guarantee_links:,} "
              f"guarantee links in {time.monotonic() - t:.1f} s -> {dataset}")
    s = _settings(work / "neo4j", args.writers)
    server.stop_server(s)
    import shutil

    shutil.rmtree(work / "neo4j", ignore_errors=True)
    qdir = work / "quarantine"
    try:
        # 1. MERGE load into an empty database, in a child process (peak RSS)
        server.start_server(s)
        first = _load_in_child(dataset, s, qdir)
        n_rel, rel_s = _rel_rate(first)
        rows = first["totals"]["read"] - first["totals"]["quarantined"]
        rate = rows / first["wall_s"]
        print(f"\n[MERGE load] {rows:,} rows in {first['wall_s']:.1f} s = {rate:,.0f} rows/s; "
              f"relationship tables {n_rel:,} rows in {rel_s:.1f} s = {n_rel / rel_s:,.0f} rels/s")
        for name, tr in first["tables"].items():
            print(f"  {name:<12} {tr['created']:>9,} created {tr['externals']:>7,} externals "
                  f"{tr['quarantined']:>6,} quarantined {tr['seconds']:7.1f} s")
        print(f"[memory] ingest process peak RSS {first['maxrss_mib']:,.0f} MiB, its validation worker "
              f"{first['worker_maxrss_mib']:,.0f} MiB "
              f"(largest table: signals, {first['tables'].get('signals', {}).get('read', 0):,} rows)")

        # 2. re-ingest unchanged
        again = _load_in_child(dataset, s, qdir)
        print(f"[re-ingest unchanged] changes={again['changes']} properties_set={again['properties_set']} "
              f"in {again['wall_s']:.1f} s ({again['wall_s'] / first['wall_s']:.0%} of the first load); "
              f"peak RSS {again['maxrss_mib']:,.0f} MiB")

        # 3. batched vs one transaction per row, same process
        nb, ns = (2_000, 200) if args.quick else (50_000, 1_000)
        cmp_ = _per_row_vs_batched(s, dataset, nb, ns, args.writers)
        print(f"[batched vs per-row] batched MERGE ({args.writers} writers) "
              f"{cmp_['batched_rows_s']:,.0f} rels/s, one tx per row "
              f"{cmp_['single_rows_s']:,.0f} rels/s: ratio {cmp_['ratio']:,.0f}x")
        server.stop_server(s)

        # 4. bulk first load (server stopped, database replaced)
        t = time.monotonic()
        plan = write_import_csvs(dataset, work / "import-csv", quarantine_dir=qdir)
        csv_s = time.monotonic() - t
        t = time.monotonic()
        proc = server.run_admin(s, admin_arguments(plan, s.neo4j_database, overwrite=True), heap="2g")
        imp_s = time.monotonic() - t
        if proc.returncode != 0:
            raise SystemExit(f"import failed: {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
        done = [ln.strip() for ln in proc.stdout.splitlines() if "IMPORT DONE" in ln]
        print(f"[bulk import] {plan.entities:,} entities: CSVs {csv_s:.1f} s + neo4j-admin {imp_s:.1f} s "
              f"= {plan.entities / (csv_s + imp_s):,.0f} entities/s ({plan.entities / imp_s:,.0f}/s importer "
              f"alone, JVM start included; {done[0] if done else ''})")
        single = cmp_["single_rows_s"]
        print(f"[bulk vs per-row] {plan.entities / (csv_s + imp_s) / single:,.0f}x")
        server.start_server(s)
        with GraphRunner.from_settings(s) as g:
            t = time.monotonic()
            ensure_schema(g)
            print(f"[bulk] schema applied after import in {time.monotonic() - t:.1f} s")
        after = _load_in_child(dataset, s, qdir)
        print(f"[MERGE after bulk] changes={after['changes']} properties_set={after['properties_set']} "
              f"in {after['wall_s']:.1f} s")
    finally:
        server.stop_server(s)
        shutil.rmtree(work / "import-csv", ignore_errors=True)


if __name__ == "__main__":
    main()
