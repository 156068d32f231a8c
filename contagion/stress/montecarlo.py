r"""Batch stress tests: correlated defaults, multi-layer contagion and the bank's loss, by Monte Carlo.

Run :math:`r = 0, \dots, N-1` of a scenario:

1. draws defaults :math:`D^0_{\cdot r}` from the Gaussian copula
   (:mod:`contagion.stress.copula`), seeded by ``[seed, r]``;
2. sets the initial distress :math:`h_{\cdot r}(0) = \max(h^{\text{scen}}, s_r D^0_{\cdot r})`
   (:mod:`contagion.stress.shocks`), :math:`s_r` the distress at which the copula's defaults
   pass on (``contagion.from_pd_defaults``, :mod:`contagion.stress.baseline`: their excess over
   the PDs' expectation by default; they stay full defaults for the loss);
3. propagates it through the supply, guarantee and trade-credit layers with the
   differential DebtRank of :func:`contagion.multilayer.propagate` (the guarantee
   layer's exposures are the calls of :mod:`contagion.guarantee`, equity imputed
   where unknown, :mod:`contagion.stress.equity`);
4. maps distress to default with the same draws inside the propagation rounds
   (:mod:`contagion.stress.distress`): a firm defaults when its latent variable
   falls below :math:`\Phi^{-1}(PD)(1 - k h)` or its distress reaches the
   threshold; it is set to distress 1 in the round it crosses and passes a full
   default on in the next (``propagate(..., rule=...)``: one propagation reaches
   the fixed point that restarting the propagation with the new defaults as shocks,
   until no firm is added, reaches);
5. prices the bank's loans (:mod:`contagion.stress.loss`), and, for the share of
   loss that contagion adds, the same draws without contagion: the copula's and
   the scenario's defaults, plus the mapping applied to the scenario's own distress.

A calm-year baseline (the same runs without the scenario's shocks and shifts,
:mod:`contagion.stress.baseline`) splits EL into the PDs' expectation, the calm year's
contagion and the scenario's increment (``contagion.EL_over_baseline``).

Runs go in blocks of ``block_size`` consecutive indices; a block is one
``propagate`` call with its runs as the columns of the shock matrix (one sparse
times dense product per round), so there is no Python loop over runs or firms in
the contagion. Blocks run locally or on a Dask cluster; their partial sums are
combined in block order, so a sharded run equals a local one exactly.

Importance sampling (:mod:`contagion.stress.importance`, scenario ``sampling``)
tilts the global factor on a share of the runs; every per-firm mean and tail
figure then weights run :math:`r` by its likelihood ratio :math:`w_r` (normalised
to :math:`\sum_r w_r`). The Euler contribution of firm :math:`j` to
:math:`ES_{99}` is :math:`\sum_r \theta_r L_{jr}` with the run weights
:math:`\theta` of :func:`contagion.stress.tail_stats.es_weights`, so the
contributions sum to :math:`\widehat{ES}_{99}` (Tasche 2007); segment
contributions (region, industry, lender, connected-client group, layer) are sums of them.

Contagion paths. In differential DebtRank the increments of :math:`h_j` sum to its
final distress, so the distress pressure a link :math:`j \to i` of layer
:math:`l` carried in run :math:`r` is :math:`\tau_l W_l[i, j]\, h_j^{(r)}(\infty)`
(transmission times impact times the source's total distress; pressure on a target
already at :math:`h_i = 1` is counted although it changes nothing). The reported
``stress_flow`` is its mean over all runs, :math:`\tau_l W_l[i, j]\, \bar h_j`,
computed exactly from the per-firm mean distress.

References
----------
.. [1] S. Battiston et al., "DebtRank: too central to fail?", Sci. Rep. 2:541 (2012).
.. [2] M. Bardoscia et al., "DebtRank: a microscopic foundation for shock
       propagation", PLoS ONE 10(6):e0130406 (2015).
.. [3] Z. Tabachová, C. Diem, A. Borsos, C. Burger, S. Thurner, "Estimating the
       impact of supply chain network contagion on financial stability",
       J. Financial Stability 75:101336 (2024).
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import os
import sys
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

import chainrisk
from chainrisk.errors import ConfigError, InvalidModelInput
from contagion.stress.amplification import amplification
from contagion.stress.asset_correlation import (
    implied_asset_correlation,
    irb_correlation,
    yearly_default_rates,
)
from contagion.stress.baseline import (
    baseline_report,
    calm_scenario,
    is_calm,
    pd_default_shock,
    pd_expectation,
)
from contagion.stress.baseline import baseline_runs as calm_runs
from contagion.stress.collect import DEFAULT_MAX_KEPT_BYTES, Collected, RunCollector
from contagion.stress.concentration import client_groups, concentration_report
from contagion.stress.copula import CopulaModel, copula_model, draw_latent, shifted_pd
from contagion.stress.default_stock import in_default, split_book, stock_report
from contagion.stress.distress import distress_defaults
from contagion.stress.equity import impute_equity
from contagion.stress.importance import ImportanceSampling, global_draws, importance_shift
from contagion.stress.loss import LoanBook, loan_book, loan_losses
from contagion.stress.pd_calibration import cohort_observations
from contagion.stress.pd_source import RiskRunPDs, concat_cohorts, resolve_pds
from contagion.stress.result import StressResult
from contagion.stress.scenario import Scenario, scenario_hash
from contagion.stress.segments import guarantee_circles, layer_split, segment_table
from contagion.stress.shocks import firm_measures, initial_distress
from contagion.stress.tail_stats import es_weights, loss_measures, normalised_weights, precision_warnings
from contagion.typing import SnapshotLike

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["BlockResult", "StressModel", "prepare", "run_stress", "simulate_block", "top_paths",
           "warm_dask_workers"]

#: Levels of the tail figures.
LEVELS: tuple[float, ...] = (0.95, 0.99, 0.999)

#: Level of the Euler contributions (``es_contribution``).
EULER_LEVEL = 0.99


def _engine() -> Any:
    try:
        multilayer = importlib.import_module("contagion.multilayer")
    except ImportError as exc:  # pragma: no cover - the engine ships with the package
        raise ConfigError("contagion.multilayer (the multi-layer DebtRank engine) is not available") from exc
    return multilayer


@dataclass(frozen=True)
class StressModel:
    """Everything one block of runs needs: small, picklable, shipped once to each worker."""

    layers: dict[str, sp.csr_matrix]
    transmission: dict[str, float]
    default_threshold: float
    tol: float
    max_rounds: int
    #: The scenario's initial distress :math:`h^{\text{scen}}` per firm.
    initial: np.ndarray
    copula: CopulaModel
    book: LoanBook
    seed: int
    #: Firms in default at the snapshot date: never a new default, always a defaulted guarantor.
    stock: np.ndarray | None = None
    #: k of :mod:`contagion.stress.distress` (0: default only at the threshold).
    distress_sensitivity: float = 0.0
    #: The default stock replayed as shocks (then their guarantees are called in the runs too).
    replay: bool = False
    #: How the copula's defaults pass distress on (``contagion.from_pd_defaults``), and
    #: :math:`\sum_i PD_i` over the firms that can default (``baseline.pd_default_shock``).
    from_pd_defaults: str = "all"
    expected_defaults: float = 0.0

    @property
    def n(self) -> int:
        return len(self.initial)


@dataclass(frozen=True)
class BlockResult:
    """Per-run figures of runs ``start .. stop-1`` and per-firm / per-loan sums over them."""

    start: int
    stop: int
    loss: np.ndarray
    loss_no_contagion: np.ndarray
    wrong_way: np.ndarray
    n_defaults: np.ndarray
    loss_by_cause: dict[str, np.ndarray]
    firm_defaults: np.ndarray
    firm_loss: np.ndarray
    loan_loss: np.ndarray
    distress: np.ndarray
    unshocked_distress: np.ndarray
    unshocked_runs: np.ndarray
    rounds: int
    converged: bool
    #: Importance-sampling weight and global factor of each run; their weights' sum.
    weight: np.ndarray
    global_factor: np.ndarray
    weight_total: float
    #: Bank loss per firm and run, new defaults per firm and run (sparse, n x k); loss per lender and run.
    run_firm_loss: sp.csc_matrix
    run_defaults: sp.csc_matrix
    run_lender_loss: np.ndarray


def _row_sums(a: np.ndarray) -> np.ndarray:
    """Sum of each column of ``a`` (n x k) in a fixed order that does not depend on k."""
    return np.ascontiguousarray(a.T).sum(axis=1)


def _propagate(model: StressModel, shock: np.ndarray, rule: Any = None) -> Any:
    return _engine().propagate(model.layers, shock, transmission=model.transmission,
                               default_threshold=model.default_threshold, tol=model.tol,
                               max_rounds=model.max_rounds, rule=rule)


def _spread(model: StressModel, shock: np.ndarray, latent: np.ndarray, live: np.ndarray
            ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray, int, bool]:
    """Contagion with the distress -> default mapping inside the rounds: one propagation.

    A live firm whose distress crosses its threshold in a round (:mod:`contagion.stress.distress`:
    the draw below :math:`c(1 - kh)`, or the distress at ``default_threshold``) is a full default
    from then on and passes the rest of it on in the next round
    (:class:`contagion.multilayer.DefaultRule`); the stock never defaults anew. The jump to 1
    is booked to the layers that carried the firm's distress, so its loss is contagion's.

    Returns the final distress, the loss by layer, the defaults (live firms only), the
    rounds the propagation took and whether it converged.
    """
    thr = model.copula.thresholds
    alive = live[:, 0]
    rule = _engine().DefaultRule(
        latent=latent, thresholds=np.where(alive, thr, -np.inf), sensitivity=model.distress_sensitivity,
        cap=np.where(alive, model.default_threshold, np.inf))
    res = _propagate(model, shock, rule)
    h = np.asarray(res.distress, dtype=np.float64)
    by_layer = {k: np.asarray(v, dtype=np.float64) for k, v in res.loss_by_layer.items()}
    dflt = live & distress_defaults(latent, thr, h, sensitivity=model.distress_sensitivity,
                                    default_threshold=model.default_threshold)
    return h, by_layer, dflt, int(res.rounds), bool(res.converged)


def _weighted_sums(a: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sum over runs per row of ``a`` (n x k): a sure event's sum equals the weights' own sum."""
    return np.ascontiguousarray(a * w[None, :]).sum(axis=1)


def simulate_block(model: StressModel, start: int, stop: int) -> BlockResult:
    """Simulate runs ``start .. stop-1`` (the unit of work, locally or on a Dask worker)."""
    runs = range(start, stop)
    cop = model.copula
    z_global, w = global_draws(runs, model.seed, ImportanceSampling(cop.is_shift, cop.is_share))
    stock = np.zeros(model.n, dtype=bool) if model.stock is None else model.stock
    live = ~stock[:, None]
    latent = draw_latent(model.copula, runs, model.seed)
    thr = model.copula.thresholds
    fresh = (latent < thr[:, None]) & live
    forced = (model.initial >= model.default_threshold)[:, None]
    D0 = fresh | forced
    initial_shock = np.maximum(model.initial[:, None], D0.astype(np.float64))
    # the copula's defaults enter the propagation at the distress contagion.from_pd_defaults gives
    # them; outside "all" the mapping must not snap them back to 1 (they are defaults all the same)
    scale = pd_default_shock(fresh & ~forced, model.expected_defaults, model.from_pd_defaults)
    shock = np.maximum(model.initial[:, None], np.where(forced, 1.0, fresh * scale[None, :]))
    spread_latent = latent if model.from_pd_defaults == "all" else np.where(fresh & ~forced, np.inf, latent)
    distress, by_layer, mapped, rounds, converged = _spread(model, shock, spread_latent, live)
    # the stock is in default in every run: its own loans are not in the book, and it pays no guarantee
    D = D0 | mapped | stock[:, None]
    # without contagion: the same draws, the mapping applied to the scenario's own distress
    D_nc = D0 | stock[:, None] | (live & distress_defaults(
        latent, thr, initial_shock, sensitivity=model.distress_sensitivity,
        default_threshold=model.default_threshold))
    book = model.book

    def price(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return loan_losses(book, d, callers=d if model.replay else d & live, broke=stock)

    losses, wrong_way = price(D)
    losses0, _ = price(D_nc)
    firm_loss = np.asarray(book.borrower_matrix() @ losses)
    by_cause = layer_split(firm_loss, D_nc, by_layer)
    unshocked = initial_shock <= 0.0
    new = D & ~stock[:, None]
    lenders, lender_of = np.unique(book.lender.astype(str), return_inverse=True)
    to_lender = sp.csr_matrix((np.ones(len(lender_of)), (lender_of, np.arange(len(lender_of)))),
                              shape=(len(lenders), len(lender_of)))
    return BlockResult(
        start=start,
        stop=stop,
        loss=_row_sums(losses),
        loss_no_contagion=_row_sums(losses0),
        wrong_way=wrong_way,
        n_defaults=new.sum(axis=0).astype(np.int64),
        loss_by_cause=by_cause,
        # weighted sums (importance sampling; w = 1 without it), in an order independent of the block
        firm_defaults=_weighted_sums(D, w),
        firm_loss=_weighted_sums(firm_loss, w),
        loan_loss=_weighted_sums(losses, w),
        distress=_weighted_sums(distress, w),
        unshocked_distress=_weighted_sums(np.where(unshocked, distress, 0.0), w),
        unshocked_runs=_weighted_sums(unshocked, w),
        rounds=rounds,
        converged=converged,
        weight=w,
        global_factor=z_global,
        weight_total=float(_weighted_sums(np.ones((1, len(w))), w)[0]),
        run_firm_loss=sp.csc_matrix(firm_loss),
        run_defaults=sp.csc_matrix(new),
        run_lender_loss=np.asarray(to_lender @ losses),
    )


# ----------------------------------------------------------------------------- preparation
def prepare(
    snapshot: SnapshotLike,
    scenario: Scenario,
    *,
    seed: int,
    bank_lenders: Collection[str] | None,
    file: str = "",
    risk_pds: RiskRunPDs | None = None,
    history: Sequence[SnapshotLike] | pd.DataFrame | None = None,
) -> tuple[StressModel, dict[str, Any]]:
    """Turn a snapshot and a scenario into a :class:`StressModel` and the context for reporting.

    ``bank_lenders`` selects the bank's loans as given (``None`` or empty: every lender);
    :func:`run_stress` resolves it from its argument and the scenario. ``risk_pds`` and
    ``history`` are the PD sources of :func:`contagion.stress.pd_source.resolve_pds`.
    """
    multilayer = _engine()
    firms = snapshot.firms
    n = len(firms)
    c = scenario.contagion
    pd_, pd_info, shift = resolve_pds(firms, snapshot.loans, snapshot.as_of, scenario.default_probability,
                                      risk=risk_pds, history=_observations(snapshot, history))
    stock = in_default(firms)
    pd_ = np.where(stock, 1.0, pd_)  # a defaulted exposure has PD 1; the copula draws no new default

    def labels(col: str, digits: int | None = None) -> list[str]:
        if col not in firms:
            return [""] * n
        text = firms[col].astype("string").fillna("").tolist()
        return [t[:digits] for t in text] if digits else text

    sector_col = "sector" if "sector" in firms else "industry"
    cop = copula_model(
        np.where(stock, 0.0, pd_),
        labels(sector_col),
        labels("region", scenario.copula.region_digits),
        rho_global=scenario.copula.rho_global,
        rho_sector=scenario.copula.rho_sector,
        rho_region=scenario.copula.rho_region,
        sector_shift=scenario.macro.sector if shift else None,
        region_shift=scenario.macro.region if shift else None,
        global_shift=scenario.macro.global_ if shift else 0.0,
    )
    equity = impute_equity(firms)
    full_book = loan_book(snapshot.loans, snapshot.guarantee_contracts, n=n, lenders=bank_lenders,
                          params=scenario.loss, as_of=snapshot.as_of, capacity=equity.equity,
                          loss_rate=c.loss_rate, ownership=getattr(snapshot, "ownership", None),
                          pd_=pd_, pd_stressed=shifted_pd(cop))
    book, stock_book = split_book(full_book, stock)
    firm_ead = np.bincount(full_book.borrower, weights=full_book.ead, minlength=n)[:n]
    measures = firm_measures(firms, snapshot.supply, snapshot.guarantees, bank_exposure=firm_ead, pd_=pd_)
    h0 = initial_distress(firms, scenario, measures, file=file)
    if scenario.default_stock.replay:
        h0 = np.where(stock, 1.0, h0)
    built = multilayer.build_layers(snapshot, loss_rate=c.loss_rate, supply_margin=c.supply.margin,
                                    supply_replacement_months=c.supply_replacement_months,
                                    matrix=c.debtrank.matrix, equity=equity.equity,
                                    guarantee_exposure=full_book.calls)
    layers = {str(k): sp.csr_matrix(v) for k, v in built.items()}
    tilt = _tilt(scenario)
    cop = dataclasses.replace(cop, is_shift=tilt.shift, is_share=tilt.share)
    model = StressModel(
        layers=layers,
        transmission={str(k): float(v) for k, v in c.transmission.items()},
        default_threshold=c.default_threshold,
        tol=c.tol,
        max_rounds=c.max_rounds,
        initial=h0,
        copula=cop,
        book=book,
        seed=int(seed),
        stock=stock,
        distress_sensitivity=c.distress_sensitivity,
        replay=scenario.default_stock.replay,
        from_pd_defaults=c.from_pd_defaults,
        expected_defaults=float(np.sum(np.where(stock, 0.0, pd_))),
    )
    context = {"pd": pd_, "firm_ead": firm_ead, "circles": guarantee_circles(snapshot.guarantees),
               "in_default": stock, "lgd": full_book.firm_lgd(), "equity_used": equity.equity,
               "equity_imputed": equity.imputed, "equity": equity.summary(),
               "groups": client_groups(snapshot.guarantees, getattr(snapshot, "ownership", None), n,
                                       scenario.concentration.control_share),
               "copula": copula_report(cop, pd_, np.where(stock, 0.0, firm_ead),
                                       yearly_default_rates(firms, snapshot.loans, snapshot.as_of)),
               "default_stock": stock_report(stock_book, stock, replay=scenario.default_stock.replay),
               "pd_source": pd_info}
    return model, context


def _tilt(scenario: Scenario) -> ImportanceSampling:
    """The copula's importance-sampling fields from the scenario's ``sampling`` section."""
    spec = scenario.sampling
    has_global = scenario.copula.rho_global > 0.0
    if spec.importance == "on" and not has_global:
        raise ConfigError("sampling.importance: on needs a global factor (copula.rho_global > 0)")
    if spec.importance == "off" or not has_global:
        return ImportanceSampling()
    shift = spec.shift if spec.shift is not None else importance_shift(spec.level)
    return ImportanceSampling(float(shift), float(spec.share))


def _observations(snapshot: SnapshotLike, history: Sequence[SnapshotLike] | pd.DataFrame | None
                  ) -> pd.DataFrame | None:
    """Cohort observations: as given, or from past snapshots with the current snapshot's default dates."""
    if history is None or isinstance(history, pd.DataFrame):
        return history
    firms = snapshot.firms
    dates = (pd.to_datetime(firms["default_date"], errors="coerce") if "default_date" in firms
             else pd.Series(pd.NaT, index=firms.index))
    first = pd.Series(dates.to_numpy(), index=firms["uscc"].astype(str).to_numpy())
    limit = pd.Timestamp(snapshot.as_of)

    def observed(past: SnapshotLike) -> bool:
        # a cohort counts when its 12-month window has closed by the snapshot date and the platform
        # already had loan statuses then (before that, classes and defaults are not observable)
        if pd.Timestamp(past.as_of) + pd.DateOffset(months=12) > limit or len(past.loans) == 0:
            return False
        return "status_month" not in past.loans or bool(past.loans["status_month"].notna().any())

    return concat_cohorts([cohort_observations(past, first) for past in history if observed(past)])


def copula_report(cop: CopulaModel, pd_: np.ndarray, weight: np.ndarray, series: pd.DataFrame
                  ) -> dict[str, Any]:
    """The loadings beside the Basel IRB reference and the correlation implied by the platform's history.

    The IRB reference is taken at the exposure-weighted mean PD of the firms the
    bank lends to (all firms when it lends to none), with and without the SME
    adjustment for 5 m EUR turnover.
    """
    w = np.where(np.isfinite(weight), weight, 0.0)
    p = np.clip(pd_, 0.0, 1.0)
    mean_pd = float(np.average(p, weights=w) if w.sum() > 0 else (p.mean() if len(p) else math.nan))
    rates = series["rate"].to_numpy(dtype=np.float64) if len(series) else np.zeros(0)
    sizes = series["firms"].to_numpy(dtype=np.float64) if len(series) else np.zeros(0)
    implied = implied_asset_correlation(rates, sizes)
    ok = math.isfinite(mean_pd) and 0.0 < mean_pd < 1.0
    return {
        "rho_global": cop.rho_global,
        "rho_sector": cop.rho_sector,
        "rho_region": cop.rho_region,
        "rho_total": cop.rho_total,
        "sectors": len(cop.sectors),
        "regions": len(cop.regions),
        "global_shift": cop.global_shift,
        "mean_pd": mean_pd if math.isfinite(mean_pd) else None,
        "irb_corporate": irb_correlation(mean_pd) if ok else None,
        "irb_sme_5m_eur": irb_correlation(mean_pd, turnover_m_eur=5.0) if ok else None,
        "implied_from_history": implied,
        "implied_method": "Vasicek method of moments on yearly cohort default rates" + (
            "" if implied is not None else " (needs 3 or more yearly cohorts with a default)"),
        "yearly_default_rates": [
            {"cohort": str(c), "firms": int(f), "defaults": int(d), "rate": float(r)}
            for c, f, d, r in zip(series.get("cohort", []), series.get("firms", []),
                                  series.get("defaults", []), series.get("rate", []), strict=True)
        ],
    }


# ----------------------------------------------------------------------------- execution
def _blocks(runs: int, block_size: int) -> list[tuple[int, int]]:
    return [(a, min(a + block_size, runs)) for a in range(0, runs, block_size)]


def _run_local(model: StressModel, bounds: Sequence[tuple[int, int]], sink: Callable[[BlockResult], None]
               ) -> None:
    for a, b in bounds:
        sink(simulate_block(model, a, b))


def warm_dask_workers(client: Client) -> dict[str, int]:
    """Import the engine on every Dask worker; return the kernel threads each worker's runs should use.

    A fresh worker process spends its first task importing pandas, scipy, numba and
    the engine and loading the compiled kernels (tens of seconds on a busy machine);
    doing it here, once per worker and all workers at once, keeps it out of the
    blocks, and :func:`run_stress` on a warm cluster pays nothing. The thread count
    shares each host's cores among the task threads of the workers on it, so that
    worker processes do not each start a kernel thread per core (on 2 cores, 2
    workers would run 4 threads).
    """
    cores = client.run(_warm_worker)
    workers = client.scheduler_info()["workers"]
    per_host: dict[str, int] = {}
    for info in workers.values():
        per_host[info["host"]] = per_host.get(info["host"], 0) + int(info.get("nthreads", 1))
    return {addr: max(1, int(cores.get(addr, 1)) // max(1, per_host[info["host"]]))
            for addr, info in workers.items()}


def _warm_worker() -> int:
    # a two-firm propagation loads the compiled kernels a block's contagion uses
    w = sp.csr_matrix(np.array([[0.0, 0.5], [0.5, 0.0]]))
    _engine().propagate({"a": w, "b": w}, np.array([[1.0, 0.0], [0.0, 0.5]]))
    return os.cpu_count() or 1


def _simulate_shard(model: StressModel, start: int, stop: int, threads: Mapping[str, int]) -> BlockResult:
    """:func:`simulate_block` on a Dask worker, its kernels on the worker's share of the cores."""
    from distributed import get_worker

    numba = sys.modules.get("numba")
    n = threads.get(get_worker().address)
    if numba is not None and n:
        # thread-local in numba: applies to this task's thread only; results do not depend on it
        numba.set_num_threads(min(int(n), int(numba.config.NUMBA_NUM_THREADS)))
    return simulate_block(model, start, stop)


def _run_dask(model: StressModel, bounds: Sequence[tuple[int, int]], scheduler: str | Client,
              sink: Callable[[BlockResult], None]) -> None:
    from distributed import Client, as_completed

    own = isinstance(scheduler, str)
    try:
        client = Client(scheduler, timeout="30s") if isinstance(scheduler, str) else scheduler
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
    try:
        threads = warm_dask_workers(client)
        # the model goes to every worker once; tasks carry only a reference and their run range
        shared = client.scatter(model, broadcast=True, hash=False)
        tag = uuid.uuid4().hex[:8]
        futures = [client.submit(_simulate_shard, shared, a, b, threads, key=f"stress-{tag}-{a}", pure=False)
                   for a, b in bounds]
        for fut in as_completed(futures):
            sink(fut.result())
            fut.release()  # the worker may drop the block once it is folded
    finally:
        if own:
            client.close()


def _execute(model: StressModel, runs: int, block_size: int, scheduler: str | Client | None, progress: bool,
             keep_above: float | None = None, max_kept_bytes: int | None = DEFAULT_MAX_KEPT_BYTES
             ) -> Collected:
    """Run every block and fold it into a :class:`~contagion.stress.collect.RunCollector` as it arrives."""
    bounds = _blocks(runs, block_size)
    cop = model.copula
    sampling = ImportanceSampling(cop.is_shift, cop.is_share)
    # the weight of all runs, known before any runs: the collector drops runs below the final VaR early
    total_weight = (float(global_draws(range(runs), model.seed, sampling)[1].sum()) if sampling.active
                    else float(runs))
    collector = RunCollector(runs, total_weight, EULER_LEVEL, keep_above, max_kept_bytes)

    def go(sink: Callable[[BlockResult], None]) -> None:
        if scheduler is not None:
            _run_dask(model, bounds, scheduler, sink)
        else:
            _run_local(model, bounds, sink)

    if not progress:
        go(collector.add)
    else:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(TextColumn("stress"), BarColumn(), MofNCompleteColumn(), TextColumn("runs"),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("runs", total=runs)

            def sink(block: BlockResult) -> None:
                collector.add(block)
                bar.advance(task, block.stop - block.start)

            go(sink)
    return collector.finish()


# ----------------------------------------------------------------------------- paths
def top_paths(
    layers: Mapping[str, sp.csr_matrix],
    transmission: Mapping[str, float],
    mean_distress: np.ndarray,
    uscc: Sequence[str],
    *,
    top: int = 200,
) -> pd.DataFrame:
    """The ``top`` links by mean distress pressure :math:`\\tau_l W_l[i, j] \\bar h_j` (source j, target i).

    >>> W = {"supply": sp.csr_matrix(np.array([[0, 0.5, 0], [0, 0, 0.2], [0, 0, 0.]]))}
    >>> top_paths(W, {"supply": 1.0}, np.array([0, 1.0, 0.5]), ["A", "B", "C"]).values.tolist()
    [['B', 'A', 'supply', 0.5, 1, 0], ['C', 'B', 'supply', 0.1, 2, 1]]
    """
    frames = []
    for name in sorted(layers):
        w = sp.coo_matrix(layers[name])
        flow = float(transmission.get(name, 1.0)) * w.data * mean_distress[w.col]
        keep = flow > 0
        frames.append(pd.DataFrame({"layer": name, "stress_flow": flow[keep],
                                    "source_row": w.col[keep].astype(np.int64),
                                    "target_row": w.row[keep].astype(np.int64)}))
    cols = ["source", "target", "layer", "stress_flow", "source_row", "target_row"]
    if not frames:
        return pd.DataFrame(columns=cols)
    allf = pd.concat(frames, ignore_index=True)
    allf = allf.sort_values(["stress_flow", "layer", "source_row", "target_row"],
                            ascending=[False, True, True, True], kind="stable").head(top)
    names = np.asarray(uscc, dtype=object)
    allf["source"] = names[allf["source_row"].to_numpy()]
    allf["target"] = names[allf["target_row"].to_numpy()]
    return allf[cols].reset_index(drop=True)


# ----------------------------------------------------------------------------- entry point
def run_stress(
    snapshot: SnapshotLike,
    scenario: Scenario,
    *,
    runs: int | None = None,
    seed: int | None = None,
    scheduler: str | Client | None = None,
    bank_lenders: Collection[str] | None = None,
    progress: bool = True,
    block_size: int = 250,
    systemic_impact: np.ndarray | None = None,
    top_paths_kept: int = 200,
    scenario_file: str = "",
    risk_pds: RiskRunPDs | None = None,
    history: Sequence[SnapshotLike] | pd.DataFrame | None = None,
    keep_runs_above: float | None = None,
    max_kept_bytes: int | None = DEFAULT_MAX_KEPT_BYTES,
    baseline_runs: int | None = None,
) -> StressResult:
    """Run a scenario's Monte Carlo stress test on a snapshot (see the module docstring).

    Parameters
    ----------
    snapshot : SnapshotLike
        For example an :class:`ingest.snapshot.Snapshot` (see :class:`contagion.typing.SnapshotLike`).
    scenario : Scenario
    runs, seed : int, optional
        Override the scenario's ``runs`` and ``seed``.
    scheduler : str or distributed.Client, optional
        Shard the blocks over this Dask cluster (an address such as
        ``"tcp://10.0.0.5:8786"`` or a connected client); ``None`` runs locally.
    bank_lenders : collection of str, optional
        The lenders that make up the bank. ``None`` takes the scenario's
        ``bank_lenders``; when the scenario names none either, or the collection is
        empty, every lender's loans count. Settings are not read here: callers that
        default to ``CHAINRISK_BANK_LENDERS`` (the ``chainrisk stress`` command, the
        demo) resolve it and pass it in.
    progress : bool
        Show a rich progress bar.
    block_size : int
        Runs per ``propagate`` call. Results do not depend on where blocks run; they
        depend on ``block_size`` only through the contagion's convergence tolerance.
    systemic_impact : (n,) array, optional
        ESRI per firm, copied into ``stress_systemic_impact``.
    risk_pds : RiskRunPDs, optional
        The current risk run's PDs (see :mod:`contagion.stress.pd_source`).
    history : sequence of past snapshots or a DataFrame, optional
        Yearly past snapshots of the same platform (or their cohort observations) to
        calibrate PDs from when no risk run is given.
    keep_runs_above : float, optional
        Keep the per-firm losses and defaults of every run whose loss exceeds this, for
        :func:`contagion.stress.reverse.reverse_stress` at a threshold this low. Without
        it only the runs at or beyond the 99 % VaR keep them (what the Euler
        contributions need; :mod:`contagion.stress.collect`); ``-inf`` keeps every run.
    max_kept_bytes : int, optional
        Bound on the memory of those kept per-run firm losses and defaults (default 4 GiB,
        :data:`contagion.stress.collect.DEFAULT_MAX_KEPT_BYTES`); ``None``: no bound.
    baseline_runs : int, optional
        Runs of the calm-year baseline (:mod:`contagion.stress.baseline`: the same runs
        without the scenario's shocks and shifts) behind ``contagion.EL_over_baseline``;
        ``None``: a quarter of ``runs``; 0: no baseline. A calm scenario is its own baseline.

    Returns
    -------
    StressResult

    Raises
    ------
    ScenarioError
        A selector that matches nothing in the snapshot (names the line).
    InvalidModelInput
        Inputs of the wrong shape or out of range.
    ModelError
        The kept per-run firm losses would pass ``max_kept_bytes`` (raised as soon as the
        folded blocks show it, not at the end).
    ConfigError
        A Dask scheduler that cannot be reached.

    Warns
    -----
    StressPrecisionWarning
        Fewer than 10 draws beyond a reported VaR level (e.g. < 1000 runs at 99 %).
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    n_runs = int(runs if runs is not None else scenario.runs)
    the_seed = int(seed if seed is not None else scenario.seed)
    if n_runs < 1:
        raise InvalidModelInput(f"runs must be at least 1, got {n_runs}")
    if the_seed < 0:
        raise InvalidModelInput(f"seed must be >= 0, got {the_seed}")
    if block_size < 1:
        raise InvalidModelInput(f"block_size must be at least 1, got {block_size}")
    if bank_lenders is None:
        bank_lenders = scenario.bank_lenders
    lenders = tuple(sorted(str(x) for x in bank_lenders or ()))
    n = snapshot.n
    if systemic_impact is not None and np.shape(systemic_impact) != (n,):
        raise InvalidModelInput(f"systemic_impact has shape {np.shape(systemic_impact)}, expected ({n},)")

    model, ctx = prepare(snapshot, scenario, seed=the_seed, bank_lenders=lenders, file=scenario_file,
                         risk_pds=risk_pds, history=history)
    amplified, amplified_note = amplification(model.layers, model.transmission)
    timings["prepare"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    col = _execute(model, n_runs, block_size, scheduler, progress, keep_runs_above, max_kept_bytes)
    timings["simulate"] = time.perf_counter() - t1

    causes = sorted(col.loss_by_cause, key=lambda c: (c != "direct", c))
    weight = col.weight
    weighted = bool(model.copula.is_share > 0.0)
    w_total = col.weight_total  # the weighted "number of runs"
    dist = pd.DataFrame({
        "run": np.arange(n_runs, dtype=np.int64),
        "weight": weight,
        "global_factor": col.global_factor + model.copula.global_shift,
        "loss": col.loss,
        "loss_no_contagion": col.loss_no_contagion,
        "wrong_way_loss": col.wrong_way,
        "n_defaults": col.n_defaults,
    })
    for c in causes:
        dist[f"loss_{c}"] = col.loss_by_cause[c]
    w_arg = weight if weighted else None
    measures = loss_measures(dist["loss"].to_numpy(), levels=LEVELS, weights=w_arg)
    notes = precision_warnings(n_runs, LEVELS, None if w_arg is None else
                               measures.loc[measures["measure"] == "VaR", "tail_draws"].tolist())
    base = loss_measures(dist["loss_no_contagion"].to_numpy(), levels=LEVELS, warn=False, weights=w_arg)
    measures["value_no_contagion"] = base["value"].to_numpy()
    theta, _ = es_weights(dist["loss"].to_numpy(), w_arg, EULER_LEVEL)
    # only the runs with theta > 0 (and those beyond keep_runs_above) have columns: the same sum
    firm_es = np.asarray(col.run_firm_loss @ theta).ravel()
    if not col.converged:
        notes.append(f"the contagion did not converge within {model.max_rounds} rounds in some blocks")
    if amplified_note is not None:
        notes.append(amplified_note)

    firms = snapshot.firms
    mean_distress = col.sums["distress"] / w_total
    unshocked_runs = col.sums["unshocked_runs"]
    with np.errstate(invalid="ignore", divide="ignore"):
        vulnerability = np.where(unshocked_runs > 0, col.sums["unshocked_distress"] /
                                 np.maximum(unshocked_runs, 1), np.nan)
    firm_mean_loss = col.sums["firm_loss"] / w_total
    text = {c: (firms[c].astype("string").fillna("").to_numpy(dtype=object) if c in firms
                else np.full(n, "", dtype=object)) for c in ("uscc", "name", "region", "industry", "sector")}
    esri = np.full(n, np.nan) if systemic_impact is None else np.asarray(systemic_impact, dtype=np.float64)
    firm_table = pd.DataFrame({
        **text,
        "guarantee_circle": ctx["circles"],
        "pd": ctx["pd"],
        "in_default": ctx["in_default"],
        "lgd": ctx["lgd"],
        "equity_used": ctx["equity_used"],
        "equity_imputed": ctx["equity_imputed"],
        "initial_distress": model.initial,
        "bank_ead": ctx["firm_ead"],
        "stress_default_prob": col.sums["firm_defaults"] / w_total,
        "stress_vulnerability": vulnerability,
        "stress_mean_loss": firm_mean_loss,
        "stress_mean_distress": mean_distress,
        "stress_systemic_impact": esri,
        "client_group": ctx["groups"],
        "es_contribution": firm_es,
    })
    book = model.book
    lender_names = np.unique(book.lender.astype(str))
    lender_es = col.run_lender_loss @ theta if len(lender_names) else np.zeros(0)
    segments = segment_table(
        firms, firm_mean_loss, ctx["firm_ead"], ctx["circles"], book.lender,
        col.sums["loan_loss"] / w_total, book.ead,
        {c: float(weight @ dist[f"loss_{c}"].to_numpy()) / w_total for c in causes},
        firm_es=firm_es, groups=ctx["groups"],
        lender_es=dict(zip(lender_names.tolist(), lender_es, strict=True)),
        layer_es={c: float(theta @ dist[f"loss_{c}"].to_numpy()) for c in causes},
    )
    conc = scenario.concentration
    concentration = concentration_report(
        text["uscc"].tolist(), text["name"].tolist(), ctx["firm_ead"], ctx["groups"],
        capital=conc.tier1_capital, single_limit=conc.single_limit, group_limit=conc.group_limit,
        top_n=conc.top_n)
    sampling = {"importance": weighted, "mode": scenario.sampling.importance,
                "shift": model.copula.is_shift if weighted else None,
                "share": model.copula.is_share if weighted else None,
                "target_level": scenario.sampling.level if weighted else None,
                "effective_runs": float(weight.sum() ** 2 / np.sum(weight ** 2)),
                "euler_level": EULER_LEVEL, "tail_runs_kept": len(col.kept_runs)}
    paths = top_paths(model.layers, model.transmission, mean_distress, text["uscc"].tolist(),
                      top=top_paths_kept)
    t2 = time.perf_counter()
    calm = _calm_year(snapshot, scenario, dist, w_arg, measures, model, ctx, n_runs=n_runs,
                      requested=baseline_runs, seed=the_seed, lenders=lenders, file=scenario_file,
                      risk_pds=risk_pds, history=history, block_size=block_size, scheduler=scheduler,
                      max_kept_bytes=max_kept_bytes)
    timings["baseline"] = time.perf_counter() - t2
    timings["total"] = time.perf_counter() - t0
    share = contagion_share(dist["loss"].to_numpy(), dist["loss_no_contagion"].to_numpy(), scenario,
                            weights=w_arg)
    return StressResult(
        scenario=scenario,
        scenario_hash=scenario_hash(scenario),
        snapshot_hash=snapshot.content_hash(),
        as_of=snapshot.as_of,
        seed=the_seed,
        runs=n_runs,
        block_size=block_size,
        bank_lenders=lenders,
        code_version=chainrisk.__version__,
        firms=firm_table,
        loss_distribution=dist,
        measures=measures,
        segments=segments,
        paths=paths,
        warnings=tuple(notes),
        timings=timings,
        details={**{k: ctx[k] for k in ("pd_source", "copula", "default_stock", "equity")},
                 "contagion": {**share, "spectral_radius": amplified,
                               **({} if calm is None else {"EL_over_baseline": calm["EL_over_baseline"],
                                                           "baseline": calm})},
                 "sampling": sampling, "concentration": concentration},
        internals={"copula": model.copula, "run_firm_loss": col.run_firm_loss,
                   "run_defaults": col.run_defaults, "kept_runs": col.kept_runs,
                   "kept_above": col.kept_above,
                   "run_matrix_bytes": {"kept": col.kept_bytes, "all_runs": col.all_runs_bytes}},
    )


def _calm_year(snapshot: SnapshotLike, scenario: Scenario, dist: pd.DataFrame, weights: np.ndarray | None,
               measures: pd.DataFrame, model: StressModel, ctx: Mapping[str, Any], *, n_runs: int,
               requested: int | None, seed: int, lenders: tuple[str, ...], file: str,
               risk_pds: RiskRunPDs | None, history: Sequence[SnapshotLike] | pd.DataFrame | None,
               block_size: int, scheduler: str | Client | None, max_kept_bytes: int | None
               ) -> dict[str, Any] | None:
    """The calm-year baseline's report (:mod:`contagion.stress.baseline`), ``None`` when switched off."""
    runs = calm_runs(n_runs, requested)
    if runs == 0:
        return None
    el = measures[measures["measure"] == "EL"].iloc[0]
    book = model.book
    closed = pd_expectation(ctx["pd"], book.borrower, book.ead, book.lgd)
    if is_calm(scenario):  # the scenario is its own calm year: its every run, at no cost
        return baseline_report(float(el["value"]), dist["loss"].to_numpy(), weights, dist["loss"].to_numpy(),
                               dist["loss_no_contagion"].to_numpy(), weights, pd_closed_form=closed,
                               same_runs=True)
    calm_model, _ = prepare(snapshot, calm_scenario(scenario), seed=seed, bank_lenders=lenders, file=file,
                            risk_pds=risk_pds, history=history)
    col = _execute(calm_model, runs, block_size, scheduler, False, None, max_kept_bytes)
    w = col.weight if calm_model.copula.is_share > 0.0 else None
    return baseline_report(float(el["value"]), dist["loss"].to_numpy(), weights, col.loss,
                           col.loss_no_contagion, w, pd_closed_form=closed, same_runs=False)


def contagion_share(loss: np.ndarray, loss_no_contagion: np.ndarray, scenario: Scenario,
                    weights: np.ndarray | None = None) -> dict[str, Any]:
    """The share of expected stress loss that contagion adds, on the same draws, with the model's settings.

    ``weights`` are the runs' importance-sampling weights (``None``: plain Monte Carlo); the
    means are then weighted like ``measures.EL``, which an unweighted mean of tilted runs overstates.

    >>> from contagion.stress.scenario import parse_scenario
    >>> share = contagion_share(np.array([10.0, 30.0]), np.array([10.0, 10.0]), parse_scenario("name: x"))
    >>> share["share_of_EL"]  # (20 - 10) / 20
    0.5
    """
    w = normalised_weights(len(loss), weights)
    el, el0 = float(w @ loss) / len(loss), float(w @ loss_no_contagion) / len(loss)
    c = scenario.contagion
    return {
        "EL": el,
        "EL_no_contagion": el0,
        "share_of_EL": (el - el0) / el if el > 0 else None,
        "distress_sensitivity": c.distress_sensitivity,
        "debtrank_matrix": c.debtrank.matrix,
        "supply_margin": c.supply.margin,
        "supply_replacement_months": c.supply_replacement_months,
    }


def runs_per_second(result: StressResult) -> float:
    """Simulated runs per second of wall time (excluding preparation)."""
    t = result.timings.get("simulate", math.nan)
    return result.runs / t if t and t > 0 else math.nan
