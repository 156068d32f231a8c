r"""Where the loss sits: by region, industry, lender, guarantee circle, client group and contagion layer.

Each segment has its mean loss and, from :func:`contagion.stress.run_stress`, its
Euler contribution to ES at 99 % (the sum of its firms' contributions; per lender
and per layer the same tail-run weights applied to that lender's or layer's loss),
so each segment type's contributions sum to the ES. Firms outside every guarantee
circle (or connected-client group) form one more segment of that type,
:data:`OUTSIDE` (``"(none)"``), so those types sum to the EL and the ES too.

Guarantee circles are the strongly connected components of size at least 2 of the
firm guarantee graph (``snapshot.guarantees``, guarantor -> borrower): firms that
guarantee each other through some cycle. They are numbered ``circle-1``,
``circle-2``, ... by decreasing size, ties by their first firm row.

The layer split attributes each firm's loss in a draw to the reason it defaulted:
``direct`` when it defaults without contagion (its copula draw, a scenario shock, or
the distress -> default mapping of the scenario's own distress), otherwise to the
contagion layers in proportion to the equity loss each carried to it
(``loss_by_layer`` of the multi-layer DebtRank). A firm that the mapping defaults in
a propagation round (its partial distress crossed its threshold) is contagion's: its
jump to distress 1 is split over the layers like the distress they carried to it
(:mod:`contagion.stress.distress`).

>>> import scipy.sparse as sp
>>> g = sp.csr_matrix(np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0.]]))
>>> guarantee_circles(g).tolist()
['circle-1', 'circle-1', 'circle-1', '']
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

__all__ = ["OUTSIDE", "SEGMENT_COLUMNS", "guarantee_circles", "layer_split", "segment_table"]

#: The segment of the firms outside every guarantee circle or connected-client group.
OUTSIDE = "(none)"

#: Columns of the segment table.
SEGMENT_COLUMNS: tuple[str, ...] = ("segment_type", "segment", "mean_loss", "share", "ead", "count",
                                    "es_contribution")


def guarantee_circles(guarantees: sp.spmatrix) -> np.ndarray:
    """Circle label per firm (``""`` outside every circle of two or more firms)."""
    n = guarantees.shape[0]
    labels = np.full(n, "", dtype=object)
    if n == 0:
        return labels
    g = sp.csr_matrix(guarantees)
    g = sp.csr_matrix((np.ones_like(g.data), g.indices, g.indptr), shape=g.shape)
    g.setdiag(0)
    g.eliminate_zeros()
    _, comp = connected_components(g, directed=True, connection="strong")
    sizes = np.bincount(comp)
    big = [c for c in range(len(sizes)) if sizes[c] >= 2]
    first = {c: int(np.flatnonzero(comp == c)[0]) for c in big}
    big.sort(key=lambda c: (-sizes[c], first[c]))
    for rank, c in enumerate(big, start=1):
        labels[comp == c] = f"circle-{rank}"
    return labels


def layer_split(
    firm_loss: np.ndarray, initial_default: np.ndarray, loss_by_layer: Mapping[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Per-draw bank loss by cause: ``direct`` plus one entry per layer (each ``(k,)``).

    Parameters
    ----------
    firm_loss : (n, k) array
        Bank loss on each firm's loans per draw.
    initial_default : (n, k) bool
        Firms in default without contagion (booked ``direct``).
    loss_by_layer : layer -> (n, k) array
        Equity loss each layer carried to each firm. A firm outside ``initial_default``
        with none recorded is booked ``direct`` too.
    """
    names = sorted(loss_by_layer)
    direct = np.where(initial_default, firm_loss, 0.0)
    rest = firm_loss - direct
    total = np.zeros_like(firm_loss)
    for name in names:
        total += np.maximum(np.asarray(loss_by_layer[name]), 0.0)
    unexplained = rest * (total <= 0)
    direct = direct + unexplained  # a contagion default with no layer loss recorded: count as direct
    safe = np.where(total > 0, total, 1.0)
    out = {"direct": np.ascontiguousarray(direct.T).sum(axis=1)}
    for name in names:
        part = np.where(total > 0, rest * np.maximum(np.asarray(loss_by_layer[name]), 0.0) / safe, 0.0)
        out[name] = np.ascontiguousarray(part.T).sum(axis=1)
    return out


def _group(kind: str, keys: np.ndarray, loss: np.ndarray, ead: np.ndarray, total: float,
           es: np.ndarray | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"segment": keys.astype(str), "mean_loss": loss, "ead": ead, "count": 1,
                          "es_contribution": np.nan if es is None else es})
    out = frame.groupby("segment", sort=True).sum().reset_index()
    out.insert(0, "segment_type", kind)
    out["share"] = out["mean_loss"] / total if total > 0 else 0.0
    return out.sort_values(["mean_loss", "segment"], ascending=[False, True])[list(SEGMENT_COLUMNS)]


def segment_table(
    firms: pd.DataFrame,
    firm_mean_loss: np.ndarray,
    firm_ead: np.ndarray,
    circles: np.ndarray,
    loan_lender: np.ndarray,
    loan_mean_loss: np.ndarray,
    loan_ead: np.ndarray,
    layer_mean_loss: Mapping[str, float],
    *,
    firm_es: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    lender_es: Mapping[str, float] | None = None,
    layer_es: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Mean bank loss per segment, its share of the expected loss, the EAD and the count of members.

    ``count`` is firms for region, industry, circle and group, loans for lender; the
    layer rows carry no EAD or count. ``es_contribution`` is the segment's Euler
    contribution to ES (the sum of its firms' ``firm_es``; per lender and layer
    as given), NaN when not given. ``groups`` labels connected-client groups
    (``client_group`` rows; ``""`` is no group).
    """
    total = float(np.sum(firm_mean_loss))
    parts = []
    for col in ("region", "industry"):
        keys = firms[col].astype("string").fillna("").to_numpy(dtype=object) if col in firms else \
            np.full(len(firms), "", dtype=object)
        parts.append(_group(col, keys, firm_mean_loss, firm_ead, total, firm_es))
    lender = _group("lender", np.asarray(loan_lender, dtype=object), loan_mean_loss, loan_ead, total)
    if lender_es is not None:
        lender["es_contribution"] = [float(lender_es.get(k, 0.0)) for k in lender["segment"]]
    parts.append(lender)
    # the firms outside every circle (group) are one segment more, so each type sums to EL and ES
    if (circles != "").any():
        keys = np.where(circles != "", circles, OUTSIDE).astype(object)
        parts.append(_group("guarantee_circle", keys, firm_mean_loss, firm_ead, total, firm_es))
    if groups is not None and (groups != "").any():
        keys = np.where(groups != "", groups, OUTSIDE).astype(object)
        parts.append(_group("client_group", keys, firm_mean_loss, firm_ead, total, firm_es))
    layers = pd.DataFrame({
        "segment_type": "layer",
        "segment": list(layer_mean_loss),
        "mean_loss": [float(v) for v in layer_mean_loss.values()],
        "ead": np.nan,
        "count": 0,
        "es_contribution": [float((layer_es or {}).get(k, np.nan)) for k in layer_mean_loss],
    })
    layers["share"] = layers["mean_loss"] / total if total > 0 else 0.0
    parts.append(layers[list(SEGMENT_COLUMNS)])
    return pd.concat(parts, ignore_index=True)
