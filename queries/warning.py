"""Early warning: firms whose activity falls while their borrowing grows, as of a date.

A firm is flagged when, comparing the mean of its monthly signals over the last ``window`` months
up to ``as_of`` with the mean over the ``window`` months before,

- at least one of electricity use, equipment utilisation, orders or invoices fell by at least
  ``min_fall`` (relative: :math:`\\bar x_{now} / \\bar x_{before} - 1 \\le -min\\_fall`), and
- its borrowing from every lender grew by at least ``min_growth``: the outstanding balance of its
  loans now (latest status by ``as_of``; the principal when none yet) against ``window`` months
  earlier (latest status by then; loans started since count as nothing then), or from nothing.

Activity falling while debt rises is the classic sign of a firm borrowing to cover losses (or
of loans diverted away from the business). Ranked by the number of falling signals, then the
borrowing growth (new borrowing from nothing first), then USCC; each with the figures, the bank's
own outstanding balance, and the firm's details and stale flags. The catalogue's
``early_warning`` is the one query.

Example::

    flagged = early_warning(runner, window=3, min_fall=0.1, min_growth=0.1)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from graph.protocol import QueryRunner
from queries.catalogue import resolve_as_of, run_query
from queries.chaincache import details_of
from queries.details import stale_before, with_details

__all__ = ["early_warning"]


def early_warning(
    runner: QueryRunner,
    *,
    as_of: date | str | None = None,
    window: int = 3,
    min_fall: float = 0.1,
    min_growth: float = 0.1,
    lenders: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The flagged firms, ranked (module doc); ``frame.attrs`` holds ``as_of``, ``window`` and
    ``stale_before``. ``lenders`` (for ``bank_outstanding``) default to ``settings.bank_lenders``."""
    day = resolve_as_of(runner, as_of)
    bank = list(runner.settings.bank_lenders if lenders is None else lenders)
    frame = run_query(runner, "early_warning", {"as_of": day, "window": window, "min_fall": min_fall,
                                                "min_growth": min_growth, "lenders": bank})
    frame.insert(1, "rank", range(1, len(frame) + 1))
    frame = with_details(frame, details_of(runner, frame["uscc"].tolist(), day))
    frame.attrs.update({"as_of": day.isoformat(), "window": window, "min_fall": min_fall,
                        "min_growth": min_growth, "stale_before": stale_before(day).isoformat()})
    return frame
