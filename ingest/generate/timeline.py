"""Month and day arithmetic of the generator.

Every date inside the generator is an ``int32`` day offset from the window
start (day 0 = ``start``); months are indexed ``0 .. months-1`` from the month of
``start``. Only :mod:`ingest.generate.writer` turns offsets back into dates.

>>> from datetime import date
>>> month_starts(date(2021, 1, 1), -1, 3).tolist()
[-31, 0, 31, 59, 90]
"""

from __future__ import annotations

from datetime import date

import numpy as np

__all__ = ["DAYS_PER_MONTH", "Calendar", "epoch_day", "month_starts"]

#: Mean length of a Gregorian month in days.
DAYS_PER_MONTH = 365.2425 / 12


def month_starts(start: date, lo: int, hi: int) -> np.ndarray:
    """Day offsets (from ``start``) of the first day of months ``lo .. hi`` inclusive.

    Parameters
    ----------
    start : date
        The window start; its month is month 0 (the day of month is ignored).
    lo, hi : int
        First and last month index (may be negative).

    Returns
    -------
    numpy.ndarray
        ``int32`` array of length ``hi - lo + 1``.
    """
    base = np.datetime64(start.replace(day=1), "M")
    months = base + np.arange(lo, hi + 1)
    return (months.astype("datetime64[D]") - np.datetime64(start, "D")).astype(np.int32)


def epoch_day(d: date) -> int:
    """Days from 1970-01-01 to ``d`` (the Arrow ``date32`` encoding).

    >>> epoch_day(date(1970, 1, 2))
    1
    """
    return int((np.datetime64(d, "D") - np.datetime64("1970-01-01", "D")).astype(np.int64))


class Calendar:
    """Month starts around the window, as day offsets; ``day(m)`` is vectorised.

    >>> from datetime import date
    >>> cal = Calendar(date(2021, 1, 1), 12)
    >>> cal.day(np.array([0, 1, 12])).tolist()
    [0, 31, 365]
    """

    #: Months covered before the window and after its end.
    MARGIN = 600

    def __init__(self, start: date, months: int):
        self.start = start
        self.months = months
        self._lo = -self.MARGIN
        self._ms = month_starts(start, self._lo, months + 60)

    def day(self, m: np.ndarray | int) -> np.ndarray:
        """Day offset of the first day of month ``m``."""
        return self._ms[np.asarray(m) - self._lo]

    def month_of(self, day: np.ndarray) -> np.ndarray:
        """Month index containing day offset ``day``."""
        return (np.searchsorted(self._ms, np.asarray(day), "right") - 1 + self._lo).astype(np.int32)
