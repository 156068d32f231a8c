r"""Multi-layer contagion: differential DebtRank over supply, guarantee and trade-credit layers.

Each layer l has its own impact matrix :math:`W^l` (:math:`W^l_{ij}` = fraction of
firm i's equity lost when j is fully distressed, through that layer only). With
transmission weights :math:`\tau_l`, distress spreads through
:math:`W = \sum_l \tau_l W^l` as in differential DebtRank (Bardoscia et al. 2015):

.. math::

    h(t+1) = \min\bigl(1,\; h(t) + \textstyle\sum_l \tau_l W^l \Delta h(t)\bigr).

Each round's increment of firm i is split over the layers in proportion to
their terms :math:`y^l_i = \tau_l (W^l \Delta h(t))_i`, after the cap:
:math:`\Delta h_i(t+1)\, y^l_i / \sum_m y^m_i`, so the layer shares always add up
to the total distress gained beyond the initial shock.

Layer conversions in :func:`build_layers` (:math:`e_i` firm i's equity, :math:`S`
the supply matrix, :math:`m` the supply margin, :math:`T` the replacement time in
months, :math:`\lambda` the loss rate):

- ``supply``: firm i loses the contribution margin :math:`m` on the part of its
  yearly revenue :math:`R_i` that a failed partner j stands for, as a share of i's
  sales (j a buyer) or of its inputs (j a supplier), for the :math:`T` months it
  takes to replace the partner:

  .. math::

      W_{ij} = \min\Bigl(1,\; \frac{m R_i}{e_i}\,\frac{T}{12}\Bigl(
          \frac{S_{ij}}{\max(R_i, \sum_k S_{ik})} + \frac{S_{ji}}{\max(R_i, \sum_k S_{ki})}\Bigr)\Bigr).

  A firm that loses a buyer or a supplier does not lose that partner's share of a
  whole year: it finds other buyers and suppliers within months. The evidence is on
  the time the loss lasts, not on one number: disasters at suppliers cut their
  customers' sales for a few quarters, most for inputs that are hard to replace
  (Barrot & Sauvagnat 2016, *Quarterly Journal of Economics* 131(3)); the 2011
  earthquake's disruptions spread up and down Japan's supply chains in the following
  year (Carvalho, Nirei, Saito & Tahbaz-Salehi 2021, *QJE* 136(2)), and the
  simulation of that propagation by Inoue & Todo (2019, *Nature Sustainability* 2)
  lets firms substitute lost suppliers. :data:`SUPPLY_REPLACEMENT_MONTHS` (3, one
  quarter) is the default; 12 is the whole year (no replacement).

  The shares over a firm's sales links, and over its input links, never sum above 1,
  so however large the link values are against the revenue, the most a firm can lose
  through one side is :math:`m R_i`: link values are often estimates (a declared
  contract value, a modelled flow) that add up to more than the firm's statements show,
  and taken raw they would make the layer transmit more than the firm turns over.
  Where the links add up to less than the revenue the exposure is the raw
  :math:`m S`. :math:`R_i` is 4 x the latest quarterly ``revenue`` (the input contract's
  period, as in :func:`contagion.esri.snapshot_esri`); without a positive revenue
  (no statement, or none in ``firms``) :math:`R_i` is the side's own link total, which
  gives :math:`m S` again;
- ``guarantee``: :math:`W_{gb} = \min(1, \lambda\, G_{gb} / e_g)`: guarantor g is
  called when borrower b defaults;
- ``trade_credit``: :math:`W_{cd} = \min(1, \lambda\, f_c B_{cd} / e_c)`: creditor c
  loses its receivable from debtor d. :math:`B` (``receivables``) is a balance (what d
  owes c at a date), but a receivable is the unpaid part of c's sales: where c's sales
  links add up to more than its revenue, the balances booked on them are overstated by the
  same factor, so they take the seller's factor of the supply layer,
  :math:`f_c = R_c / \max(R_c, \sum_k S_{ck})` (1 where the sales stay within the revenue,
  the revenue is unknown or c has no sales links: the balance as it is).

The guarantee exposure :math:`\lambda G` may be replaced by the call matrix of
:mod:`contagion.guarantee` (``guarantee_exposure``), and the equity by an imputed
one (``equity``), as the stress test does.

Capped or uncapped (``matrix``): Battiston et al. (2012) cap each impact at 1,
:math:`W_{ij} = \min(1, E_{ij}/e_i)`; Bardoscia et al. (2015) derive the
differential DebtRank with the uncapped :math:`W_{ij} = E_{ij}/e_i` (only the
distress :math:`h_i` is capped at 1). They differ where one exposure exceeds the
equity: a borrower at distress 0.3 whose guarantee is 3 times the guarantor's
equity costs the guarantor 0.3 of its equity when capped, 0.9 uncapped.

Amplification: :func:`spectral_radius` gives :math:`\rho(W)`, the largest eigenvalue
modulus of :math:`W = \sum_l \tau_l W^l`. Below 1 the increments shrink by about
:math:`\rho` a round and distress dies out; at or above 1 distress is amplified
through the network's cycles, so a cascade that starts runs on until the cap at 1
stops it (Bardoscia et al. 2015 on the stability of DebtRank): losses then reflect the
cap more than the exposures.

Equity rule: a firm with equity :math:`\le 0` or unknown (NaN, no statement yet)
has no buffer left, so any positive exposure in any layer wipes it out:
:math:`W_{ij} = 1` wherever the exposure is positive (the same rule as
:func:`contagion.debtrank.impact_matrix`, in either matrix); no NaN ever reaches a layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, eigs

from chainrisk.errors import ConvergenceError, InvalidModelInput
from contagion._kernels import DefaultRule, differential, scale_rows_capped
from contagion._validate import as_csr, as_scenarios, as_vector
from contagion.typing import MatrixLike, ScenarioLike, SnapshotLike, VectorLike

__all__ = [
    "SUPPLY_REPLACEMENT_MONTHS",
    "DefaultRule",
    "MultiLayerResult",
    "build_layers",
    "propagate",
    "sales_factor",
    "spectral_radius",
    "supply_exposure",
]


@dataclass(frozen=True)
class MultiLayerResult:
    """Outcome of :func:`propagate`; arrays are n x k (k = 1 for a vector shock)."""

    distress: np.ndarray  # n x k final distress in [0, 1]
    defaulted: np.ndarray  # n x k bool: distress >= default_threshold
    loss_by_layer: dict[str, np.ndarray]  # layer -> n x k equity loss carried by it (beyond the shock)
    rounds: int
    converged: bool


def _scale_rows(m: sp.csr_matrix, equity: np.ndarray, *, capped: bool) -> sp.csr_matrix:
    """``m[i, j] / equity[i]`` (capped at 1 when ``capped``); 1 where ``equity[i] <= 0``."""
    if capped:
        return scale_rows_capped(m, equity)
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    e = equity[rows]
    data = np.where(e > 0, m.data / np.where(e > 0, e, 1.0), 1.0)
    w = sp.csr_matrix((data, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    w.eliminate_zeros()
    return w


#: Months a firm takes to replace a failed buyer or supplier (module docstring): one quarter.
SUPPLY_REPLACEMENT_MONTHS = 3.0


def build_layers(
    snapshot: SnapshotLike,
    *,
    loss_rate: float = 0.45,
    supply_margin: float = 0.1,
    supply_replacement_months: float = SUPPLY_REPLACEMENT_MONTHS,
    matrix: Literal["capped", "uncapped"] = "capped",
    equity: VectorLike | None = None,
    guarantee_exposure: MatrixLike | None = None,
) -> dict[str, sp.csr_matrix]:
    """Impact matrices per layer from a :class:`ingest.snapshot.Snapshot` (see the module docstring).

    Parameters
    ----------
    snapshot : SnapshotLike
        Uses ``n``, ``firms["equity"]`` (and ``firms["uscc"]`` and the quarterly
        ``firms["revenue"]`` when present), ``supply``, ``guarantees`` and ``receivables``.
    loss_rate : float in [0, 1]
        :math:`\\lambda`, the share of a guaranteed amount or receivable lost.
    supply_margin : float in [0, 1]
        :math:`m`, equity lost per unit of revenue a failed partner stands for (its share of
        the firm's sales or inputs times the yearly revenue).
    supply_replacement_months : float in (0, 12]
        :math:`T`, months of that margin lost before the firm replaces the partner;
        the supply exposure is scaled by :math:`T/12` (12: the whole year).
    matrix : {"capped", "uncapped"}
        Battiston's :math:`\\min(1, E/e)` or Bardoscia's :math:`E/e` (module docstring).
    equity : length-n array, optional
        Replaces ``firms["equity"]`` (e.g. with unknown equity imputed).
    guarantee_exposure : n x n matrix, optional
        What g loses when b defaults, replacing :math:`\\lambda G` (e.g. the call
        matrix of :func:`contagion.guarantee.call_matrix`).

    Returns
    -------
    dict
        ``{"supply": W, "guarantee": W, "trade_credit": W}``, CSR float64, entries >= 0
        (at most 1 when capped).

    Raises
    ------
    InvalidModelInput
        NaN, infinite or negative amounts in a matrix (naming the firm by USCC),
        rates outside [0, 1], replacement months outside (0, 12], a matrix of the wrong size.

    Examples
    --------
    >>> import datetime, pandas as pd, scipy.sparse as sp
    >>> from ingest.snapshot import Snapshot
    >>> z = sp.csr_matrix((3, 3))
    >>> snap = Snapshot(as_of=datetime.date(2024, 1, 1),
    ...     firms=pd.DataFrame({"uscc": ["A", "B", "C"], "equity": [100.0, 50.0, 0.0]}),
    ...     supply=sp.csr_matrix([[0, 200.0, 0], [0, 0, 0], [0, 0, 0]]),
    ...     guarantees=sp.csr_matrix([[0, 0, 80.0], [0, 0, 0], [0, 0, 0]]),
    ...     receivables=sp.csr_matrix([[0, 0, 0], [40.0, 0, 0], [0, 0, 0]]),
    ...     loans=pd.DataFrame(), guarantee_contracts=pd.DataFrame())
    >>> layers = build_layers(snap, loss_rate=0.5, supply_replacement_months=12)  # a whole year lost
    >>> layers["supply"].toarray().tolist()  # A sells 200 to B: 0.1*200/100, 0.1*200/50
    [[0.0, 0.2, 0.0], [0.4, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> layers["guarantee"][0, 2], layers["trade_credit"][1, 0]  # 0.5*80/100, 0.5*40/50
    (np.float64(0.4), np.float64(0.4))
    >>> build_layers(snap)["supply"][1, 0]  # replaced in 3 months: 0.1*200*(3/12)/50
    np.float64(0.1)
    >>> build_layers(snap, supply_margin=0.4, supply_replacement_months=12, matrix="uncapped")["supply"][1, 0]
    np.float64(1.6)
    """
    if matrix not in ("capped", "uncapped"):
        raise InvalidModelInput(f"matrix must be 'capped' or 'uncapped', got {matrix!r}")
    for name, val in (("loss_rate", loss_rate), ("supply_margin", supply_margin)):
        if not 0.0 <= val <= 1.0:
            raise InvalidModelInput(f"{name} must lie in [0, 1], got {val!r}")
    if not 0.0 < supply_replacement_months <= 12.0:  # also rejects NaN
        raise InvalidModelInput("supply_replacement_months must lie in (0, 12] (12: a failed partner's "
                                f"whole year is lost), got {supply_replacement_months!r}")
    n = snapshot.n
    labels = snapshot.firms["uscc"].tolist() if "uscc" in snapshot.firms else None
    if equity is None:
        eq = np.asarray(snapshot.firms["equity"], dtype=np.float64)
    else:
        eq = as_vector(equity, "equity", n, nonnegative=False, labels=labels)
    eq = np.where(np.isfinite(eq), eq, 0.0)  # unknown or infinite: no buffer (module rule)
    supply = as_csr(snapshot.supply, "supply", n=n, labels=labels)
    revenue = _annual_revenue(snapshot.firms, n)
    guarantee = (loss_rate * as_csr(snapshot.guarantees, "guarantees", n=n, labels=labels)
                 if guarantee_exposure is None
                 else as_csr(guarantee_exposure, "guarantee_exposure", n=n, labels=labels))
    exposures = {
        "supply": supply_margin * (supply_replacement_months / 12.0) * supply_exposure(supply, revenue),
        "guarantee": guarantee,
        "trade_credit": loss_rate * (sp.diags(sales_factor(supply, revenue))
                                     @ as_csr(snapshot.receivables, "receivables", n=n, labels=labels)),
    }
    capped = matrix == "capped"
    return {name: _scale_rows(sp.csr_matrix(m), eq, capped=capped) for name, m in exposures.items()}


#: Statements' periods per year: ``firms["revenue"]`` is quarterly (the input contract).
PERIODS_PER_YEAR = 4.0


def _annual_revenue(firms: pd.DataFrame, n: int) -> np.ndarray:
    """4 x quarterly ``revenue`` per firm; NaN where missing, non-positive or not a column."""
    if "revenue" not in firms:
        return np.full(n, np.nan)
    rev = pd.to_numeric(pd.Series(firms["revenue"]), errors="coerce").to_numpy(dtype=np.float64)
    return np.where(np.isfinite(rev) & (rev > 0), PERIODS_PER_YEAR * rev, np.nan)


def _within_revenue(total: np.ndarray, revenue: np.ndarray) -> np.ndarray:
    r""":math:`R / \max(R, total)`: 1 where ``total`` stays within the revenue or the revenue is unknown."""
    r = np.asarray(revenue, dtype=np.float64)
    f = np.ones(len(total))
    over = np.isfinite(r) & (r > 0) & (total > np.where(np.isfinite(r), r, np.inf))
    f[over] = r[over] / total[over]
    return f


def _checked(supply: MatrixLike, revenue: VectorLike) -> tuple[sp.csr_matrix, np.ndarray]:
    s = sp.csr_matrix(as_csr(supply, "supply"))
    r = np.asarray(revenue, dtype=np.float64).reshape(-1)
    if r.shape != (s.shape[0],):
        raise InvalidModelInput(f"revenue has length {r.size}, expected {s.shape[0]}")
    return s, r


def sales_factor(supply: MatrixLike, revenue: VectorLike) -> np.ndarray:
    r"""The seller's factor :math:`R_i / \max(R_i, \sum_k S_{ik})` per firm (1 where the revenue is unknown).

    >>> S = sp.csr_matrix(np.array([[0.0, 300.0], [0.0, 0.0]]))
    >>> sales_factor(S, np.array([100.0, 50.0])).tolist()  # firm 0 sells 300 but turns over 100
    [0.3333333333333333, 1.0]
    """
    s, r = _checked(supply, revenue)
    return _within_revenue(np.asarray(s.sum(axis=1)).ravel(), r)


def supply_exposure(supply: MatrixLike, revenue: VectorLike) -> sp.csr_matrix:
    r"""Yearly supply flow at stake for each firm per partner, as shares of its revenue (module docstring).

    Entry :math:`(i, j)` is :math:`R_i \bigl(S_{ij} / \max(R_i, \sum_k S_{ik})
    + S_{ji} / \max(R_i, \sum_k S_{ki})\bigr)`: what i sells to j plus what it buys from j,
    each scaled down by the same factor on the firm's side wherever its links add up to more
    than its yearly revenue ``revenue`` (NaN or <= 0: unknown, the links are taken as they are).
    Times the margin :math:`m` it is the supply layer's exposure.

    >>> S = sp.csr_matrix(np.array([[0.0, 300.0], [0.0, 0.0]]))  # firm 0 sells 300 a year to firm 1
    >>> supply_exposure(S, np.array([100.0, np.nan])).toarray().tolist()  # 0 turns over only 100
    [[0.0, 100.0], [300.0, 0.0]]
    """
    s, r = _checked(supply, revenue)
    inputs = np.asarray(s.sum(axis=0)).ravel()
    out = sp.diags(sales_factor(s, r)) @ s + sp.diags(_within_revenue(inputs, r)) @ s.T.tocsr()
    return sp.csr_matrix(out)


def _weighted_layers(layers: Mapping[str, MatrixLike], transmission: Mapping[str, float] | None,
                     caller: str) -> list[sp.csr_matrix]:
    r""":math:`\tau_l W^l` per layer, in the mapping's order (1.0 for layers ``transmission`` leaves out)."""
    names = list(layers)
    if not names:
        raise InvalidModelInput(f"{caller} needs at least one layer")
    tau = dict.fromkeys(names, 1.0)
    for name, val in (transmission or {}).items():
        if name not in tau:
            raise InvalidModelInput(f"transmission names unknown layer {name!r}")
        if not (np.isfinite(val) and val >= 0):
            raise InvalidModelInput(f"transmission[{name!r}] must be finite and >= 0, got {val!r}")
        tau[name] = float(val)
    mats = [as_csr(layers[names[0]], f"layers[{names[0]!r}]")]
    n = mats[0].shape[0]
    mats += [as_csr(layers[name], f"layers[{name!r}]", n=n) for name in names[1:]]
    return [sp.csr_matrix(tau[name] * m) for name, m in zip(names, mats, strict=True)]


#: Up to this many firms :func:`spectral_radius` takes every eigenvalue of the dense matrix.
DENSE_EIGEN_MAX = 64


def spectral_radius(layers: Mapping[str, MatrixLike], transmission: Mapping[str, float] | None = None
                    ) -> float:
    r""":math:`\rho(\sum_l \tau_l W^l)`, the largest eigenvalue modulus (see *Amplification* above).

    For the non-negative impact matrices this is the Perron root. ARPACK (``eigs``, from
    the all-ones start vector, so the same inputs give the same value) above
    :data:`DENSE_EIGEN_MAX` firms, every eigenvalue of the dense matrix below; NaN
    when ARPACK does not converge.

    >>> w = sp.csr_matrix(np.array([[0.0, 0.5], [0.5, 0.0]]))  # two firms, half each other's equity
    >>> round(spectral_radius({"a": w}), 12)
    0.5
    >>> round(spectral_radius({"a": w, "b": w}, {"b": 3.0}), 12)  # 0.5 + 3 x 0.5
    2.0
    >>> spectral_radius({"a": sp.csr_matrix(np.array([[0.0, 0.7], [0.0, 0.0]]))})  # no cycle: dies out
    0.0
    """
    mats = _weighted_layers(layers, transmission, "spectral_radius")
    w = mats[0]
    for m in mats[1:]:
        w = w + m
    w = sp.csr_matrix(w)
    w.eliminate_zeros()
    n = w.shape[0]
    if w.nnz == 0:
        return 0.0
    if n <= DENSE_EIGEN_MAX:
        return float(np.max(np.abs(np.linalg.eigvals(w.toarray()))))
    try:
        val = eigs(w, k=1, which="LM", v0=np.ones(n), tol=1e-8, return_eigenvectors=False)
    except ArpackNoConvergence as exc:
        val = exc.eigenvalues
    return float(np.abs(val[0])) if len(val) else float("nan")


def propagate(
    layers: Mapping[str, MatrixLike],
    shock: ScenarioLike,
    *,
    transmission: Mapping[str, float] | None = None,
    equity: VectorLike | None = None,
    default_threshold: float = 1.0,
    tol: float = 1e-9,
    max_rounds: int = 1000,
    prior: ScenarioLike | None = None,
    rule: DefaultRule | None = None,
) -> MultiLayerResult:
    """Differential DebtRank on :math:`W = \\sum_l \\tau_l W^l`, every scenario (column) at once.

    Parameters
    ----------
    layers : mapping of name -> n x n impact matrix
        For example the output of :func:`build_layers`.
    shock : length-n vector or n x k matrix in [0, 1]
        Initial distress; columns are scenarios.
    transmission : mapping of name -> float >= 0, optional
        :math:`\\tau_l`; 1.0 for layers not named. Names not in ``layers`` are an error.
    equity : length-n array >= 0, optional
        Converts attributed distress into money; ``None`` reports distress units.
    default_threshold : float in (0, 1]
        A firm counts as defaulted when its distress reaches this level.
    tol, max_rounds
        As in :func:`contagion.debtrank.debtrank` (``variant="differential"``).
    prior : n x k matrix in [0, 1], optional
        The final distress of an earlier call on the same layers whose shock differs
        from ``shock`` only where ``shock`` is 1 (firms added as full defaults). The
        propagation then continues from ``max(prior, shock)`` with the first increment
        ``max(prior, shock) - prior`` instead of starting over: differential DebtRank
        is the monotone iteration :math:`h \\leftarrow \\min(1, s + W h)` from :math:`s`,
        so from the earlier fixed point it reaches the same least fixed point as a
        restart with the larger shock (within ``tol``), in fewer rounds.
        ``loss_by_layer`` then covers this call's increments only.
    rule : DefaultRule, optional
        Defaults decided inside the rounds (the Merton mapping of
        :mod:`contagion.stress.distress`): a firm whose distress crosses its threshold in
        a round (or in the shock) is set to distress 1 there and passes the rest of a full
        default on in the next round, so one call reaches the least fixed point of
        :math:`h = \\mathrm{snap}(\\min(1, s + W h))` that a loop of propagations, each
        restarted with the new defaults as shocks of 1, reaches. A firm that defaults this
        way in a round has the jump to 1 in ``loss_by_layer``, split over the layers in
        proportion to the distress each carried to it; one that crosses in the shock has it
        in none (it is part of the shock).

    Returns
    -------
    MultiLayerResult
        Always n x k arrays (k = 1 for a vector shock). ``loss_by_layer[l]`` is the
        distress increment attributed to layer l times equity; summed over
        layers it equals ``(distress - shock) * equity`` (with ``rule``, except where
        a firm defaults in the shock itself: there it is 0).

    Raises
    ------
    InvalidModelInput
        Bad shapes, NaN or negative impacts, equity or transmission (naming the firm), unknown layer names.
    ConvergenceError
        ``max_rounds`` ran out.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> sup = sp.csr_matrix([[0, 0.5, 0], [0, 0, 0], [0, 0, 0]])
    >>> gua = sp.csr_matrix([[0, 0.25, 0], [0, 0, 0.5], [0, 0, 0]])
    >>> r = propagate({"supply": sup, "guarantee": gua}, np.array([0.0, 0.0, 1.0]))
    >>> r.distress[:, 0].tolist(), r.defaulted[:, 0].tolist()
    ([0.375, 0.5, 1.0], [False, False, True])
    >>> {k: v[:, 0].tolist() for k, v in r.loss_by_layer.items()}
    {'supply': [0.25, 0.0, 0.0], 'guarantee': [0.125, 0.5, 0.0]}

    Firm 1 gets 0.5 (guarantee); firm 0 then gets 0.5 * 0.5 by supply and
    0.25 * 0.5 by guarantee.
    """
    names = list(layers)
    mats = _weighted_layers(layers, transmission, "propagate")
    n = mats[0].shape[0]
    h1, _ = as_scenarios(shock, "shock", n)
    scale = np.ones(n) if equity is None else as_vector(equity, "equity", n)
    if not 0.0 < default_threshold <= 1.0:
        raise InvalidModelInput(f"default_threshold must lie in (0, 1], got {default_threshold!r}")
    if not tol > 0:
        raise InvalidModelInput(f"tol must be positive, got {tol!r}")
    before = None
    if prior is not None:
        before, _ = as_scenarios(prior, "prior", n)
        if before.shape != h1.shape:
            raise InvalidModelInput(f"prior has shape {before.shape}, expected {h1.shape}")
        if ((h1 > before) & (h1 < 1.0)).any():
            raise InvalidModelInput(
                "prior: where the shock exceeds the earlier distress it must be 1 (a full default)")
        h1 = np.ascontiguousarray(np.maximum(h1, before))
    if rule is not None and rule.latent.shape != h1.shape:
        raise InvalidModelInput(f"rule.latent has shape {rule.latent.shape}, expected {h1.shape}")
    h, acc, rounds, residual, _ = differential(mats, h1, tol=tol, max_rounds=max_rounds, prior=before,
                                               rule=rule)
    if residual:
        raise ConvergenceError("multi-layer DebtRank did not converge", residual=residual, iterations=rounds)
    assert acc is not None
    loss = {name: a * scale[:, None] for name, a in zip(names, acc, strict=True)}
    return MultiLayerResult(
        distress=h, defaulted=h >= default_threshold, loss_by_layer=loss, rounds=rounds, converged=True
    )
