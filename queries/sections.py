"""The lists of a chain (upstream, downstream, guarantors, guaranteed) as ordered arrays.

A hub's chain at 100k firms holds 60-90k parties per list, and a credit officer's first page
shows 100 of them. Building every list as a pandas frame (object columns, string sorts, a join
on the book by USCC) cost about 0.2 s of one core per hub, most of a first request's time. A
:class:`Section` holds one list as NumPy arrays already in page order; :meth:`Section.frame`
builds the frame of the rows a page shows (or all of them), and :func:`chain_totals` sums the
whole chain from the arrays.

The rows are those ``queries.exposure`` documents: one per party reached, ordered by
(distance, exposure descending, id), with the bank's figures from its book (``firm_exposure``
rows): a person, or a firm outside the book, has zeros and no loan class.

>>> book = BookArrays.from_frame(pd.DataFrame(
...     {"outstanding": [5.0], "undrawn": [1.0], "exposure": [6.0], "guarantees_given": [0.0],
...      "worst_rank": [1]}, index=pd.Index(["A"], name="uscc")))
>>> ids = np.array(["B", "A", "P"], dtype=object)
>>> s = Section.build("upstream", ids, firm=np.array([True, True, False]),
...                   distance=np.array([1, 1, 2]), value=np.array([3.0, 4.0, 0.0]),
...                   share=np.array([0.4, 0.6, 0.0]), book_pos=book.positions(ids),
...                   book=book, tie=ids.astype(str), key=np.arange(3))
>>> f = s.frame()
>>> f["uscc"].tolist()[:2], f["person_id"].tolist()[2], f["exposure"].tolist(), f["worst_class"].tolist()[0]
(['A', 'B'], 'P', [6.0, 0.0, 0.0], 'special_mention')
>>> chain_totals({"upstream": s})["chain"]["exposure"]
6.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ingest.tables import CLASSIFICATIONS
from queries.details import DetailsTable

__all__ = ["MONEY", "BookArrays", "Section", "chain_totals"]

#: The bank's figures every row carries.
MONEY = ("outstanding", "undrawn", "exposure", "guarantees_given")
_CLASSES = np.array([*CLASSIFICATIONS, None], dtype=object)
_SUPPLY = ("upstream", "downstream")


@dataclass(frozen=True)
class BookArrays:
    """A book (``firm_exposure`` rows indexed by USCC) as arrays: read once per book, probed per walk."""

    index: pd.Index
    money: dict[str, np.ndarray]
    #: the worst loan class's rank (``CLASSIFICATIONS`` order), NaN without a classified loan
    rank: np.ndarray

    @classmethod
    def from_frame(cls, exp: pd.DataFrame) -> BookArrays:
        # plain objects: pandas builds the index's hash table once and keeps it (an Arrow-string
        # index probes slowly)
        index = exp.index if exp.index.dtype == object else pd.Index(exp.index.to_numpy(dtype=object),
                                                                      dtype=object)
        money = {c: np.nan_to_num(exp[c].to_numpy(dtype=float, na_value=np.nan), nan=0.0) for c in MONEY}
        rank = pd.to_numeric(exp["worst_rank"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return cls(index, money, rank)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Each id's row in the book, -1 where it has none."""
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.asarray(self.index.get_indexer(pd.Index(ids, dtype=object)), dtype=np.int64)


@dataclass(frozen=True)
class Section:
    """One list of a chain, in page order; ``key`` identifies a party across the chain's lists."""

    name: str
    ids: np.ndarray
    firm: np.ndarray
    distance: np.ndarray
    value: np.ndarray
    share: np.ndarray
    money: dict[str, np.ndarray]
    rank: np.ndarray
    key: np.ndarray

    @classmethod
    def build(cls, name: str, ids: np.ndarray, *, firm: np.ndarray, distance: np.ndarray,
              value: np.ndarray, share: np.ndarray, book_pos: np.ndarray, book: BookArrays,
              key: np.ndarray, tie: np.ndarray | None = None, order: np.ndarray | None = None) -> Section:
        """The list ``name`` from its walk (rows in any order): the book's figures looked up at
        ``book_pos`` for firms, then ordered by (distance, exposure descending, id): sorted with
        ``tie`` ordering as the ids' text does, or in the ``order`` the caller worked out."""
        known = firm & (book_pos >= 0)
        take = np.where(known, book_pos, 0)
        money = {c: np.where(known, book.money[c][take], 0.0) if len(book.rank) else np.zeros(len(ids))
                 for c in MONEY}
        rank = np.where(known, book.rank[take], np.nan) if len(book.rank) else np.full(len(ids), np.nan)
        if order is None:
            if tie is None:
                raise ValueError("Section.build needs tie or order")
            order = np.lexsort((tie, -money["exposure"], distance))
        return cls(name=name, ids=ids[order], firm=firm[order], distance=distance[order],
                   value=value[order], share=share[order], money={c: v[order] for c, v in money.items()},
                   rank=rank[order], key=key[order])

    @classmethod
    def empty(cls, name: str) -> Section:
        z, i = np.zeros(0), np.zeros(0, dtype=np.int64)
        return cls(name, np.zeros(0, dtype=object), np.zeros(0, dtype=bool), i, z, z,
                   {c: z for c in MONEY}, z, i)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def columns(self) -> list[str]:
        """The columns of :meth:`frame` and the keys of :meth:`records`."""
        value = ["trade_value", "share"] if self.name in _SUPPLY else ["amount"]
        return ["uscc", "person_id", "party", "distance", *value, *MONEY, "worst_class"]

    def _cut(self, lo: int, hi: int | None) -> dict[str, np.ndarray]:
        """Rows ``lo`` .. ``hi`` column by column (:meth:`columns`), as arrays: what both
        :meth:`frame` and :meth:`records` show."""
        sl = slice(lo, hi)
        ids, firm = self.ids[sl], self.firm[sl]
        none = np.full(len(ids), None, dtype=object)
        rank = self.rank[sl]
        value = ({"trade_value": self.value[sl], "share": self.share[sl]} if self.name in _SUPPLY
                 else {"amount": self.value[sl]})
        return {
            "uscc": np.where(firm, ids, none),
            "person_id": np.where(firm, none, ids),
            "party": np.where(firm, "firm", "person").astype(object),
            "distance": self.distance[sl].astype(np.int64),
            **{k: v.astype(float) for k, v in value.items()},
            **{c: self.money[c][sl] for c in MONEY},
            "worst_class": _CLASSES[np.where(np.isnan(rank), len(CLASSIFICATIONS),
                                             np.nan_to_num(rank)).astype(int)],
        }

    def frame(self, lo: int = 0, hi: int | None = None) -> pd.DataFrame:
        """Rows ``lo`` .. ``hi`` as the page shows them: ``uscc`` / ``person_id``, ``party``,
        ``distance``, ``trade_value`` and ``share`` (supply) or ``amount``, the money, ``worst_class``."""
        cut = self._cut(lo, hi)
        cut["worst_class"] = cut["worst_class"].tolist()  # as text (None where no class), not objects
        return pd.DataFrame(cut)

    def records(self, lo: int = 0, hi: int | None = None,
                details: dict[str, dict[str, Any]] | DetailsTable | None = None) -> list[dict[str, Any]]:
        """Rows ``lo`` .. ``hi`` as JSON-ready dicts (:meth:`columns`), each firm's ``details``
        appended (the keys any of them has, ``None`` where a row has none; a person has none):
        ``details`` by USCC, or a :class:`~queries.details.DetailsTable` to look them up in.

        A page's rows straight from the arrays, one zip per row: the API answered a first page
        through pandas frames, which took longer than walking the chain."""
        cut = self._cut(lo, hi)
        names = list(cut)
        columns = [c.tolist() for c in cut.values()]
        if isinstance(details, DetailsTable):
            for k, v in details.columns_for(cut["uscc"]).items():
                if k not in cut:
                    names.append(k)
                    columns.append(v)
        rows = [dict(zip(names, r, strict=True)) for r in zip(*columns, strict=True)]
        if details and not isinstance(details, DetailsTable):
            extra: dict[str, None] = {}  # the details' keys in order of first appearance
            found = [details.get(u, {}) if u is not None else {} for u in cut["uscc"].tolist()]
            for d in found:
                for k in d:
                    if k not in extra and k not in names:
                        extra[k] = None
            for row, d in zip(rows, found, strict=True):
                row.update({k: d.get(k) for k in extra})
        return rows

    def sums(self, keep: np.ndarray | None = None) -> dict[str, Any]:
        """Counts and money of the rows (those where ``keep``), firms' figures only."""
        firm = self.firm if keep is None else keep & self.firm
        n_firms = int(np.count_nonzero(firm))
        return {
            "firms": n_firms,
            "persons": (len(self) if keep is None else int(np.count_nonzero(keep))) - n_firms,
            **{c: float(np.sum(self.money[c][firm])) for c in MONEY},
            # NaN (no class) compares False
            "special_mention_or_worse": int(np.count_nonzero(self.rank[firm] >= 1)),
        }


def chain_totals(sections: dict[str, Section]) -> dict[str, Any]:
    """Each list's totals (with direct links' value and parties by distance), and the whole
    chain's: each party once (its first row over the lists in order)."""
    out: dict[str, Any] = {}
    for name, s in sections.items():
        t = s.sums()
        direct = s.distance == 1
        t["direct_trade_value" if name in _SUPPLY else "direct_amount"] = float(np.sum(s.value[direct]))
        counts = np.bincount(s.distance) if len(s) else np.zeros(0, dtype=np.int64)  # no sort, as unique's
        t["by_distance"] = {str(d): int(n) for d, n in enumerate(counts.tolist()) if n}
        out[name] = t
    # a party's first row: keys are unique within a list, so mark them list by list (no sort), and
    # add up each list's first rows (no concatenation of 60k-row lists per hub)
    size = max((int(x.key.max()) + 1 for x in sections.values() if len(x)), default=0)
    seen = np.zeros(size, dtype=bool)
    chain: dict[str, Any] = {}
    for s in sections.values():
        first = ~seen[s.key]
        seen[s.key] = True
        for k, v in s.sums(first).items():
            chain[k] = chain.get(k, 0) + v
    out["chain"] = chain or Section.empty("chain").sums()
    return out
