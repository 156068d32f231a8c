r"""A scenario's initial distress per firm: shocks and equity haircuts on a snapshot.

In DebtRank a firm's distress :math:`h_i \in [0, 1]` is its relative equity loss,
so both kinds of scenario hit are initial distress:

.. math::

    s_i = \max_{\text{shocks } k \ni i} d_k, \qquad
    c_i = 1 - \prod_{\text{haircuts } m \ni i} (1 - f_m), \qquad
    h_i(0) = 1 - (1 - s_i)(1 - c_i),

with :math:`d_k` a shock's ``distress`` (1 = default) and :math:`f_m` a haircut's
``fraction``. Region, industry and sector codes match as prefixes (``"35"`` is
all of Fujian; ``"C33"`` every C33xx industry). A selector that matches no firm
is a :class:`~chainrisk.errors.ScenarioError` naming its line.

>>> import pandas as pd
>>> from contagion.stress.scenario import parse_scenario
>>> firms = pd.DataFrame({"uscc": ["A", "B", "C"], "region": ["350100", "350200", "440300"],
...                       "industry": ["C33", "C34", "C33"], "sector": ["C", "C", "C"]})
>>> s = parse_scenario('''
... name: t
... shocks: [{firms: [C], distress: 0.5}]
... equity_haircuts: [{region: "35", fraction: 0.2}]
... ''')
>>> np.round(initial_distress(firms, s, {}), 12).tolist()
[0.2, 0.2, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from chainrisk.errors import ScenarioError
from contagion.stress.scenario import EquityHaircut, Scenario, Shock

__all__ = ["firm_measures", "initial_distress", "select_firms"]


def firm_measures(
    firms: pd.DataFrame,
    supply: sp.spmatrix,
    guarantees: sp.spmatrix,
    *,
    bank_exposure: np.ndarray,
    pd_: np.ndarray,
) -> dict[str, np.ndarray]:
    """Every ``top_k`` measure (see :data:`contagion.stress.scenario.TOP_K_MEASURES`) per firm."""
    s, g = sp.csr_matrix(supply), sp.csr_matrix(guarantees)
    out = {
        "out_strength": np.asarray(s.sum(axis=1)).ravel(),
        "in_strength": np.asarray(s.sum(axis=0)).ravel(),
        "guarantees_given": np.asarray(g.sum(axis=1)).ravel(),
        "guarantees_received": np.asarray(g.sum(axis=0)).ravel(),
        "bank_exposure": np.asarray(bank_exposure, dtype=np.float64),
        "pd": np.asarray(pd_, dtype=np.float64),
    }
    for col in ("revenue", "total_assets", "equity", "employees", "external_guarantees", "guarantee_ratio"):
        out[col] = (pd.to_numeric(firms[col], errors="coerce").to_numpy(dtype=np.float64)
                    if col in firms else np.full(len(firms), np.nan))
    return out


def _prefix_match(column: pd.Series, codes: Sequence[str]) -> np.ndarray:
    text = column.astype("string").fillna("")
    hit = np.zeros(len(column), dtype=bool)
    for code in codes:
        hit |= text.str.startswith(str(code)).to_numpy(dtype=bool)
    return hit


def select_firms(
    firms: pd.DataFrame,
    part: Shock | EquityHaircut,
    measures: Mapping[str, np.ndarray],
    *,
    file: str = "",
) -> np.ndarray:
    """Boolean mask of the firms a shock or haircut selects.

    Raises
    ------
    ScenarioError
        An unknown USCC, or a selector that matches no firm (names the line).
    """
    n = len(firms)
    if part.all:
        mask = np.ones(n, dtype=bool)
    elif part.firms is not None:
        index = {str(u).upper(): i for i, u in enumerate(firms["uscc"].tolist())}
        missing = [u for u in part.firms if u not in index]
        if missing:
            raise ScenarioError(f"firms not in the snapshot: {', '.join(missing[:5])}"
                                + (f" and {len(missing) - 5} more" if len(missing) > 5 else ""),
                                file=file, line=part.line)
        mask = np.zeros(n, dtype=bool)
        mask[[index[u] for u in part.firms]] = True
    elif isinstance(part, Shock) and part.top_k is not None:
        values = np.asarray(measures[part.top_k.by], dtype=np.float64)
        ranked = np.where(np.isfinite(values), values, -np.inf)
        order = np.argsort(-ranked, kind="stable")
        order = order[np.isfinite(ranked[order])][: part.top_k.k]
        mask = np.zeros(n, dtype=bool)
        mask[order] = True
    else:
        for col in ("region", "industry", "sector"):
            codes = getattr(part, col)
            if codes is not None:
                if col not in firms:
                    raise ScenarioError(f"the snapshot has no {col!r} column", file=file, line=part.line)
                mask = _prefix_match(firms[col], codes)
                break
        else:  # pragma: no cover - the model validator forbids it
            raise ScenarioError("no selector", file=file, line=part.line)
    if n and not mask.any():
        raise ScenarioError("this selector matches no firm of the snapshot", file=file, line=part.line)
    return mask


def initial_distress(
    firms: pd.DataFrame, scenario: Scenario, measures: Mapping[str, np.ndarray], *, file: str = ""
) -> np.ndarray:
    """:math:`h(0)` per firm from the scenario's shocks and haircuts (module docstring)."""
    n = len(firms)
    shock = np.zeros(n)
    for s in scenario.shocks:
        shock = np.where(select_firms(firms, s, measures, file=file), np.maximum(shock, s.distress), shock)
    kept = np.ones(n)
    for h in scenario.equity_haircuts:
        kept = np.where(select_firms(firms, h, measures, file=file), kept * (1.0 - h.fraction), kept)
    return 1.0 - (1.0 - shock) * kept
