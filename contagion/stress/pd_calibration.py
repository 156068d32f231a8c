r"""PDs calibrated from the platform's own history: 12-month default rates by class and days overdue.

A *cohort* is the platform as it was at a date :math:`t` (a past snapshot): every
firm not yet in default then, keyed by the worst five-category class over its
loans at :math:`t` (``no_loan`` without one) and the days-overdue bucket of its
most overdue loan (``0``, ``1-30``, ``31-60``, ``61-90``, ``90+``). It defaults
within 12 months when its first default date (the one default definition, taken
from the current snapshot) falls in :math:`(t, t + 12\,\text{months}]`
(:func:`cohort_observations`). Yearly cohorts (:math:`t` = the snapshot date minus
1, 2, ... years) are pooled per cell :math:`c` with a Beta prior
(:func:`calibrate_pd_table`):

.. math::

    \widehat{PD}_c = \max\Bigl(\text{floor},\ \frac{d_c + w\,p_c}{n_c + w}\Bigr),

with :math:`d_c` the defaults and :math:`n_c` the firm-years of the cell over all
cohorts, :math:`p_c` the prior (the scenario's class table: normal 1 %, special
mention 5 %, substandard 30 %, doubtful 60 %, loss 100 %, no loan 2 %) and
:math:`w` its weight in firm-years (``prior_weight``, 100 by default: a cell with
100 firm-years is half its own rate, half the prior; a cell with none is the
prior). The floor is Basel's 0.03 % (CRE32.38) unless the scenario sets another.
A firm of the snapshot takes the PD of its cell today. A cohort only counts when
the platform already had loans with a monthly status at its date (before that,
classes and defaults are not observable); with no such cohort the stress test
falls back to the next PD source.

>>> obs = pd.DataFrame({"cohort": ["2023"] * 4, "cell_class": ["normal"] * 4, "dpd_bucket": ["0"] * 4,
...                     "defaulted": [True, False, False, False]})
>>> t = calibrate_pd_table(obs, PDParameters(prior_weight=4.0))
>>> t.loc[("normal", "0"), ["firm_years", "defaults", "pd"]].tolist()   # (1 + 4 x 0.01) / (4 + 4)
[4.0, 1.0, 0.13]
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from contagion.stress.default_probability import CLASS_ORDER, worst_classification
from contagion.stress.scenario import PDParameters
from contagion.typing import SnapshotLike

__all__ = ["DPD_BUCKETS", "calibrate_pd_table", "cell_of", "cohort_dates", "cohort_observations",
           "pd_from_table"]

#: Days-overdue buckets: (label, lowest days overdue in it).
DPD_BUCKETS: tuple[tuple[str, int], ...] = (("0", 0), ("1-30", 1), ("31-60", 31), ("61-90", 61), ("90+", 91))


def _bucket(days: np.ndarray) -> np.ndarray:
    edges = np.array([lo for _, lo in DPD_BUCKETS[1:]])
    labels = np.array([name for name, _ in DPD_BUCKETS], dtype=object)
    return labels[np.searchsorted(edges, np.nan_to_num(days, nan=0.0), side="right")]


def cell_of(firms: pd.DataFrame, loans: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each firm's cell: worst class over its loans (``no_loan``) and its worst days-overdue bucket."""
    n = len(firms)
    worst = worst_classification(loans, n)
    cls = np.array([CLASS_ORDER[w] if w >= 0 else "no_loan" for w in worst], dtype=object)
    days = np.zeros(n)
    if len(loans) and "days_overdue" in loans and "borrower" in loans:
        b = pd.to_numeric(loans["borrower"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
        d = pd.to_numeric(loans["days_overdue"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
        ok = (b >= 0) & (b < n)
        np.maximum.at(days, b[ok], d[ok])
    return cls, _bucket(days)


def cohort_observations(past: SnapshotLike, default_date: pd.Series, *, horizon_months: int = 12
                        ) -> pd.DataFrame:
    """One row per firm not in default at ``past.as_of``: its cell then, and a default within the horizon.

    ``default_date`` is the first default date per USCC (e.g. the current snapshot's
    ``firms.set_index("uscc")["default_date"]``); external firms are left out.
    """
    firms = past.firms
    cls, bucket = cell_of(firms, past.loans)
    t = pd.Timestamp(past.as_of)
    end = t + pd.DateOffset(months=horizon_months)
    first = pd.to_datetime(firms["uscc"].map(default_date), errors="coerce")
    keep = ~(first <= t).to_numpy(dtype=bool)
    if "defaulted" in firms:
        keep &= ~firms["defaulted"].fillna(False).to_numpy(dtype=bool)
    if "external" in firms:
        keep &= ~firms["external"].fillna(False).to_numpy(dtype=bool)
    hit = ((first > t) & (first <= end)).to_numpy(dtype=bool)
    return pd.DataFrame({
        "cohort": str(past.as_of),
        "uscc": firms["uscc"].to_numpy()[keep],
        "cell_class": cls[keep],
        "dpd_bucket": bucket[keep],
        "defaulted": hit[keep],
    })


def _prior(params: PDParameters) -> dict[str, float]:
    return {"normal": params.normal, "special_mention": params.special_mention,
            "substandard": params.substandard, "doubtful": params.doubtful, "loss": params.loss,
            "no_loan": params.no_loan}


def calibrate_pd_table(observations: pd.DataFrame, params: PDParameters) -> pd.DataFrame:
    """PD per cell (index ``cell_class``, ``dpd_bucket``): firm-years, defaults, rates, pd."""
    obs = observations.assign(defaulted=observations["defaulted"].astype(bool))
    g = obs.groupby(["cell_class", "dpd_bucket"], sort=True)
    table = pd.DataFrame({
        "firm_years": g.size().astype(float),
        "defaults": g["defaulted"].sum().astype(float),
        "cohorts": g["cohort"].nunique(),
    })
    prior = _prior(params)
    table["raw_rate"] = table["defaults"] / table["firm_years"]
    table["prior"] = [prior.get(c, params.no_loan) for c, _ in table.index]
    w = params.prior_weight
    pooled = (table["defaults"] + w * table["prior"]) / (table["firm_years"] + w)
    table["pd"] = np.maximum(params.floor, pooled)
    return table


def pd_from_table(firms: pd.DataFrame, loans: pd.DataFrame, table: pd.DataFrame, params: PDParameters
                  ) -> np.ndarray:
    """Each firm's PD: its cell's calibrated PD, else (a cell no cohort saw) the floored prior."""
    cls, bucket = cell_of(firms, loans)
    prior = _prior(params)
    lookup = table["pd"].to_dict() if len(table) else {}
    return np.array([lookup.get((c, b), max(params.floor, prior.get(c, params.no_loan)))
                     for c, b in zip(cls.tolist(), bucket.tolist(), strict=True)], dtype=np.float64)


def cohort_dates(as_of: date, years: int) -> list[date]:
    """Yearly cohort dates whose 12-month window has closed by ``as_of``: minus 1 .. ``years`` years."""
    t = pd.Timestamp(as_of)
    return [(t - pd.DateOffset(years=k)).date() for k in range(1, years + 1)]
