"""The bank's loan book and losses: EAD, LGD sources, guarantees and wrong-way risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.stress.loss import loan_book, loan_losses
from contagion.stress.scenario import LossParameters

from .conftest import build_snapshot


def _book(**kw: float) -> object:
    snap = build_snapshot()
    return loan_book(snap.loans, snap.guarantee_contracts, n=snap.n, lenders=["BANK"],
                     params=LossParameters(**kw), as_of=snap.as_of)


def test_ead_and_lgd_sources() -> None:
    book = _book()
    assert book.loan_id.tolist() == ["L0", "L1", "L2", "L3", "L4", "L5"]  # OTHER's loan excluded
    assert book.ead[1] == pytest.approx(100 + 0.4 * 50)  # CCF on the undrawn limit
    assert book.lgd_source.tolist() == ["loan", "loan", "collateral", "default", "loan", "loan"]
    assert book.lgd[2] == pytest.approx(1 - 100 * (1 - 0.40) / 100)  # real estate, 40% haircut
    assert book.lgd[3] == pytest.approx(0.45)
    assert _book(default_lgd=0.6).lgd[3] == pytest.approx(0.6)


def test_wrong_way_risk_in_the_circle() -> None:
    book = _book()
    n = 7
    D = np.zeros((n, 3), dtype=bool)
    D[1, :] = True  # firm 1 defaults in every draw; its loan L1 (EAD 120, LGD 0.5) is guaranteed by firm 0
    D[0, 1] = True  # draw 1: guarantor 0 defaults too
    losses, wrong_way = loan_losses(book, D)
    # draw 0: guarantor pays 50 of the 60 -> 10; draw 1: firm 0 defaulted, so pays what its estate
    # recovers on unsecured claims, 1 - 0.45 of the call: 60 - 0.55 x 50 = 32.5
    assert losses[1].tolist()[:2] == [pytest.approx(10.0), pytest.approx(32.5)]
    # draw 1 also loses L0 (EAD 100 x 0.5, guarantor 2 alive -> 50 - 50 = 0)
    assert losses[0, 1] == pytest.approx(0.0)
    assert wrong_way[1] == pytest.approx(0.45 * 50.0) and wrong_way[0] == 0.0


def test_person_guarantor_pays_its_recovery_rate() -> None:
    D = np.zeros((7, 1), dtype=bool)
    D[5] = True  # loan L5: 100 x 0.5 = 50, person guarantees 40 at 30 % -> pays 12
    losses, _ = loan_losses(_book(), D)
    assert losses[5, 0] == pytest.approx(38.0)
    losses, _ = loan_losses(_book(person_recovery=1.0), D)
    assert losses[5, 0] == pytest.approx(10.0)


def test_expired_guarantees_do_not_count() -> None:
    snap = build_snapshot()
    g = snap.guarantee_contracts.assign(end=pd.Timestamp("2020-01-01"))
    book = loan_book(snap.loans, g, n=7, lenders=["BANK"], params=LossParameters(), as_of=snap.as_of)
    assert len(book.guarantor) == 0
