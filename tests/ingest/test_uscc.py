"""Unified social credit codes: the vectorised checks agree with the scalar ones."""

from __future__ import annotations

import random

import numpy as np

from ingest import uscc


def test_vectorised_uscc_agrees_with_reference():
    rng = np.random.default_rng(7)
    letters = list(uscc.ALPHABET) + list("IOSVZ") + list("abcdefghjkz") + ["-", " ", "é", "中"]
    codes: list[str] = []
    for _ in range(3000):
        valid = uscc.make("".join(rng.choice(list(uscc.ALPHABET), 17)))
        kind = rng.integers(0, 6)
        if kind == 0:
            codes.append(valid)
        elif kind == 1:
            codes.append(valid.lower())
        elif kind == 2:  # one character replaced (forbidden letters, lower case, others)
            i = int(rng.integers(0, 18))
            codes.append(valid[:i] + str(rng.choice(letters)) + valid[i + 1 :])
        elif kind == 3:  # wrong check character
            codes.append(valid[:17] + str(rng.choice(list(uscc.ALPHABET))))
        elif kind == 4:  # wrong length
            codes.append(valid[: int(rng.integers(0, 18))] + valid[: int(rng.integers(0, 3))] * 2)
        else:
            codes.append("".join(rng.choice(letters, 18)))
    expected = [uscc.is_valid(c) for c in codes]
    assert 0.2 < np.mean(expected) < 0.8
    assert uscc.valid_mask(codes).tolist() == expected
    assert uscc.valid_mask([]).tolist() == [] and uscc.valid_mask(["91350100M000100Y4"]).tolist() == [False]


def test_plain_mask_agrees_with_warnings_for():
    rng = random.Random(3)
    heads = [a + b for a in "1589YAy0" for b in "12395Nx"]
    codes = []
    for head in heads:
        for division in ("350100", "110000", "820000", "830000", "100000", "35010A", "990100", "000000"):
            first = (head + division + "".join(rng.choice(uscc.ALPHABET) for _ in range(9))).upper()
            code = uscc.make(first)
            codes.append(code.lower() if rng.random() < 0.3 else code)
    assert all(uscc.is_valid(c) for c in codes)
    plain = uscc.plain_mask(codes).tolist()
    assert plain == [not uscc.warnings_for(c.upper()) for c in codes]
    assert 0 < sum(plain) < len(plain)
