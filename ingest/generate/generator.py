"""``generate``: a whole synthetic dataset folder with its ground truth.

The components run in this order, each with its own random stream spawned from
one :class:`numpy.random.SeedSequence` (so a seed fixes every byte written):

firms -> ownership -> latent health -> loans -> guarantees -> monthly simulation
(network turnover and defaults) -> loans cut at default -> statements, signals,
receivables, loan status, events -> files.

:func:`generate` reads as that sequence; each step is one function below. The
dataset folder holds ``dataset.yaml`` and the tables of the input contract
(``ingest.tables.TABLES``), each with contract columns only; ``_truth/`` (ignored
by ingest) holds ``defaults.parquet``, ``hazards.parquet``, ``firms.parquet`` and
``summary.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from ingest.generate import stats
from ingest.generate.default_simulation import CAUSES, DEFAULT_CONTAGION_STRENGTH, Simulation, simulate
from ingest.generate.financials import (
    EVENT_TYPES,
    event_rows,
    receivable_rows,
    signal_batches,
    statement_rows,
)
from ingest.generate.firms import SIZE_CLASSES, TIERS, FirmTable, make_firms
from ingest.generate.guarantees import GuaranteeTable, make_guarantees
from ingest.generate.health import LEAD, simulate_health
from ingest.generate.loans import (
    CLASSES,
    COLLATERAL,
    LENDERS,
    LoanTable,
    make_loans,
    status_batches,
)
from ingest.generate.network import build_sampler
from ingest.generate.ownership import Ownership, make_ownership, person_ids
from ingest.generate.timeline import Calendar
from ingest.generate.writer import FORMATS, TableWriter, categorical, to_dates, write_manifest, write_table

__all__ = ["PLATFORM", "GenerationSummary", "generate"]

#: Platform id written to the manifest and to every firm.
PLATFORM = "SYNTH_PLATFORM"
ProgressFn = Callable[[str, int, int], None]
TickFn = Callable[..., None]
_STREAMS = (
    "firms",
    "ownership",
    "health",
    "loans",
    "guarantees",
    "simulate",
    "statements",
    "signals",
    "receivables",
    "events",
    "status",
    "tables",
)


@dataclass(frozen=True, kw_only=True)
class GenerationSummary:
    """What :func:`generate` wrote, and the calibration targets as measured on it.

    Network statistics are taken on the links active at the last month of the
    window, over the firms alive then (founded and not defaulted).
    """

    firms: int
    months: int
    seed: int
    contagion_strength: float
    supply_links: int  # rows written (link spells over the window, external ones included)
    active_links: int  # links active at the end of the window
    guarantee_links: int  # guarantee contracts written
    guarantee_pairs: int  # distinct firm-level guarantor -> borrower pairs
    loans: int
    defaults: int
    annual_default_rate: float
    link_default_share: float
    supply_default_share: float
    guarantee_default_share: float
    mean_degree: float
    scc_fraction: float
    max_degree_ratio: float
    tail_exponent: float
    within_city: float
    within_province: float
    link_half_life_months: float
    mutual_guarantee_pairs: int
    guarantee_circles: int
    max_guarantor_degree: int
    seconds: float

    def to_json(self) -> str:
        """The summary as indented JSON."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class _LoanBook:
    """The loans kept once defaults are known (none starts after its borrower's default)."""

    loans: LoanTable  # the kept loans
    ids: pa.Array  # loan_id of each kept loan (L000000000 ...)
    row_of: np.ndarray  # drawn loan -> row of ``loans`` (meaningful where kept)
    guarantee_kept: np.ndarray  # bool per guarantee contract: its loan was kept


@dataclass(frozen=True, kw_only=True, eq=False)
class _Dataset:
    """The folder being written and the conversions every table shares."""

    folder: Path
    fmt: str
    start: date
    cal: Calendar
    codes: pa.Array  # USCC of each firm index

    @property
    def truth(self) -> Path:
        """The ground-truth folder (ignored by ingest)."""
        return self.folder / "_truth"

    @property
    def end_day(self) -> int:
        """Day offset of the first day after the window."""
        return int(self.cal.day(self.cal.months))

    def uscc(self, idx: np.ndarray) -> pa.Array:
        """USCCs of firm indices ``idx``."""
        return self.codes.take(pa.array(np.asarray(idx, dtype=np.int64)))

    def dates(self, days: np.ndarray, *, null_at_or_after: int | None = None) -> pa.Array:
        """Day offsets as ``date32``."""
        return to_dates(days, self.start, null_at_or_after=null_at_or_after)

    def month_dates(self, months: np.ndarray | int) -> pa.Array:
        """First day of each month index, as ``date32``."""
        return to_dates(self.cal.day(months), self.start)

    def write(
        self, name: str, columns: dict[str, pa.Array | pa.ChunkedArray], fmt: str | None = None
    ) -> None:
        """Write one whole table of the dataset (in the dataset's format unless ``fmt``)."""
        write_table(self.folder / name, pa.table(columns), fmt or self.fmt)

    def writer(self, name: str) -> TableWriter:
        """A streaming writer of one table of the dataset."""
        return TableWriter(self.folder / name, self.fmt)


def _concat(parts: list[pa.Array | pa.ChunkedArray]) -> pa.ChunkedArray:
    """One column from parts that may each be chunked (pyarrow chunks big conversions)."""
    chunks: list[pa.Array] = []
    for p in parts:
        chunks.extend(p.chunks if isinstance(p, pa.ChunkedArray) else [p])
    return pa.chunked_array(chunks)


def generate(
    out_dir: Path,
    *,
    firms: int,
    seed: int,
    months: int = 60,
    contagion_strength: float = DEFAULT_CONTAGION_STRENGTH,
    start: date = date(2021, 1, 1),
    fmt: str = "parquet",
    progress: ProgressFn | None = None,
) -> GenerationSummary:
    """Generate a synthetic dataset folder with ground truth.

    Parameters
    ----------
    out_dir : pathlib.Path
        Folder to write (created; existing tables are overwritten).
    firms : int
        Number of firms (at least 100).
    seed : int
        Seed of every random stream: equal seeds give byte-identical files.
    months : int, default 60
        Length of the window, at least 13.
    contagion_strength : float, default DEFAULT_CONTAGION_STRENGTH
        Scale of contagion along supply and guarantee links; 0 turns it off.
    start : datetime.date, default 2021-01-01
        First day of the window; ``as_of`` is the window's last day.
    fmt : {"parquet", "csv", "jsonl"}
        Format of every table except ``firms`` (always CSV, for people to open).
    progress : callable, optional
        Called as ``progress(step, done, total)``.

    Returns
    -------
    GenerationSummary

    Raises
    ------
    ValueError
        Bad sizes, a negative strength or an unknown format.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> s = generate(pathlib.Path(tempfile.mkdtemp()), firms=300, seed=1, months=24)
    >>> s.firms, s.supply_links > 0
    (300, True)
    """
    _check_arguments(firms=firms, months=months, contagion_strength=contagion_strength, fmt=fmt)
    t0 = time.perf_counter()
    start = start.replace(day=1)
    tick = _ticker(progress)
    rngs = _streams(seed)
    cal = Calendar(start, months)

    # The model: each step draws from its own stream.
    tick("firms")
    ft = make_firms(rngs["firms"], firms, start=start, months=months)
    own = make_ownership(rngs["ownership"], ft)
    health = simulate_health(rngs["health"], ft.tier, ft.city, -ft.founded_day / 365.25, months)
    drawn = make_loans(rngs["loans"], ft, cal)
    gua = make_guarantees(rngs["guarantees"], ft, drawn, own.main_person)
    sim = simulate(
        rngs["simulate"],
        ft,
        health,
        build_sampler(ft),
        gua,
        cal,
        contagion_strength=contagion_strength,
        progress=progress,
    )
    book = _cut_loans_at_default(drawn, gua, sim.default_month)

    # The dataset: the tables of the input contract.
    ds = _open_dataset(out_dir, fmt=fmt, cal=cal, firms=ft)
    tick("write firms")
    _write_firms(ds, ft, rngs["tables"])
    tick("write financials")
    _write_financials(ds, rngs["statements"], ft, health, sim)
    tick("write supply")
    supply_rows = _write_supply(ds, rngs["tables"], ft, sim)
    tick("write receivables")
    _write_receivables(ds, rngs["receivables"], sim)
    tick("write loans")
    _write_loans(ds, book)
    guarantee_rows = _write_guarantees(ds, ft, gua, book)
    tick("write loan status")
    _write_loan_status(ds, rngs["status"], book, sim)
    tick("write events")
    _write_events(ds, rngs["events"], book, sim)
    _write_signals(ds, rngs["signals"], ft, health, sim, tick)
    tick("write ownership")
    _write_ownership(ds, ft, own)

    # The ground truth, then the summary measured on it.
    tick("write truth")
    defaulted = _defaulted_firms(sim)
    _write_truth_defaults(ds, ft, sim, defaulted)
    _write_truth_hazards(ds, ft, health, sim)
    _write_truth_firms(ds, ft)
    summary = _summarize(
        ft=ft,
        cal=cal,
        sim=sim,
        gua=gua,
        book=book,
        defaulted=defaulted,
        supply_rows=supply_rows,
        guarantee_rows=guarantee_rows,
        seed=seed,
        contagion_strength=contagion_strength,
        t0=t0,
    )
    (ds.truth / "summary.json").write_text(summary.to_json() + "\n", encoding="utf-8")
    tick("done")
    return summary


# ---------------------------------------------------------------------- set-up
def _check_arguments(*, firms: int, months: int, contagion_strength: float, fmt: str) -> None:
    """Reject bad sizes, a negative strength or an unknown format (``ValueError``)."""
    if firms < 100:
        raise ValueError(f"firms must be at least 100, got {firms}")
    if months < 13:
        raise ValueError(f"months must be at least 13, got {months}")
    if contagion_strength < 0:
        raise ValueError(f"contagion_strength must be >= 0, got {contagion_strength}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")


def _ticker(progress: ProgressFn | None) -> TickFn:
    """``tick(step, done=1, total=1)``: report progress when a callback was given."""

    def tick(step: str, done: int = 1, total: int = 1) -> None:
        if progress is not None:
            progress(step, done, total)

    return tick


def _streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per component (:data:`_STREAMS`), all from ``seed``."""
    return dict(
        zip(
            _STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STREAMS))),
            strict=True,
        )
    )


def _cut_loans_at_default(loans: LoanTable, gua: GuaranteeTable, default_month: np.ndarray) -> _LoanBook:
    """No loan starts after its borrower's default; guarantees of dropped loans go too."""
    dm = default_month
    keep = (dm[loans.borrower] < 0) | (loans.start_month <= dm[loans.borrower])
    kept = loans.take(keep)
    loan_ids = np.char.add("L", np.char.zfill(np.arange(kept.n).astype(str), 9))
    return _LoanBook(
        loans=kept,
        ids=pa.array(loan_ids),
        row_of=np.cumsum(keep) - 1,
        guarantee_kept=keep[gua.loan],
    )


def _open_dataset(out_dir: Path, *, fmt: str, cal: Calendar, firms: FirmTable) -> _Dataset:
    """Create the folder and ``_truth/``, write ``dataset.yaml`` (as of the window's last day)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ds = _Dataset(folder=out_dir, fmt=fmt, start=cal.start, cal=cal, codes=pa.array(firms.uscc))
    ds.truth.mkdir(exist_ok=True)
    as_of = cal.start.fromordinal(cal.start.toordinal() + ds.end_day - 1)
    write_manifest(out_dir, source=PLATFORM, as_of=as_of)
    return ds


# ---------------------------------------------------------------------- contract tables
def _write_firms(ds: _Dataset, ft: FirmTable, rng: np.random.Generator) -> None:
    """``firms.csv`` (always CSV); draws the registered capital."""
    ds.write(
        "firms",
        {
            "uscc": ds.codes,
            "name": pa.array(ft.name, pa.string()),
            "industry": pa.array(ft.industry_code),
            "region": pa.array(ft.region_code),
            "size_class": categorical(ft.size, SIZE_CLASSES),
            "founded": ds.dates(ft.founded_day),
            "employees": pa.array(ft.employees, pa.int64()),
            "registered_capital": pa.array(np.round(ft.assets0 * rng.uniform(0.1, 0.5, ft.n), -4)),
            "platform": pa.array(np.full(ft.n, PLATFORM)),
        },
        "csv",
    )


def _write_financials(
    ds: _Dataset, rng: np.random.Generator, ft: FirmTable, health: np.ndarray, sim: Simulation
) -> None:
    """Quarterly statements."""
    st = statement_rows(rng, ft, health, sim.default_month, ds.cal)
    cols = {"uscc": ds.uscc(st.pop("firm")), "period_end": ds.dates(st.pop("period_end"))}
    cols["published"] = ds.dates(st.pop("published"))
    cols.update({k: pa.array(v) for k, v in st.items()})
    ds.write("financials", cols)


def _write_supply(ds: _Dataset, rng: np.random.Generator, ft: FirmTable, sim: Simulation) -> int:
    """Supply link spells plus 3% external ones (copies of internal spells with one side
    replaced by a counterparty that has no firm row); returns the rows written."""
    n_links = len(sim.sup)
    n_ext = max(1, n_links * 3 // 100)
    tmpl = rng.integers(0, n_links, n_ext)
    ext_side = rng.random(n_ext) < 0.5
    ext_code = pa.array(ft.external_uscc).take(pa.array(rng.integers(0, len(ft.external_uscc), n_ext)))
    ext = ext_code.to_numpy(False)
    sup_codes = _concat([ds.uscc(sim.sup), pa.array(np.where(ext_side, ext, ft.uscc[sim.sup[tmpl]]))])
    buy_codes = _concat([ds.uscc(sim.buy), pa.array(np.where(ext_side, ft.uscc[sim.buy[tmpl]], ext))])
    ds.write(
        "supply",
        {
            "supplier_uscc": sup_codes,
            "buyer_uscc": buy_codes,
            "annual_value": pa.array(np.concatenate([sim.value, sim.value[tmpl]])),
            "start": ds.dates(np.concatenate([sim.start_day, sim.start_day[tmpl]])),
            "end": ds.dates(np.concatenate([sim.end_day, sim.end_day[tmpl]]), null_at_or_after=ds.end_day),
        },
    )
    return n_links + n_ext


def _write_receivables(ds: _Dataset, rng: np.random.Generator, sim: Simulation) -> None:
    """Year-end trade credit on a share of the active links."""
    rc = receivable_rows(
        rng, sim.sup, sim.buy, sim.start_day, sim.end_day, sim.value, sim.default_month, ds.cal
    )
    ds.write(
        "receivables",
        {
            "creditor_uscc": ds.uscc(sim.sup[rc["link"]]),
            "debtor_uscc": ds.uscc(sim.buy[rc["link"]]),
            "amount": pa.array(rc["amount"]),
            "as_of": ds.dates(rc["as_of"]),
        },
    )


def _write_loans(ds: _Dataset, book: _LoanBook) -> None:
    """The kept loans."""
    loans = book.loans
    ds.write(
        "loans",
        {
            "loan_id": book.ids,
            "borrower_uscc": ds.uscc(loans.borrower),
            "lender": categorical(loans.lender, LENDERS),
            "principal": pa.array(loans.principal),
            "limit": pa.array(loans.limit),
            "currency": pa.array(np.full(loans.n, "CNY")),
            "start": ds.dates(loans.start_day),
            "maturity": ds.dates(loans.maturity_day),
            "collateral_type": categorical(loans.collateral, COLLATERAL),
            "collateral_value": pa.array(loans.collateral_value),
            "lgd": pa.array(loans.lgd, mask=np.isnan(loans.lgd)),
        },
    )


def _write_guarantees(ds: _Dataset, ft: FirmTable, gua: GuaranteeTable, book: _LoanBook) -> int:
    """Guarantee contracts of the kept loans; returns the rows written."""
    g_idx = np.flatnonzero(book.guarantee_kept)
    g_person = gua.is_person[g_idx]
    g_id = np.where(
        g_person, person_ids(gua.guarantor[g_idx]), ft.uscc[np.where(g_person, 0, gua.guarantor[g_idx])]
    )
    ds.write(
        "guarantees",
        {
            "guarantor_id": pa.array(g_id),
            "guarantor_type": categorical(g_person.astype(np.int8), ("firm", "person")),
            "borrower_uscc": ds.uscc(gua.borrower[g_idx]),
            "loan_id": book.ids.take(pa.array(book.row_of[gua.loan[g_idx]])),
            "amount": pa.array(gua.amount[g_idx]),
            "start": ds.dates(gua.start_day[g_idx]),
            "end": ds.dates(gua.end_day[g_idx]),
        },
    )
    return len(g_idx)


def _write_loan_status(ds: _Dataset, rng: np.random.Generator, book: _LoanBook, sim: Simulation) -> None:
    """Monthly loan status, streamed in batches of loans."""
    with ds.writer("loan_status") as w:
        for b in status_batches(rng, book.loans, sim.default_month, ds.cal):
            w.write(
                pa.table(
                    {
                        "loan_id": book.ids.take(pa.array(b["loan"])),
                        "month": ds.month_dates(b["month"]),
                        "outstanding": pa.array(b["outstanding"]),
                        "days_overdue": pa.array(b["days_overdue"], pa.int64()),
                        "classification": categorical(b["classification"], CLASSES),
                    }
                )
            )


def _write_events(ds: _Dataset, rng: np.random.Generator, book: _LoanBook, sim: Simulation) -> None:
    """Default, overdue, enforcement, bankruptcy and penalty events."""
    has_loan = np.zeros(len(sim.default_day), bool)
    has_loan[book.loans.borrower] = True
    ev = event_rows(rng, sim.default_day, has_loan, ds.cal)
    ds.write(
        "events",
        {
            "uscc": ds.uscc(ev["firm"]),
            "date": ds.dates(ev["day"]),
            "type": categorical(ev["type"], EVENT_TYPES),
        },
    )


def _write_signals(
    ds: _Dataset, rng: np.random.Generator, ft: FirmTable, health: np.ndarray, sim: Simulation, tick: TickFn
) -> None:
    """Monthly platform signals, streamed one month at a time."""
    with ds.writer("signals") as w:
        for t, b in enumerate(signal_batches(rng, ft, health, sim.default_month, ds.cal)):
            tick("write signals", t + 1, ds.cal.months)
            w.write(
                pa.table(
                    {
                        "uscc": ds.uscc(b["firm"]),
                        "month": ds.month_dates(b["month"]),
                        "electricity_kwh": pa.array(b["electricity_kwh"]),
                        "equipment_utilization": pa.array(b["equipment_utilization"]),
                        "orders": pa.array(b["orders"]),
                        "invoices": pa.array(b["invoices"]),
                    }
                )
            )


def _write_ownership(ds: _Dataset, ft: FirmTable, own: Ownership) -> None:
    """Owners of each firm, held since its founding."""
    o_id = np.where(
        own.owner_is_firm, ft.uscc[np.where(own.owner_is_firm, own.owner, 0)], person_ids(own.owner)
    )
    ds.write(
        "ownership",
        {
            "owner_id": pa.array(o_id),
            "owner_type": categorical(own.owner_is_firm.astype(np.int8), ("person", "firm")),
            "firm_uscc": ds.uscc(own.firm),
            "share": pa.array(own.share),
            "start": ds.dates(ft.founded_day[own.firm]),
            "end": pa.nulls(len(own.firm), pa.date32()),
        },
    )


# ---------------------------------------------------------------------- ground truth
def _defaulted_firms(sim: Simulation) -> np.ndarray:
    """Firms that defaulted, by default day (then firm index)."""
    d = np.flatnonzero(sim.default_month >= 0)
    return d[np.lexsort((d, sim.default_day[d]))]


def _write_truth_defaults(ds: _Dataset, ft: FirmTable, sim: Simulation, defaulted: np.ndarray) -> None:
    """``_truth/defaults.parquet``: when each firm defaulted, why, and through whom."""
    d = defaulted
    via = sim.via[d]
    write_table(
        ds.truth / "defaults",
        pa.table(
            {
                "uscc": ds.uscc(d),
                "month": ds.month_dates(sim.default_month[d]),
                "date": ds.dates(sim.default_day[d]),
                "cause": categorical(sim.cause[d], CAUSES),
                "via_uscc": pa.array(np.where(via >= 0, ft.uscc[np.maximum(via, 0)], None)),
            }
        ),
        "parquet",
    )


def _write_truth_hazards(ds: _Dataset, ft: FirmTable, health: np.ndarray, sim: Simulation) -> None:
    """``_truth/hazards.parquet``: the monthly probabilities each alive firm faced."""
    dm = sim.default_month
    with TableWriter(ds.truth / "hazards", "parquet") as w:
        for t in range(ds.cal.months):
            alive = np.flatnonzero((ft.founded_month <= t) & ((dm < 0) | (dm >= t)))
            w.write(
                pa.table(
                    {
                        "uscc": ds.uscc(alive),
                        "month": ds.dates(np.full(len(alive), ds.cal.day(t))),
                        "p_own": pa.array(sim.p_own[t, alive]),
                        "p_supply": pa.array(sim.p_supply[t, alive]),
                        "p_guarantee": pa.array(sim.p_guarantee[t, alive]),
                        "health": pa.array(health[LEAD + t, alive]),
                    }
                )
            )


def _write_truth_firms(ds: _Dataset, ft: FirmTable) -> None:
    """``_truth/firms.parquet``: the latent firm attributes."""
    write_table(
        ds.truth / "firms",
        pa.table(
            {
                "uscc": ds.codes,
                "tier": categorical(ft.tier, TIERS),
                "fitness": pa.array(ft.fitness),
                "frailty": pa.array(ft.frailty),
                "leverage0": pa.array(ft.leverage0),
                "external": pa.array(np.zeros(ft.n, bool)),
            }
        ),
        "parquet",
    )


# ---------------------------------------------------------------------- summary
def _summarize(
    *,
    ft: FirmTable,
    cal: Calendar,
    sim: Simulation,
    gua: GuaranteeTable,
    book: _LoanBook,
    defaulted: np.ndarray,
    supply_rows: int,
    guarantee_rows: int,
    seed: int,
    contagion_strength: float,
    t0: float,
) -> GenerationSummary:
    """Counts and calibration statistics (network ones on the links active in the last month)."""
    firms, months = ft.n, cal.months
    end_day = int(cal.day(months))
    mid = int(cal.day(months - 1)) + 14
    act = (sim.start_day <= mid) & (sim.end_day > mid)
    alive_end = (ft.founded_month <= months - 1) & (sim.default_month < 0)
    n_alive = int(alive_end.sum())
    a_sup, a_buy = sim.sup[act], sim.buy[act]
    deg = np.bincount(a_sup, minlength=firms) + np.bincount(a_buy, minlength=firms)
    mean_total = deg[alive_end].mean() if n_alive else 0.0
    gf = book.guarantee_kept & ~gua.is_person
    pairs = np.unique(np.stack([gua.guarantor[gf], gua.borrower[gf].astype(np.int64)]), axis=1)
    person_pairs = int(np.unique(gua.borrower[book.guarantee_kept & gua.is_person]).size)
    causes = np.bincount(sim.cause[defaulted], minlength=3)
    nd = max(1, len(defaulted))
    return GenerationSummary(
        firms=firms,
        months=months,
        seed=seed,
        contagion_strength=float(contagion_strength),
        supply_links=supply_rows,
        active_links=int(act.sum()),
        guarantee_links=guarantee_rows,
        guarantee_pairs=int(pairs.shape[1]) + person_pairs,
        loans=book.loans.n,
        defaults=len(defaulted),
        annual_default_rate=round(len(defaulted) / firms / (months / 12), 5),
        link_default_share=round(float(causes[1:].sum() / nd), 4),
        supply_default_share=round(float(causes[1] / nd), 4),
        guarantee_default_share=round(float(causes[2] / nd), 4),
        mean_degree=round(float(act.sum() / max(1, n_alive)), 3),
        scc_fraction=round(stats.scc_fraction(a_sup, a_buy, firms) * firms / max(1, n_alive), 4),
        max_degree_ratio=round(float(deg.max() / mean_total) if mean_total else 0.0, 1),
        tail_exponent=round(stats.hill_tail_exponent(deg[alive_end]), 3),
        within_city=round(float((ft.city[a_sup] == ft.city[a_buy]).mean()), 4),
        within_province=round(float((ft.province[a_sup] == ft.province[a_buy]).mean()), 4),
        link_half_life_months=round(stats.half_life_months(sim.start_day, sim.end_day, 0, end_day), 2),
        mutual_guarantee_pairs=stats.mutual_pairs(pairs[0], pairs[1]),
        guarantee_circles=stats.cycle_groups(pairs[0], pairs[1], firms),
        max_guarantor_degree=int(np.bincount(pairs[0], minlength=1).max()) if pairs.shape[1] else 0,
        seconds=round(time.perf_counter() - t0, 2),
    )
