"""Loader, pure parts: row hashes, row shapes, the query catalogue, counting with a fake runner,
dry runs and the CLI's --strict exit code. The tiny dataset here is shared by the live tests.

Four platform firms A-D, one off-platform buyer X (not in ``firms``), one person P:

- supply: A->B, B->C, C->D, D->X (X is external)
- guarantees: A guarantees B's loan L1, B guarantees C's loan L2, P (a person) guarantees D's loan L3
- loans L1, L2, L3 with two monthly statuses each; receivables: B owes A
- ownership: P owns 60% of A; A owns 30% of B
- financials for A and B; one event and one signal row for C
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from chainrisk.commands.ingest import register
from ingest.api import load_dataset
from ingest.cypher_load import CLOSABLE, GRAPH_TABLES
from ingest.loader import (
    LoadContext,
    TableLoader,
    TableReport,
    _missing_links,
    fill_uids,
    key_strings,
    prepare_rows,
    uid_strings,
)
from ingest.row_hash import key_hashes, row_hashes
from ingest.tables import LOAD_ORDER, TABLES
from ingest.uscc import make

A, B, C, D = (make(f"91350100M00010{i}Y4") for i in range(4))
X = make("91350100M000999Y4")  # off-platform buyer
P = "person-0001"
INJECTION = "'}) DETACH DELETE n //"

SUPPLY_ROWS = [
    f"{A},{B},1200000,2022-01-01,",
    f"{B},{C},800000,2022-06-01,",
    f"{C},{D},300000,2023-01-01,",
    f"{D},{X},500000,2023-03-01,",
]


def _csv(path: Path, header: str, rows: list[str]) -> None:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def write_dataset(
    folder: Path,
    *,
    mode: str = "full",
    source: str = "test-platform",
    as_of: str = "2024-06-30",
    supply_rows: list[str] | None = None,
    firm_c_name: str = "Gamma Parts",
    extra_firm_rows: list[str] | None = None,
) -> Path:
    """Write the tiny dataset into ``folder`` (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dataset.yaml").write_text(
        f"source: {source}\nas_of: {as_of}\nmode: {mode}\ncurrency: CNY\nunit: yuan\n", encoding="utf-8"
    )
    _csv(folder / "firms.csv", "uscc,name,industry,region,size_class,founded,employees,registered_capital", [
        f'{A},"{INJECTION}",C3311,350100,small,2010-05-01,40,5000000',
        f"{B},Beta Steel,C3110,350100,medium,2008-01-15,120,20000000",
        f"{C},{firm_c_name},C3670,350200,micro,2018-03-01,8,1000000",
        f"{D},Delta Trade,F5174,350200,small,2015-07-01,25,3000000",
        *(extra_firm_rows or []),
    ])
    _csv(folder / "financials.csv",
         "uscc,period_end,published,total_assets,total_liabilities,equity,revenue,operating_cf,"
         "investing_cf,financing_cf", [
             f"{A},2023-12-31,2024-04-30,9000000,5000000,4000000,12000000,800000,-300000,-100000",
             f"{B},2023-12-31,2024-04-30,30000000,20000000,10000000,40000000,-500000,-900000,1500000",
         ])
    _csv(folder / "supply.csv", "supplier_uscc,buyer_uscc,annual_value,start,end",
         SUPPLY_ROWS if supply_rows is None else supply_rows)
    _csv(folder / "receivables.csv", "creditor_uscc,debtor_uscc,amount,as_of", [f"{A},{B},200000,2024-06-30"])
    _csv(folder / "loans.csv", "loan_id,borrower_uscc,lender,principal,start,maturity,lgd", [
        f"L1,{B},bank-a,5000000,2023-01-01,2025-01-01,0.45",
        f"L2,{C},bank-a,1000000,2023-06-01,2024-12-01,",
        f"L3,{D},bank-b,2000000,2023-09-01,2025-09-01,0.6",
    ])
    _csv(folder / "loan_status.csv", "loan_id,month,outstanding,days_overdue,classification", [
        "L1,2024-05,4000000,0,normal", "L1,2024-06,3900000,0,normal",
        "L2,2024-05,900000,35,special_mention", "L2,2024-06,900000,95,substandard",
        "L3,2024-05,2000000,0,normal", "L3,2024-06,2000000,0,normal",
    ])
    _csv(folder / "guarantees.csv", "guarantor_id,guarantor_type,borrower_uscc,loan_id,amount,start,end", [
        f"{A},firm,{B},L1,5000000,2023-01-01,",
        f"{B},firm,{C},L2,1000000,2023-06-01,",
        f"{P},person,{D},L3,2000000,2023-09-01,",
    ])
    _csv(folder / "ownership.csv", "owner_id,owner_type,firm_uscc,share,start,end", [
        f"{P},person,{A},0.6,2010-05-01,",
        f"{A},firm,{B},30%,2019-01-01,",
    ])
    _csv(folder / "events.csv", "uscc,date,type", [f"{C},2024-06-15,lawsuit"])
    _csv(folder / "signals.csv", "uscc,month,electricity_kwh,equipment_utilization,orders,invoices", [
        f"{C},2024-06,12000,0.55,300000,280000",
    ])
    return folder


#: Rows per table of the tiny dataset.
TINY_ROWS = {"firms": 4, "financials": 2, "supply": 4, "receivables": 1, "loans": 3, "loan_status": 6,
             "guarantees": 3, "ownership": 2, "events": 1, "signals": 1}


# ------------------------------------------------------------------------ hashing
def test_row_hash_ignores_bookkeeping_and_sees_every_value() -> None:
    df = pd.DataFrame({"uscc": [A, A], "amount": [1.0, 1.0], "_row": [2, 3], "_file": ["a.csv", "b.csv"]})
    h = row_hashes(df, ("uscc", "amount"), source="s")
    assert h[0] == h[1]
    assert row_hashes(df.assign(amount=[1.0, 1.0000001]), ("uscc", "amount"), source="s")[1] != h[1]
    assert row_hashes(df, ("uscc", "amount"), source="other")[0] != h[0]  # the source is part of a fact


def test_row_hash_tells_missing_from_empty() -> None:
    df = pd.DataFrame({"name": pd.Series(["", None], dtype=object)})
    a, b = row_hashes(df, ("name",), source="s")
    assert a != b


def test_key_strings_use_iso_dates_and_months() -> None:
    df = pd.DataFrame({"loan_id": ["L1"], "month": pd.to_datetime(["2024-06-01"])})
    assert key_strings(df, "loan_status", ("loan_id", "month")) == ["L1|2024-06"]
    g = pd.DataFrame({"loan_id": [None], "start": pd.to_datetime(["2023-01-01"])})
    assert key_strings(g, "guarantees", ("loan_id", "start")) == ["|2023-01-01"]


def test_prepare_rows_for_a_person_guarantor() -> None:
    df = pd.DataFrame({
        "guarantor_id": [P], "guarantor_type": ["person"], "borrower_uscc": [D], "loan_id": ["L3"],
        "amount": [2e6], "start": pd.to_datetime(["2023-09-01"]), "end": pd.Series([pd.NaT]),
    })
    (row,) = prepare_rows(df, "guarantees", source="s")
    assert (row["a"], row["b"], row["t"], row["k"]) == (P, D, "person", "L3|2023-09-01")
    assert row["u"] == f"{P}|{D}|L3|2023-09-01"
    assert row["end"] is None and row["amount"] == 2e6
    assert type(row["start"]).__name__ == "date"


def test_uids_join_endpoints_and_key_for_relationships_only() -> None:
    assert uid_strings([A, P], [B, D], ["2022-01-01", "L3|2023-09-01"]) == [
        f"{A}|{B}|2022-01-01", f"{P}|{D}|L3|2023-09-01"]
    assert uid_strings([], [], []) == []
    rows = prepare_rows(_supply_frame(2), "supply", source="s")
    assert [r["u"] for r in rows] == [f"{A}|{B}|2022-01-01", f"{B}|{C}|2022-01-01"]
    firms = pd.DataFrame({"uscc": [A], "name": ["n"]})
    assert "u" not in prepare_rows(firms, "firms", source="s")[0]


def test_links_without_uid_are_filled_before_the_first_merge_only() -> None:
    runner = FakeRunner(new=set(), changed=set())
    TableLoader(_ctx(runner), "supply", TableReport("supply")).load_chunk(_supply_frame())
    fills = [i for i, (q, p) in enumerate(runner.calls) if "limit" in p]
    first_load = next(i for i, (q, p) in enumerate(runner.calls) if "rows" in p)
    assert len(fills) == 1 and fills[0] < first_load
    assert runner.calls[fills[0]][0] == GRAPH_TABLES["supply"].uid_fill
    runner = FakeRunner(new={"2022-01-01"}, changed=set())
    runner.empty = True  # a first load (CREATE) has nothing to fill
    TableLoader(_ctx(runner), "supply", TableReport("supply")).load_chunk(_supply_frame())
    assert not [p for _, p in runner.calls if "limit" in p]
    assert all(GRAPH_TABLES[t].uid_fill for t in ("supply", "receivables", "guarantees", "ownership"))
    assert GRAPH_TABLES["firms"].uid_fill is None


def test_fill_uids_repeats_until_a_short_batch() -> None:
    class Filling(FakeRunner):
        def __init__(self) -> None:
            super().__init__(new=set(), changed=set())
            self.left, self.scans = 7, 0
            self.complete: set[str] = set()

        def write(self, query: str, params: dict[str, Any] | None = None) -> _Counters:
            params = params or {}
            if "type" in params:  # the schema marker records a type whose links all have a uid
                self.complete.add(params["type"])
                return _Counters()
            self.scans += 1
            n = min(self.left, params["limit"])
            self.left -= n
            return _Counters(returned=[{"n": n}])

        def read(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
            return [{"done": (params or {}).get("type") in self.complete}]

    runner = Filling()
    assert fill_uids(runner, "ownership", limit=3) == 7 and runner.left == 0  # type: ignore[arg-type]
    assert runner.scans == 3 and runner.complete == {"OWNS"}
    assert fill_uids(runner, "ownership", limit=3) == 0  # type: ignore[arg-type]
    assert runner.scans == 3  # marked complete: no second scan
    assert fill_uids(runner, "firms") == 0  # type: ignore[arg-type]


def test_key_hashes_are_stable_and_distinct() -> None:
    h = key_hashes([["a", "a"], ["b", "c"], ["1", "1"]])
    assert h.dtype == np.uint64 and h[0] != h[1]
    assert key_hashes([["a"], ["b"], ["1"]])[0] == h[0]


# ---------------------------------------------------------------------- catalogue
def test_every_table_maps_every_canonical_column() -> None:
    """A column neither stored nor used as an endpoint would be lost on the way to the graph."""
    assert set(GRAPH_TABLES) == set(TABLES) == set(LOAD_ORDER)
    for name, gt in GRAPH_TABLES.items():
        used = set(gt.props) | {e.column for e in (gt.start, gt.end) if e is not None}
        used |= {e.type_column for e in (gt.start, gt.end) if e is not None and e.type_column}
        assert set(TABLES[name].column_names) <= used, name
        assert set(gt.props) <= set(TABLES[name].column_names), name
        assert set(gt.key) <= set(TABLES[name].column_names), name


def test_queries_take_values_only_as_parameters() -> None:
    for gt in GRAPH_TABLES.values():
        assert gt.query.lstrip().startswith("UNWIND $rows AS row")
        assert "RETURN count(*) AS written" in gt.query
        # no string literals beyond the enum value the query switches on
        assert set(re.findall(r"'([^']*)'", gt.query)) <= {"person", ""}
    assert set(CLOSABLE) == {"supply", "guarantees", "ownership"}


# ------------------------------------------------------------------ fake runner
@dataclass
class _Counters:
    nodes_created: int = 0
    relationships_created: int = 0
    properties_set: int = 0
    returned: list[dict[str, Any]] = field(default_factory=list)


class FakeRunner:
    """Records writes; the load query 'writes' rows whose key is in ``changed`` and creates ``new`` ones."""

    def __init__(self, *, new: set[str], changed: set[str], open_links: list[dict[str, Any]] | None = None):
        self.new, self.changed = new, changed
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.open_links = open_links or []
        self.empty = False
        self.reads: list[str] = []

    def write(self, query: str, params: dict[str, Any] | None = None) -> _Counters:
        params = params or {}
        self.calls.append((query, params))
        if "ids" in params and "MERGE (f:Firm" in query:
            return _Counters(nodes_created=sum(1 for i in params["ids"] if i == X))
        if "rows" in params:
            rows = params["rows"]
            created = sum(1 for r in rows if r["k"] in self.new)
            written = sum(1 for r in rows if r["k"] in self.new | self.changed)
            return _Counters(relationships_created=created, nodes_created=created, properties_set=written,
                             returned=[{"written": written}])
        if "as_of" in params:
            return _Counters(properties_set=len(params["ids"]), returned=[{"closed": len(params["ids"])}])
        return _Counters()

    def read(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The emptiness check: ``empty`` says whether the label/type holds nothing (a first load)."""
        self.reads.append(query)
        return [{"n": 0 if self.empty else 1}]

    def execute_read(self, work: Any) -> Any:
        links = self.open_links

        class Tx:
            def run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
                return links

        return work(Tx())


def _supply_frame(n: int = 4) -> pd.DataFrame:
    ends = [A, B, C, D, X]
    return pd.DataFrame({
        "supplier_uscc": ends[:n], "buyer_uscc": ends[1 : n + 1], "annual_value": [1.0] * n,
        "start": pd.to_datetime(["2022-01-01"] * n), "end": pd.Series([pd.NaT] * n),
    })


def _ctx(runner: FakeRunner, mode: str = "delta") -> LoadContext:
    return LoadContext(runner, "run-1", "src", pd.Timestamp("2024-06-30").date(), mode,  # type: ignore[arg-type]
                       pd.Timestamp("2024-06-30T00:00:00Z").to_pydatetime(), 3)


def test_counts_come_from_counters_and_the_written_column() -> None:
    runner = FakeRunner(new={"2022-01-01"} - {"2022-01-01"}, changed=set())
    report = TableReport("supply")
    loader = TableLoader(_ctx(runner), "supply", report)
    loader.load_chunk(_supply_frame())
    assert (report.created, report.updated, report.unchanged, report.externals) == (0, 0, 4, 1)
    loads = [p for q, p in runner.calls if "rows" in p]
    assert [len(p["rows"]) for p in loads] == [3, 1]  # batch_size 3
    assert all(p["run_id"] == "run-1" and p["source"] == "src"
               for _, p in runner.calls if "limit" not in p and "type" not in p)


def test_full_mode_closes_only_links_missing_from_the_dataset() -> None:
    present = {"id": "e1", "u": f"{A}|{B}|2022-01-01"}
    gone = {"id": "e9", "u": f"{A}|{C}|2020-01-01"}
    runner = FakeRunner(new=set(), changed=set(), open_links=[present, gone])
    report = TableReport("supply")
    loader = TableLoader(_ctx(runner, "full"), "supply", report)
    loader.load_chunk(_supply_frame(2))
    loader.finish()
    closes = [p for q, p in runner.calls if "as_of" in p]
    assert [p["ids"] for p in closes] == [["e9"]] and report.closed == 1


def test_closing_is_skipped_when_rows_were_quarantined() -> None:
    runner = FakeRunner(new=set(), changed=set(), open_links=[{"id": "e9", "u": f"{A}|{C}|x"}])
    report = TableReport("supply")
    loader = TableLoader(_ctx(runner, "full"), "supply", report)
    loader.disable_closing("1 row quarantined")
    loader.finish()
    assert report.closed == 0 and report.warnings


def test_missing_links_streams_in_chunks() -> None:
    links = [{"id": f"e{i}", "u": f"a|b|{i}"} for i in range(10)]
    seen = np.unique(key_hashes([[f"a|b|{i}" for i in range(5)]]))
    out = _missing_links(FakeRunner(new=set(), changed=set(), open_links=links), "Q", {}, seen,  # type: ignore[arg-type]
                         chunk=3)
    assert out == [f"e{i}" for i in range(5, 10)]


# ------------------------------------------------------------------- dry run, CLI
def _with_bad_row(folder: Path) -> Path:
    write_dataset(folder, supply_rows=[*SUPPLY_ROWS, f"{A},91350100M000100Y44,5,2022-01-01,"])
    return folder


def test_dry_run_quarantines_and_writes_nothing(tmp_path: Path) -> None:
    ds = _with_bad_row(tmp_path / "ds")
    report = load_dataset(ds, dry_run=True)  # no runner: a dry run never connects
    assert report.run_id is None
    assert report.tables["supply"].read == 5 and report.tables["supply"].quarantined == 1
    assert report.tables["supply"].created == 0
    q = pd.read_csv(ds / "_quarantine" / "supply.quarantine.csv", encoding="utf-8-sig")
    assert list(q.columns) == ["file", "row", "field", "value", "reason"]
    assert q[["file", "row", "field"]].values.tolist() == [["supply.csv", 6, "buyer_uscc"]]
    assert "check" in str(q["reason"].iloc[0])
    # a second run starts fresh: the file is rewritten, not appended to
    load_dataset(ds, dry_run=True)
    assert len(pd.read_csv(ds / "_quarantine" / "supply.quarantine.csv", encoding="utf-8-sig")) == 1


def _cli() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps typer from collapsing the app into `ingest`
        pass

    return app


def test_cli_strict_exit_code(tmp_path: Path) -> None:
    ds = _with_bad_row(tmp_path / "ds")
    runner = CliRunner()
    ok = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run"])
    assert ok.exit_code == 0, ok.output
    strict = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run", "--strict"])
    assert strict.exit_code == 1
    assert "quarantined" in strict.output


def test_cli_help_has_an_example() -> None:
    out = CliRunner().invoke(_cli(), ["ingest", "--help"])
    assert out.exit_code == 0 and "Example: chainrisk ingest" in out.output


@pytest.mark.parametrize("table", sorted(TINY_ROWS))
def test_tiny_dataset_validates_clean(tmp_path: Path, table: str) -> None:
    report = load_dataset(write_dataset(tmp_path / "ds"), dry_run=True)
    assert report.tables[table].read == TINY_ROWS[table]
    assert report.tables[table].quarantined == 0


def test_an_empty_label_or_type_is_loaded_with_create() -> None:
    runner = FakeRunner(new={"2022-01-01"}, changed=set())
    runner.empty = True
    loader = TableLoader(_ctx(runner), "supply", TableReport("supply"))
    loader.load_chunk(_supply_frame())
    loads = [q for q, p in runner.calls if "rows" in p]
    assert loader.first_load and loads == [GRAPH_TABLES["supply"].create_query] * 2
    # the type's secondary index is dropped before the first write and built again by finish()
    assert runner.calls[0][0] == "DROP INDEX supplies_start IF EXISTS"
    loader.finish()
    assert runner.calls[-1][0].startswith("CREATE INDEX supplies_start IF NOT EXISTS")
    assert runner.reads[-1] == "CALL db.awaitIndexes($t)"
    runner = FakeRunner(new=set(), changed=set())  # something there already: MERGE
    loader = TableLoader(_ctx(runner), "supply", TableReport("supply"))
    loader.load_chunk(_supply_frame())
    assert not loader.first_load
    assert {q for q, p in runner.calls if "rows" in p} == {GRAPH_TABLES["supply"].query}


def test_create_variants_keep_the_row_shape_and_the_written_column() -> None:
    for gt in GRAPH_TABLES.values():
        q = gt.create_query
        assert q.lstrip().startswith("UNWIND $rows AS row") and "RETURN count(*) AS written" in q
        assert "MERGE" not in q and set(re.findall(r"'([^']*)'", q)) <= {"person", ""}
        assert "count(" in gt.count_query and "$" not in gt.count_query


def test_pipelined_loading_counts_the_same_after_finish() -> None:
    runner = FakeRunner(new={"2022-01-01"}, changed=set())
    report = TableReport("supply")
    loader = TableLoader(_ctx(runner), "supply", report, pipeline=True)
    loader.load_chunk(_supply_frame(2))
    loader.load_chunk(_supply_frame(4).iloc[2:])
    loader.finish()
    assert (report.created, report.updated, report.unchanged) == (4, 0, 0)


def test_pipelined_loading_reraises_the_writer_error() -> None:
    class Failing(FakeRunner):
        def write(self, query: str, params: dict[str, Any]) -> _Counters:
            raise RuntimeError("server down")

    failing = Failing(new=set(), changed=set())
    loader = TableLoader(_ctx(failing), "supply", TableReport("supply"), pipeline=True)
    loader.load_chunk(_supply_frame())
    with pytest.raises(RuntimeError, match="server down"):
        loader.finish()


def _firm_frame(n: int) -> pd.DataFrame:
    return pd.DataFrame({"uscc": [f"F{i:05d}" for i in range(n)], "name": ["n"] * n})


def test_concurrent_writers_count_the_same_as_one() -> None:
    reports = []
    for writers in (1, 3):
        runner = FakeRunner(new={"2022-01-01"}, changed=set())
        ctx = _ctx(runner)
        ctx.writers = writers
        report = TableReport("supply")
        loader = TableLoader(ctx, "supply", report)
        loader.load_chunk(_supply_frame(4))
        loader.finish()
        reports.append((report.created, report.updated, report.unchanged, report.externals))
        assert sorted(len(p["rows"]) for q, p in runner.calls if "rows" in p) == [1, 3]
    assert reports[0] == reports[1] == (4, 0, 0, 1)


def test_a_failing_batch_among_concurrent_ones_fails_the_chunk_after_the_others_end() -> None:
    class FailsOnce(FakeRunner):
        def write(self, query: str, params: dict[str, Any]) -> _Counters:
            if "rows" in params and params["rows"][0]["k"] == "F00003":
                self.calls.append((query, params))
                raise RuntimeError("deadlock retries exhausted")
            return super().write(query, params)

    runner = FailsOnce(new=set(), changed=set())
    ctx = _ctx(runner)
    ctx.writers = 2
    loader = TableLoader(ctx, "firms", TableReport("firms"))
    with pytest.raises(RuntimeError, match="retries exhausted"):
        loader.load_chunk(_firm_frame(9))
    loader.abort()
    # every other batch was still written (and waited for) before the error surfaced
    assert sorted(p["rows"][0]["k"] for q, p in runner.calls if "rows" in p) == ["F00000", "F00003", "F00006"]


def test_endpoints_known_in_the_run_are_not_merged_again() -> None:
    runner = FakeRunner(new={"2022-01-01"}, changed=set())
    ctx = _ctx(runner)
    firms = TableLoader(ctx, "firms", TableReport("firms"))
    firms.load_chunk(pd.DataFrame({"uscc": [A, B, C], "name": ["a", "b", "c"]}))
    report = TableReport("supply")
    TableLoader(ctx, "supply", report).load_chunk(_supply_frame(4))  # A->B, B->C, C->D, D->X
    ensured = [i for q, p in runner.calls if "ids" in p and "MERGE (f:Firm" in q for i in p["ids"]]
    assert ensured == [D, X] and report.externals == 1
    TableLoader(ctx, "supply", TableReport("supply")).load_chunk(_supply_frame(4))
    assert [i for q, p in runner.calls if "ids" in p and "MERGE (f:Firm" in q for i in p["ids"]] == [D, X]


def test_a_first_load_in_full_mode_reads_no_links_to_close() -> None:
    """The type was empty before the table: every link in it came from this dataset."""
    runner = FakeRunner(new={"2022-01-01"}, changed=set(), open_links=[{"id": "e9", "u": "gone"}])
    runner.empty = True
    report = TableReport("supply")
    loader = TableLoader(_ctx(runner, "full"), "supply", report)
    loader.load_chunk(_supply_frame(2))
    loader.finish()
    assert loader.first_load and report.closed == 0
    assert not [p for q, p in runner.calls if "as_of" in p]


def test_cli_validation_worker_on_and_off_report_the_same(tmp_path: Path) -> None:
    """--parallel forces the worker process even for a small dataset; both runs quarantine the same row."""
    ds = _with_bad_row(tmp_path / "ds")
    runner = CliRunner()
    outs = []
    for flag in ("--parallel", "--no-parallel"):
        res = runner.invoke(_cli(), ["ingest", str(ds), "--dry-run", flag])
        assert res.exit_code == 0, res.output
        outs.append(res.output.split("change(s)")[0])
    assert outs[0] == outs[1]
    bad = [f for f in (ds / "_quarantine").glob("*.quarantine.csv") if len(f.read_text().splitlines()) > 1]
    assert len(bad) == 1
