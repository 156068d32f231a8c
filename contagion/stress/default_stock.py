r"""The default stock: firms already in default at the snapshot date, kept apart from stress loss.

A firm in default on the snapshot date (``firms.defaulted``, the one default
definition: a default or bankruptcy event, or a loan more than 90 days overdue)
is part of the bank's existing non-performing stock. Its loss was incurred
before the stress horizon and is, or should be, covered by provisions; booking
it again in every run as new loss would overstate expected loss (on the sample
dataset the stock was half of it). The stress test therefore

- takes the stock's loans out of the book it prices (:func:`split_book`), and
  reports them apart (:func:`stock_report`): firms, loans, EAD, the gross loss
  :math:`\sum \mathrm{EAD}\cdot\mathrm{LGD}` before guarantees, and the provisions
  where the data has them (the input contract has no provision field yet, so
  this is ``null``);
- draws no new default for those firms in the copula, and does not shock the
  network with them: their default already happened, and their counterparties'
  latest statements already carry it. The scenario switch
  ``default_stock.replay: true`` replays them as shocks of distress 1;
- counts them as defaulted guarantors in every run: a firm in default pays
  no guarantee call.

>>> import pandas as pd
>>> from contagion.stress.loss import loan_book
>>> from contagion.stress.scenario import LossParameters
>>> loans = pd.DataFrame({"loan_id": ["A", "B"], "borrower": [0, 1], "outstanding": [100.0, 50.0],
...                       "lgd": [0.5, 0.4]})
>>> book = loan_book(loans, pd.DataFrame(), n=2, lenders=None, params=LossParameters())
>>> live, stock = split_book(book, np.array([False, True]))
>>> live.loan_id.tolist(), stock.loan_id.tolist()
(['A'], ['B'])
>>> stock_report(stock, np.array([False, True]), replay=False)["gross_loss"]
20.0
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from contagion.stress.loss import LoanBook

__all__ = ["in_default", "split_book", "stock_report"]


def in_default(firms: pd.DataFrame) -> np.ndarray:
    """Firms in default at the snapshot date (``firms.defaulted``; all ``False`` without the column)."""
    if "defaulted" not in firms:
        return np.zeros(len(firms), dtype=bool)
    return firms["defaulted"].fillna(False).to_numpy(dtype=bool)


def _take(book: LoanBook, keep: np.ndarray) -> LoanBook:
    """The loans ``keep`` of ``book`` with the guarantee contracts on them, renumbered."""
    new_pos = np.cumsum(keep) - 1
    g = keep[book.guarantee_loan] if len(book.guarantee_loan) else np.zeros(0, dtype=bool)
    return LoanBook(
        loan_id=book.loan_id[keep],
        lender=book.lender[keep],
        borrower=book.borrower[keep],
        ead=book.ead[keep],
        lgd=book.lgd[keep],
        lgd_source=book.lgd_source[keep],
        guarantee_loan=new_pos[book.guarantee_loan[g]].astype(np.int64),
        guarantor=book.guarantor[g],
        guarantee_call=book.guarantee_call[g],
        guarantee_share=book.guarantee_share[g],
        calls=book.calls,
        capacity=book.capacity,
        defaulted_pays=book.defaulted_pays,
        n_firms=book.n_firms,
    )


def split_book(book: LoanBook, stock: np.ndarray) -> tuple[LoanBook, LoanBook]:
    """The performing book (borrower not in default) and the stock book (borrower in default)."""
    on_stock = np.asarray(stock, dtype=bool)[book.borrower] if len(book.borrower) else np.zeros(0, bool)
    return _take(book, ~on_stock), _take(book, on_stock)


def stock_report(stock_book: LoanBook, stock: np.ndarray, *, replay: bool,
                 provisions: float | None = None) -> dict[str, Any]:
    """The default stock for the summary: counts, EAD, gross loss before guarantees, provisions."""
    borrowers = np.unique(stock_book.borrower)
    return {
        "firms_in_default": int(np.sum(stock)),
        "borrowers_of_the_bank": len(borrowers),
        "loans": len(stock_book.loan_id),
        "ead": float(np.sum(stock_book.ead)),
        "gross_loss": float(np.sum(stock_book.gross)),
        "provisions": provisions,
        "provisions_note": None if provisions is not None else "the data has no provisions",
        "replayed_as_shocks": bool(replay),
        "booked_as_stress_loss": False,
    }
