"""Concentration of the bank's book by region, industry, sector, lender, lifecycle stage, chain
position and single name, as of a date.

The book is the catalogue's ``portfolio_loans``: per (firm, lender of the bank) the outstanding
balance, undrawn limits and ``exposure = outstanding + undrawn``. For a dimension whose categories
hold exposures :math:`x_1 \\dots x_k` with shares :math:`s_i = x_i / \\sum_j x_j`,

.. math:: HHI = \\sum_i s_i^2, \\qquad N_{eff} = 1 / HHI, \\qquad top_n = \\sum_{i \\le n} s_{(i)}

(Herfindahl-Hirschman index on shares in [0, 1]: 1 is everything in one category; :math:`N_{eff}`
the number of equal categories with the same HHI; :math:`s_{(i)}` the shares in decreasing order).

Dimensions:

- ``region`` (6-digit division code), ``industry`` (GB/T 4754 code), ``sector`` (its section letter);
- ``lender``: the bank's lender ids (with ``lenders`` empty, every lender on the platform);
- ``lifecycle``: the Dickinson (2011) stage from the cash flows of the firm's latest published
  statement (``ingest.lifecycle``; ``unknown`` without them);
- ``position`` in the supply chain from the firm's active links on ``as_of``: ``upstream`` (buyers,
  no suppliers in the network), ``midstream`` (both), ``downstream`` (suppliers, no buyers),
  ``unlinked`` (neither);
- ``firm``: single-name concentration (the ``top_firms`` largest listed, with their details).

Missing values are their own category (``unknown``).

>>> hhi_of(pd.Series([3.0, 1.0]))
0.625
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from chainrisk.errors import InvalidQueryParameter
from graph.protocol import QueryRunner
from ingest.lifecycle import lifecycle_stage
from ingest.snapshot.assemble import sector_of
from queries.catalogue import records, resolve_as_of, run_query
from queries.chaincache import details_of
from queries.details import stale_before, with_details

__all__ = ["DIMENSIONS", "Concentration", "chain_position", "concentration", "hhi_of"]

DIMENSIONS = ("region", "industry", "sector", "lender", "lifecycle", "position", "firm")
_MEASURES = ("exposure", "outstanding")


def hhi_of(values: pd.Series) -> float:
    """The Herfindahl-Hirschman index of non-negative ``values`` (0 when they sum to 0)."""
    total = float(values.sum())
    return float(((values / total) ** 2).sum()) if total > 0 else 0.0


def chain_position(suppliers: int, buyers: int) -> str:
    """``upstream``, ``midstream``, ``downstream`` or ``unlinked`` from active supplier and buyer counts.

    >>> chain_position(0, 3), chain_position(2, 1), chain_position(1, 0), chain_position(0, 0)
    ('upstream', 'midstream', 'downstream', 'unlinked')
    """
    if suppliers and buyers:
        return "midstream"
    if buyers:
        return "upstream"
    return "downstream" if suppliers else "unlinked"


@dataclass
class Concentration:
    """Per dimension, the book by category (``dimensions``) and a summary row each (``summary``)."""

    as_of: date
    measure: str
    total: float
    summary: pd.DataFrame
    dimensions: dict[str, pd.DataFrame]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"as_of", "measure", "total", "summary": [...], "dimensions": {name: [...]}}``."""
        return {"as_of": self.as_of.isoformat(), "stale_before": stale_before(self.as_of).isoformat(),
                "measure": self.measure, "total": self.total, "summary": records(self.summary),
                "dimensions": {k: records(v) for k, v in self.dimensions.items()}}


def concentration(
    runner: QueryRunner,
    *,
    as_of: date | str | None = None,
    lenders: Sequence[str] | None = None,
    by: Sequence[str] = DIMENSIONS,
    measure: str = "exposure",
    top_n: int = 5,
    top_firms: int = 100,
) -> Concentration:
    """The bank's book by each dimension of ``by`` with HHI and top-``top_n`` shares (module doc).

    ``measure`` is ``exposure`` (outstanding + undrawn) or ``outstanding``; ``lenders`` default to
    ``settings.bank_lenders`` (empty: every lender).
    """
    unknown = sorted(set(by) - set(DIMENSIONS))
    if unknown or not by:
        raise InvalidQueryParameter(f"dimensions must be among {list(DIMENSIONS)}, got {list(by)}")
    if measure not in _MEASURES:
        raise InvalidQueryParameter(f"measure must be one of {list(_MEASURES)}, got {measure!r}")
    if top_n < 1 or top_firms < 1:
        raise InvalidQueryParameter("top_n and top_firms must be at least 1")
    day = resolve_as_of(runner, as_of)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    book = run_query(runner, "portfolio_loans", {"as_of": day, "lenders": bank})
    book["sector"] = [sector_of(x) for x in book["industry"]]
    book["lifecycle"] = [lifecycle_stage(o, i, f) for o, i, f in
                         zip(book["operating_cf"], book["investing_cf"], book["financing_cf"], strict=True)]
    book["position"] = [chain_position(int(s), int(b)) for s, b in zip(book["suppliers"], book["buyers"],
                                                                        strict=True)]
    book["firm"] = book["uscc"]
    for col in ("outstanding", "undrawn", "exposure"):
        book[col] = pd.to_numeric(book[col]).fillna(0.0).astype(float)
    total = float(book[measure].sum())
    frames: dict[str, pd.DataFrame] = {}
    rows = []
    for dim in by:
        keyed = book.assign(category=book[dim].fillna("unknown").astype(str))
        g = (keyed.groupby("category")
             .agg(exposure=("exposure", "sum"), outstanding=("outstanding", "sum"),
                  firms=("uscc", "nunique"))
             .reset_index())
        g["share"] = g[measure] / total if total > 0 else 0.0
        g = g.sort_values([measure, "category"], ascending=[False, True], kind="stable")
        g = g.reset_index(drop=True)
        h = hhi_of(g[measure])
        rows.append({"dimension": dim, "categories": len(g), "hhi": h,
                     "effective_number": 1.0 / h if h > 0 else None,
                     "top1_share": float(g["share"].iloc[:1].sum()),
                     f"top{top_n}_share": float(g["share"].iloc[:top_n].sum()),
                     "largest": g["category"].iloc[0] if len(g) else None})
        if dim == "firm":
            g = g.iloc[:top_firms].rename(columns={"category": "uscc"})
            g = with_details(g, details_of(runner, g["uscc"].tolist(), day))
        frames[dim] = g
    return Concentration(as_of=day, measure=measure, total=total, summary=pd.DataFrame(rows),
                         dimensions=frames)
