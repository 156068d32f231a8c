"""The bank's loan book and losses: EAD, LGD (collateral, floor, downturn), guarantees, wrong-way risk."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from contagion.stress.loss import downturn_lgd, loan_book, loan_losses, loss_given_default
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


# ----------------------------------------------------------------------------- one guarantee model
def _loans(**cols: list[object]) -> pd.DataFrame:
    m = len(next(iter(cols.values())))
    base: dict[str, list[object]] = {"loan_id": [f"L{i}" for i in range(m)], "borrower": [0] * m,
                                     "lender": ["B"] * m, "outstanding": [100.0] * m, "limit": [np.nan] * m}
    return pd.DataFrame({**base, **cols})


def _contracts(**cols: list[object]) -> pd.DataFrame:
    m = len(next(iter(cols.values())))
    base: dict[str, list[object]] = {"guarantor_type": ["firm"] * m, "borrower": [0] * m}
    return pd.DataFrame({**base, **cols})


def test_call_capped_at_guarantee_and_at_debt_in_the_book() -> None:
    # loan L0 loses 50 (EAD 100, LGD 0.5); a guarantee of 200 pays only the 50, so the loss is 0,
    # and 50 is what firm 1's capacity is charged with
    loans = _loans(lgd=[0.5])
    book = loan_book(loans, _contracts(guarantor=[1], loan_id=["L0"], amount=[200.0]), n=2, lenders=None,
                     params=LossParameters())
    assert book.guarantee_call.tolist() == [50.0]
    assert book.calls[1, 0] == 50.0
    D = np.array([[True], [False]])
    assert loan_losses(book, D)[0][0, 0] == 0.0


def test_co_guarantors_share_and_capacity_limits_payment() -> None:
    # loss 50 on L0, guarantors 1 (amount 60) and 2 (amount 40): calls 30 and 20.
    # Firm 1 can pay 10 only: it pays 10, firm 2 pays 20, the bank loses 50 - 30 = 20
    loans = _loans(lgd=[0.5])
    g = _contracts(guarantor=[1, 2], loan_id=["L0", "L0"], amount=[60.0, 40.0])
    book = loan_book(loans, g, n=3, lenders=None, params=LossParameters(),
                     capacity=np.array([1.0, 10.0, 1e6]))
    assert sorted(book.guarantee_call.tolist()) == [pytest.approx(20.0), pytest.approx(30.0)]
    D = np.array([[True], [False], [False]])
    losses, wrong_way = loan_losses(book, D)
    assert losses[0, 0] == pytest.approx(20.0)
    assert wrong_way[0] == pytest.approx(20.0)  # the 20 firm 1 could not pay


def test_general_guarantee_protects_the_borrowers_loans_pro_rata() -> None:
    # no loan_id: 80 spread over L0 (EAD 100) and L1 (EAD 300) as 20 and 60; losses 50 and 150 -> 30, 90
    loans = _loans(outstanding=[100.0, 300.0], lgd=[0.5, 0.5])
    book = loan_book(loans, _contracts(guarantor=[1], loan_id=[None], amount=[80.0]), n=2, lenders=None,
                     params=LossParameters())
    losses, _ = loan_losses(book, np.array([[True], [False]]))
    assert losses[:, 0].tolist() == [pytest.approx(30.0), pytest.approx(90.0)]


def test_guarantee_of_a_loan_not_in_the_data_still_calls_the_guarantor() -> None:
    # an unknown loan: the guarantor is called for loss_rate x amount (0.45 x 100), the bank's book untouched
    book = loan_book(_loans(lgd=[0.5]), _contracts(guarantor=[1], loan_id=["ELSEWHERE"], amount=[100.0]), n=2,
                     lenders=None, params=LossParameters())
    assert book.calls[1, 0] == pytest.approx(45.0) and len(book.guarantor) == 0


def test_person_owner_is_correlated_with_the_borrower() -> None:
    # loan L5 loses 50; person P1 guarantees 40. As a stranger it pays 0.3 x 40 = 12; as the
    # borrower's owner it is in default whenever called and pays 0.55 x 0.3 x 40 = 6.6
    snap = build_snapshot()
    D = np.zeros((7, 1), dtype=bool)
    D[5] = True
    owners = pd.DataFrame({"owner_id": ["P1"], "owner_type": ["person"], "firm_uscc": [snap.firms.uscc[5]]})
    stranger = loan_book(snap.loans, snap.guarantee_contracts, n=7, lenders=["BANK"], params=LossParameters())
    owner = loan_book(snap.loans, snap.guarantee_contracts, n=7, lenders=["BANK"], params=LossParameters(),
                      ownership=owners)
    assert loan_losses(stranger, D)[0][5, 0] == pytest.approx(50.0 - 12.0)
    assert loan_losses(owner, D)[0][5, 0] == pytest.approx(50.0 - 6.6)
    off = loan_book(snap.loans, snap.guarantee_contracts, n=7, lenders=["BANK"],
                    params=LossParameters(person_recovery=0.0, firm_recovery=0.0))
    assert loan_losses(off, D)[0][5, 0] == pytest.approx(50.0)  # 0 switches recoveries off


# ----------------------------------------------------------------------------- LGD
def test_collateral_is_not_counted_twice() -> None:
    # one property (value 100, haircut 40 %) recorded on two loans of EAD 100: it recovers 60 in all,
    # 30 for each loan, so LGD 0.7 each (counted twice it would give 0.4 each)
    loans = _loans(collateral_type=["real_estate"] * 2, collateral_value=[100.0, 100.0])
    lgd, source = loss_given_default(loans, np.array([100.0, 100.0]), LossParameters())
    assert lgd.tolist() == [pytest.approx(0.7), pytest.approx(0.7)]
    assert source.tolist() == ["collateral", "collateral"]
    # two distinct collaterals (a collateral_id says so) each secure their own loan
    lgd, _ = loss_given_default(loans.assign(collateral_id=["C1", "C2"]), np.array([100.0, 100.0]),
                                LossParameters())
    assert lgd.tolist() == [pytest.approx(0.4), pytest.approx(0.4)]


def test_lgd_floor() -> None:
    # unsecured loan with a given LGD of 5 %: floored at 25 %; cash covering the whole loan:
    # LGD 0, floored at the secured 10 %; half covered by cash: 0.5, floor 0.5 x 0.25 + 0.5 x 0.10
    loans = _loans(lgd=[0.05, np.nan, np.nan], collateral_type=[None, "cash", "cash"],
                   collateral_value=[np.nan, 150.0, 50.0], borrower=[0, 1, 2])
    lgd, _ = loss_given_default(loans, np.full(3, 100.0), LossParameters())
    assert lgd.tolist() == [pytest.approx(0.25), pytest.approx(0.10), pytest.approx(0.5)]
    lgd, _ = loss_given_default(loans, np.full(3, 100.0), LossParameters(lgd_floor_unsecured=0.0,
                                                                         lgd_floor_secured=0.0))
    assert lgd.tolist() == [pytest.approx(0.05), 0.0, pytest.approx(0.5)]


def test_downturn_lgd_follows_the_scenarios_stress() -> None:
    # Frye-Jacobs: equal at the unstressed PD, higher under stress, and never above 1
    lgd = np.array([0.45, 0.45, 0.9])
    out = downturn_lgd(lgd, np.array([0.02, 0.02, 0.02]), np.array([0.02, 0.10, 0.5]))
    assert out[0] == pytest.approx(0.45)
    assert 0.45 < out[1] < 1.0 and 0.9 < out[2] <= 1.0
    loans = _loans(lgd=[0.45])
    on = loan_book(loans, pd.DataFrame(), n=1, lenders=None, params=LossParameters(downturn_lgd=True),
                   pd_=np.array([0.02]), pd_stressed=np.array([0.10]))
    assert on.lgd[0] == pytest.approx(out[1])
