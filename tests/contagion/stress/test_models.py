"""PD mapping, copula, loss (EAD / LGD / guarantees), tail statistics, segments."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from contagion.stress import StressPrecisionWarning, loss_measures
from contagion.stress.copula import copula_model, draw_defaults
from contagion.stress.default_probability import default_probabilities
from contagion.stress.loss import loan_book, loan_losses
from contagion.stress.scenario import LossParameters, PDParameters
from contagion.stress.segments import guarantee_circles, layer_split

from .conftest import build_snapshot


def test_pd_from_classification_and_snapshot_column() -> None:
    snap = build_snapshot()
    pd_ = default_probabilities(snap.firms, snap.loans, PDParameters())
    assert pd_.tolist() == [0.01, 0.01, 0.05, 0.01, 0.30, 0.01, 0.01]
    firms = snap.firms.assign(pd=[0.2, np.nan, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert default_probabilities(firms, snap.loans, PDParameters())[:2].tolist() == [0.2, 0.01]
    no_loans = snap.loans.iloc[0:0]
    assert set(default_probabilities(snap.firms, no_loans, PDParameters())) == {0.02}


def test_pd_takes_the_days_overdue_floor() -> None:
    snap = build_snapshot()
    loans = snap.loans.assign(min_classification=["doubtful"] + ["normal"] * 6)
    assert default_probabilities(snap.firms, loans, PDParameters())[0] == 0.60


def test_independent_copula_matches_pd() -> None:
    pd_ = np.full(200, 0.1)
    m = copula_model(pd_, ["s"] * 200, ["r"] * 200, rho_sector=0.0, rho_region=0.0)
    d = draw_defaults(m, range(400), seed=5)
    freq = d.mean()
    se = np.sqrt(0.1 * 0.9 / d.size)
    assert abs(freq - 0.1) < 4 * se
    # independence: joint default of two firms ~ PD^2
    pair = np.mean(d[::2] & d[1::2])
    assert abs(pair - 0.01) < 4 * np.sqrt(0.01 * 0.99 / (100 * 400))


def test_correlation_raises_joint_defaults() -> None:
    pd_ = np.full(100, 0.05)
    kw = dict(sectors=["s"] * 100, regions=["r"] * 100)
    ind = draw_defaults(copula_model(pd_, rho_sector=0.0, rho_region=0.0, **kw), range(2000), seed=1)
    cor = draw_defaults(copula_model(pd_, rho_sector=0.3, rho_region=0.2, **kw), range(2000), seed=1)
    assert abs(cor.mean() - 0.05) < 0.01  # marginals kept
    joint_ind = np.mean(ind[::2] & ind[1::2])
    joint_cor = np.mean(cor[::2] & cor[1::2])
    assert joint_cor > 3 * joint_ind


def test_macro_shift_raises_defaults_of_its_region_only() -> None:
    pd_ = np.full(4, 0.05)
    m = copula_model(pd_, ["s"] * 4, ["350100", "350200", "440300", "440300"], rho_sector=0.1,
                     rho_region=0.3, region_shift={"35": -2.0})
    d = draw_defaults(m, range(3000), seed=2).mean(axis=1)
    assert d[0] > 0.2 and d[1] > 0.2 and d[2] < 0.08


def test_run_is_seeded_by_its_index() -> None:
    m = copula_model(np.full(5, 0.3), list("aabbc"), list("xyxyx"), rho_sector=0.2, rho_region=0.1)
    batch = draw_defaults(m, range(10, 20), seed=9)
    assert np.array_equal(batch[:, 3], draw_defaults(m, [13], seed=9)[:, 0])


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
    # draw 0: guarantor pays 50 of the 60 -> 10; draw 1: firm 0 defaulted so pays nothing on L1
    assert losses[1].tolist()[:2] == [pytest.approx(10.0), pytest.approx(60.0)]
    # draw 1 also loses L0 (EAD 100 x 0.5, guarantor 2 alive -> 50 - 50 = 0)
    assert losses[0, 1] == pytest.approx(0.0)
    assert wrong_way[1] == pytest.approx(50.0) and wrong_way[0] == 0.0


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


def test_tail_measures_and_standard_errors() -> None:
    rng = np.random.default_rng(0)
    x = rng.exponential(size=20000)
    m = loss_measures(x)
    row = {(r.measure, r.level if r.level == r.level else None): r for r in m.itertuples()}
    n, q = 20000, 0.99
    assert row["VaR", q].value == pytest.approx(np.log(100), rel=0.05)
    assert row["ES", q].value == pytest.approx(np.log(100) + 1, rel=0.05)
    assert row["EL", None].se == pytest.approx(1 / np.sqrt(n), rel=0.1)
    # exponential(1): SE(VaR_q) = sqrt(q (1 - q) / N) / f(VaR_q) with density f(VaR_q) = 1 - q
    assert row["VaR", q].se == pytest.approx(np.sqrt(q * (1 - q) / n) / (1 - q), rel=0.35)
    # tail variance 1, ES - VaR = 1: SE(ES)^2 = (1 + q) / (N (1 - q))
    assert row["ES", q].se == pytest.approx(np.sqrt((1 + q) / (n * (1 - q))), rel=0.35)


def test_too_few_runs_warn() -> None:
    with pytest.warns(StressPrecisionWarning, match="99%"):
        loss_measures(np.arange(500.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss_measures(np.arange(1000.0))


def test_circles_and_layer_split() -> None:
    snap = build_snapshot()
    assert guarantee_circles(snap.guarantees).tolist() == ["circle-1"] * 3 + [""] * 4
    firm_loss = np.array([[10.0], [6.0]])
    initial = np.array([[True], [False]])
    by_layer = {"supply": np.array([[0.0], [1.0]]), "guarantee": np.array([[0.0], [2.0]])}
    split = layer_split(firm_loss, initial, by_layer)
    assert split["direct"][0] == 10.0
    assert split["supply"][0] == pytest.approx(2.0) and split["guarantee"][0] == pytest.approx(4.0)
    assert sp.issparse(snap.guarantees)
