"""Owners of each firm: pseudonymous persons, and parent firms for a few subsidiaries.

Every firm has a controlling person (``P`` + 7 digits); some persons control several
firms in the same city (family groups), half the firms have a second person
owner, and about 5% of small and medium firms belong to a larger firm.

>>> import numpy as np
>>> from datetime import date
>>> from ingest.generate.firms import make_firms
>>> f = make_firms(np.random.default_rng(0), 100, start=date(2021, 1, 1), months=12)
>>> o = make_ownership(np.random.default_rng(1), f)
>>> bool(np.allclose(np.bincount(o.firm, weights=o.share, minlength=100), 1.0))
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.generate.firms import FirmTable

__all__ = ["Ownership", "make_ownership", "person_ids"]


@dataclass(frozen=True, eq=False, kw_only=True)
class Ownership:
    """Owner rows: ``owner`` is a person number, or a firm index when ``owner_is_firm``."""

    firm: np.ndarray  # int32
    owner: np.ndarray  # int64
    owner_is_firm: np.ndarray  # bool
    share: np.ndarray  # float64
    main_person: np.ndarray  # int64 per firm: the controlling person


def person_ids(numbers: np.ndarray) -> np.ndarray:
    """``P0000123``-style pseudonymous ids.

    >>> person_ids(np.array([0, 123])).tolist()
    ['P0000000', 'P0000123']
    """
    return np.char.add("P", np.char.zfill(np.asarray(numbers).astype(str), 7))


def make_ownership(rng: np.random.Generator, firms: FirmTable) -> Ownership:
    """Draw owners; see the module docstring."""
    n = firms.n
    main = rng.permutation(n).astype(np.int64)
    # Family groups: 8% of firms share the controlling person of a firm next to them in
    # city order (the pair is in the same city unless it straddles a city boundary).
    by_city = np.argsort(firms.city, kind="stable")
    share_it = rng.random(n) < 0.08
    nxt = np.roll(by_city, 1)
    main[by_city[share_it[by_city]]] = main[nxt[share_it[by_city]]]
    parent_ok = (firms.size == 1) | (firms.size == 2)
    has_parent = parent_ok & (rng.random(n) < 0.05)
    big = np.flatnonzero(firms.size == 3)
    if len(big) == 0:
        has_parent[:] = False
    parent = big[rng.integers(0, max(1, len(big)), n)] if len(big) else np.zeros(n, np.int64)
    has_parent &= parent != np.arange(n)
    second = rng.random(n) < 0.5
    parent_share = np.where(has_parent, rng.uniform(0.51, 1.0, n), 0.0)
    rest = 1.0 - parent_share
    main_share = np.where(second, rest * rng.uniform(0.5, 0.9, n), rest)
    second_share = rest - main_share
    second_id = n + rng.permutation(n).astype(np.int64)
    idx = np.arange(n, dtype=np.int32)
    firm = np.concatenate([idx, idx[second], idx[has_parent]])
    owner = np.concatenate([main, second_id[second], parent[has_parent].astype(np.int64)])
    is_firm = np.concatenate([np.zeros(n + int(second.sum()), bool), np.ones(int(has_parent.sum()), bool)])
    share = np.concatenate([main_share, second_share[second], parent_share[has_parent]])
    keep = share > 0
    return Ownership(
        firm=firm[keep],
        owner=owner[keep],
        owner_is_firm=is_firm[keep],
        share=np.round(share[keep], 6),
        main_person=main,
    )
