"""``generate``: a whole synthetic dataset folder with its ground truth.

The components run in this order, each with its own random stream spawned from
one :class:`numpy.random.SeedSequence` (so a seed fixes every byte written):

firms -> ownership -> latent health -> loans -> guarantees -> monthly simulation
(network turnover and defaults) -> loans cut at default -> statements, signals,
receivables, loan status, events -> files.

The dataset folder holds ``dataset.yaml`` and the tables of the input contract;
``_truth/`` (ignored by ingest) holds ``defaults.parquet``, ``hazards.parquet``,
``firms.parquet`` and ``summary.json``.
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
from ingest.generate.defaults import CAUSES, DEFAULT_CONTAGION_STRENGTH, simulate
from ingest.generate.financials import (
    EVENT_TYPES,
    event_rows,
    receivable_rows,
    signal_batches,
    statement_rows,
)
from ingest.generate.firms import SIZE_CLASSES, TIERS, make_firms
from ingest.generate.guarantees import make_guarantees
from ingest.generate.health import LEAD, simulate_health
from ingest.generate.loans import (
    CLASSES,
    COLLATERAL,
    LENDERS,
    make_loans,
    status_batches,
)
from ingest.generate.network import build_sampler
from ingest.generate.ownership import make_ownership, person_ids
from ingest.generate.timeline import Calendar
from ingest.generate.writer import FORMATS, TableWriter, categorical, to_dates, write_manifest, write_table

__all__ = ["PLATFORM", "GenerationSummary", "generate"]

#: Platform id written to the manifest and to every firm.
PLATFORM = "SYNTH_PLATFORM"
ProgressFn = Callable[[str, int, int], None]
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


@dataclass(frozen=True)
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


def _uscc(codes: pa.Array, idx: np.ndarray) -> pa.Array:
    return codes.take(pa.array(np.asarray(idx, dtype=np.int64)))


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
    if firms < 100:
        raise ValueError(f"firms must be at least 100, got {firms}")
    if months < 13:
        raise ValueError(f"months must be at least 13, got {months}")
    if contagion_strength < 0:
        raise ValueError(f"contagion_strength must be >= 0, got {contagion_strength}")
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    t0 = time.perf_counter()
    start = start.replace(day=1)

    def tick(step: str, done: int = 1, total: int = 1) -> None:
        if progress is not None:
            progress(step, done, total)

    rngs = dict(
        zip(
            _STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STREAMS))),
            strict=True,
        )
    )
    cal = Calendar(start, months)
    end_day = int(cal.day(months))
    as_of = start.fromordinal(start.toordinal() + end_day - 1)

    tick("firms")
    ft = make_firms(rngs["firms"], firms, start=start, months=months)
    own = make_ownership(rngs["ownership"], ft)
    health = simulate_health(rngs["health"], ft.tier, ft.city, -ft.founded_day / 365.25, months)
    loans_all = make_loans(rngs["loans"], ft, cal)
    gua = make_guarantees(rngs["guarantees"], ft, loans_all, own.main_person)
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
    dm = sim.default_month
    # No loan starts after its borrower's default; guarantees of dropped loans go too.
    keep = (dm[loans_all.borrower] < 0) | (loans_all.start_month <= dm[loans_all.borrower])
    new_index = np.cumsum(keep) - 1
    loans = loans_all.take(keep)
    gkeep = keep[gua.loan]
    loan_ids = np.char.add("L", np.char.zfill(np.arange(loans.n).astype(str), 9))
    loan_id_arr = pa.array(loan_ids)

    out_dir.mkdir(parents=True, exist_ok=True)
    truth = out_dir / "_truth"
    truth.mkdir(exist_ok=True)
    codes = pa.array(ft.uscc)
    rng = rngs["tables"]
    write_manifest(out_dir, source=PLATFORM, as_of=as_of)

    tick("write firms")
    write_table(
        out_dir / "firms",
        pa.table(
            {
                "uscc": codes,
                "name": pa.array(ft.name, pa.string()),
                "industry": pa.array(ft.industry_code),
                "region": pa.array(ft.region_code),
                "size_class": categorical(ft.size, SIZE_CLASSES),
                "founded": to_dates(ft.founded_day, start),
                "employees": pa.array(ft.employees, pa.int64()),
                "registered_capital": pa.array(np.round(ft.assets0 * rng.uniform(0.1, 0.5, firms), -4)),
                "platform": pa.array(np.full(firms, PLATFORM)),
            }
        ),
        "csv",
    )

    tick("write financials")
    st = statement_rows(rngs["statements"], ft, health, dm, cal)
    cols = {"uscc": _uscc(codes, st.pop("firm")), "period_end": to_dates(st.pop("period_end"), start)}
    cols["published"] = to_dates(st.pop("published"), start)
    cols.update({k: pa.array(v) for k, v in st.items()})
    write_table(out_dir / "financials", pa.table(cols), fmt)

    tick("write supply")
    n_links = len(sim.sup)
    n_ext = max(1, n_links * 3 // 100)
    # External counterparties: copies of internal spells with one side replaced.
    tmpl = rng.integers(0, n_links, n_ext)
    ext_side = rng.random(n_ext) < 0.5
    ext_code = pa.array(ft.external_uscc).take(pa.array(rng.integers(0, len(ft.external_uscc), n_ext)))
    sup_codes = _concat(
        [
            _uscc(codes, sim.sup),
            pa.array(np.where(ext_side, ext_code.to_numpy(False), ft.uscc[sim.sup[tmpl]])),
        ]
    )
    buy_codes = _concat(
        [
            _uscc(codes, sim.buy),
            pa.array(np.where(ext_side, ft.uscc[sim.buy[tmpl]], ext_code.to_numpy(False))),
        ]
    )
    s_start = np.concatenate([sim.start_day, sim.start_day[tmpl]])
    s_end = np.concatenate([sim.end_day, sim.end_day[tmpl]])
    sources = ("platform_orders", "vat_invoice", "self_reported")
    write_table(
        out_dir / "supply",
        pa.table(
            {
                "supplier_uscc": sup_codes,
                "buyer_uscc": buy_codes,
                "annual_value": pa.array(np.concatenate([sim.value, sim.value[tmpl]])),
                "start": to_dates(s_start, start),
                "end": to_dates(s_end, start, null_at_or_after=end_day),
                "source": categorical(rng.choice(3, n_links + n_ext, p=[0.6, 0.3, 0.1]), sources),
            }
        ),
        fmt,
    )

    tick("write receivables")
    rc = receivable_rows(
        rngs["receivables"], sim.sup, sim.buy, sim.start_day, sim.end_day, sim.value, dm, cal
    )
    write_table(
        out_dir / "receivables",
        pa.table(
            {
                "creditor_uscc": _uscc(codes, sim.sup[rc["link"]]),
                "debtor_uscc": _uscc(codes, sim.buy[rc["link"]]),
                "amount": pa.array(rc["amount"]),
                "as_of": to_dates(rc["as_of"], start),
            }
        ),
        fmt,
    )

    tick("write loans")
    write_table(
        out_dir / "loans",
        pa.table(
            {
                "loan_id": loan_id_arr,
                "borrower_uscc": _uscc(codes, loans.borrower),
                "lender": categorical(loans.lender, LENDERS),
                "principal": pa.array(loans.principal),
                "limit": pa.array(loans.limit),
                "currency": pa.array(np.full(loans.n, "CNY")),
                "start": to_dates(loans.start_day, start),
                "maturity": to_dates(loans.maturity_day, start),
                "collateral_type": categorical(loans.collateral, COLLATERAL),
                "collateral_value": pa.array(loans.collateral_value),
                "lgd": pa.array(loans.lgd, mask=np.isnan(loans.lgd)),
            }
        ),
        fmt,
    )
    g_idx = np.flatnonzero(gkeep)
    g_person = gua.is_person[g_idx]
    g_id = np.where(
        g_person, person_ids(gua.guarantor[g_idx]), ft.uscc[np.where(g_person, 0, gua.guarantor[g_idx])]
    )
    write_table(
        out_dir / "guarantees",
        pa.table(
            {
                "guarantor_id": pa.array(g_id),
                "guarantor_type": categorical(g_person.astype(np.int8), ("firm", "person")),
                "borrower_uscc": _uscc(codes, gua.borrower[g_idx]),
                "loan_id": loan_id_arr.take(pa.array(new_index[gua.loan[g_idx]])),
                "amount": pa.array(gua.amount[g_idx]),
                "start": to_dates(gua.start_day[g_idx], start),
                "end": to_dates(gua.end_day[g_idx], start),
            }
        ),
        fmt,
    )

    tick("write loan status")
    with TableWriter(out_dir / "loan_status", fmt) as w:
        for b in status_batches(rngs["status"], loans, dm, cal):
            w.write(
                pa.table(
                    {
                        "loan_id": loan_id_arr.take(pa.array(b["loan"])),
                        "month": to_dates(cal.day(b["month"]), start),
                        "outstanding": pa.array(b["outstanding"]),
                        "days_overdue": pa.array(b["days_overdue"], pa.int64()),
                        "classification": categorical(b["classification"], CLASSES),
                    }
                )
            )

    tick("write events")
    has_loan = np.zeros(firms, bool)
    has_loan[loans.borrower] = True
    ev = event_rows(rngs["events"], sim.default_day, has_loan, cal)
    write_table(
        out_dir / "events",
        pa.table(
            {
                "uscc": _uscc(codes, ev["firm"]),
                "date": to_dates(ev["day"], start),
                "type": categorical(ev["type"], EVENT_TYPES),
            }
        ),
        fmt,
    )

    with TableWriter(out_dir / "signals", fmt) as w:
        for t, b in enumerate(signal_batches(rngs["signals"], ft, health, dm, cal)):
            tick("write signals", t + 1, months)
            w.write(
                pa.table(
                    {
                        "uscc": _uscc(codes, b["firm"]),
                        "month": to_dates(cal.day(b["month"]), start),
                        "electricity_kwh": pa.array(b["electricity_kwh"]),
                        "equipment_utilization": pa.array(b["equipment_utilization"]),
                        "orders_value": pa.array(b["orders_value"]),
                        "invoices_value": pa.array(b["invoices_value"]),
                    }
                )
            )

    tick("write ownership")
    o_id = np.where(
        own.owner_is_firm, ft.uscc[np.where(own.owner_is_firm, own.owner, 0)], person_ids(own.owner)
    )
    write_table(
        out_dir / "ownership",
        pa.table(
            {
                "owner_id": pa.array(o_id),
                "owner_type": categorical(own.owner_is_firm.astype(np.int8), ("person", "firm")),
                "uscc": _uscc(codes, own.firm),
                "share": pa.array(own.share),
                "start": to_dates(ft.founded_day[own.firm], start),
                "end": pa.nulls(len(own.firm), pa.date32()),
            }
        ),
        fmt,
    )

    tick("write truth")
    d = np.flatnonzero(dm >= 0)
    d = d[np.lexsort((d, sim.default_day[d]))]
    via = sim.via[d]
    write_table(
        truth / "defaults",
        pa.table(
            {
                "uscc": _uscc(codes, d),
                "month": to_dates(cal.day(dm[d]), start),
                "date": to_dates(sim.default_day[d], start),
                "cause": categorical(sim.cause[d], CAUSES),
                "via_uscc": pa.array(np.where(via >= 0, ft.uscc[np.maximum(via, 0)], None)),
            }
        ),
        "parquet",
    )
    with TableWriter(truth / "hazards", "parquet") as w:
        for t in range(months):
            alive = np.flatnonzero((ft.founded_month <= t) & ((dm < 0) | (dm >= t)))
            w.write(
                pa.table(
                    {
                        "uscc": _uscc(codes, alive),
                        "month": to_dates(np.full(len(alive), cal.day(t)), start),
                        "p_own": pa.array(sim.p_own[t, alive]),
                        "p_supply": pa.array(sim.p_supply[t, alive]),
                        "p_guarantee": pa.array(sim.p_guarantee[t, alive]),
                        "health": pa.array(health[LEAD + t, alive]),
                    }
                )
            )
    write_table(
        truth / "firms",
        pa.table(
            {
                "uscc": codes,
                "tier": categorical(ft.tier, TIERS),
                "fitness": pa.array(ft.fitness),
                "frailty": pa.array(ft.frailty),
                "leverage0": pa.array(ft.leverage0),
                "external": pa.array(np.zeros(firms, bool)),
            }
        ),
        "parquet",
    )

    # Calibration statistics on the network active in the last month.
    mid = int(cal.day(months - 1)) + 14
    act = (sim.start_day <= mid) & (sim.end_day > mid)
    alive_end = (ft.founded_month <= months - 1) & (dm < 0)
    n_alive = int(alive_end.sum())
    a_sup, a_buy = sim.sup[act], sim.buy[act]
    deg = np.bincount(a_sup, minlength=firms) + np.bincount(a_buy, minlength=firms)
    mean_total = deg[alive_end].mean() if n_alive else 0.0
    gf = gkeep & ~gua.is_person
    pairs = np.unique(np.stack([gua.guarantor[gf], gua.borrower[gf].astype(np.int64)]), axis=1)
    causes = np.bincount(sim.cause[d], minlength=3)
    nd = max(1, len(d))
    summary = GenerationSummary(
        firms=firms,
        months=months,
        seed=seed,
        contagion_strength=float(contagion_strength),
        supply_links=n_links + n_ext,
        active_links=int(act.sum()),
        guarantee_links=len(g_idx),
        guarantee_pairs=int(pairs.shape[1]) + int(np.unique(gua.borrower[gkeep & gua.is_person]).size),
        loans=loans.n,
        defaults=len(d),
        annual_default_rate=round(len(d) / firms / (months / 12), 5),
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
    (truth / "summary.json").write_text(summary.to_json() + "\n", encoding="utf-8")
    tick("done")
    return summary
