"""Column parsers: raw values -> normalised values plus a reason per bad value.

Every parser takes the raw column (object Series as CSV gives, or a typed one
as Parquet gives; any index) and returns ``(values, reasons)``, both aligned
with the input: ``values`` holds the normalised value (missing where the raw
value was missing or bad), ``reasons`` ``None`` for a good or missing value and
a sentence for a bad one. Whether a missing value is allowed is decided by the
caller (``ingest.validate``).

The outcome is that of parsing each value's text (:func:`as_text`), whatever
the dtype; two shortcuts give the same values and reasons faster: numbers are
taken as the floats they are (their text parses back to exactly them), and
dates, codes and enum values are turned into text and parsed once per distinct
raw value.

>>> v, r = parse_money(pd.Series(["1,200.5", "-3", "abc", None]), factor=10_000.0, min_value=0.0)
>>> v.tolist()[:1], r.tolist()[1:3]
([12005000.0], ['negative amount -3 where amounts must be >= 0', "not a number: 'abc'"])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import cast

import numpy as np
import pandas as pd

from chainrisk.errors import InvalidUSCC
from ingest import uscc
from ingest.tables import CLASSIFICATIONS, Column

__all__ = [
    "ENUM_ALIASES",
    "as_text",
    "missing_value",
    "parse_bool",
    "parse_date",
    "parse_enum",
    "parse_int",
    "parse_money",
    "parse_month",
    "parse_number",
    "parse_uscc",
    "to_text",
]

#: Aliases of enum values (keys normalised: lower case, spaces and hyphens -> "_").
ENUM_ALIASES: dict[str, str] = {
    # five categories
    **{c: c for c in CLASSIFICATIONS},
    "pass": "normal",
    "performing": "normal",
    "正常": "normal",
    "正常类": "normal",
    "1": "normal",
    "special": "special_mention",
    "mention": "special_mention",
    "watch": "special_mention",
    "sm": "special_mention",
    "关注": "special_mention",
    "关注类": "special_mention",
    "2": "special_mention",
    "sub_standard": "substandard",
    "次级": "substandard",
    "次级类": "substandard",
    "3": "substandard",
    "可疑": "doubtful",
    "可疑类": "doubtful",
    "4": "doubtful",
    "损失": "loss",
    "损失类": "loss",
    "5": "loss",
    # party types
    "firm": "firm",
    "company": "firm",
    "enterprise": "firm",
    "corporate": "firm",
    "企业": "firm",
    "公司": "firm",
    "法人": "firm",
    "person": "person",
    "individual": "person",
    "natural_person": "person",
    "个人": "person",
    "自然人": "person",
    # size classes
    "micro": "micro",
    "微型": "micro",
    "微型企业": "micro",
    "small": "small",
    "小型": "small",
    "小型企业": "small",
    "medium": "medium",
    "中型": "medium",
    "中型企业": "medium",
    "large": "large",
    "大型": "large",
    "大型企业": "large",
    # event types
    "default": "default",
    "违约": "default",
    "bankruptcy": "bankruptcy",
    "破产": "bankruptcy",
    "破产清算": "bankruptcy",
    "overdue": "overdue",
    "逾期": "overdue",
    "lawsuit": "lawsuit",
    "litigation": "lawsuit",
    "诉讼": "lawsuit",
    "涉诉": "lawsuit",
    "enforcement": "enforcement",
    "被执行": "enforcement",
    "被执行人": "enforcement",
    "dishonest_debtor": "dishonest_debtor",
    "dishonest": "dishonest_debtor",
    "失信": "dishonest_debtor",
    "失信被执行人": "dishonest_debtor",
    "penalty": "penalty",
    "行政处罚": "penalty",
    "处罚": "penalty",
    "equity_freeze": "equity_freeze",
    "股权冻结": "equity_freeze",
    "restructuring": "restructuring",
    "重组": "restructuring",
    "破产重整": "restructuring",
    "management_change": "management_change",
    "高管变更": "management_change",
    "法定代表人变更": "management_change",
    "other": "other",
    "其他": "other",
}

_TRUE = {"true", "t", "yes", "y", "1", "是", "真"}
_FALSE = {"false", "f", "no", "n", "0", "否", "假"}


def to_text(v: object) -> str | None:
    """One raw value's text: stripped ``str``, ``None`` for missing (``None``, NA, NaT, NaN) or blank.

    Bytes are decoded as UTF-8 (bad bytes replaced); anything else is ``str(v)``.

    >>> to_text("  a "), to_text(b"x"), to_text("   "), to_text(float("nan")), to_text(1.5)
    ('a', 'x', None, None, '1.5')
    """
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    text = str(v).strip()
    return text or None


def as_text(raw: pd.Series) -> pd.Series:
    """Stripped ``str`` values, ``None`` for missing or blank (object dtype)."""
    # fast path for the common case (CSV cells are already str)
    out = [(v.strip() or None) if type(v) is str else to_text(v) for v in raw.tolist()]
    return pd.Series(out, index=raw.index, dtype=object)


#: Missing markers whose text is ``None`` and that ``pd.factorize`` codes -1 (a float only when NaN).
_MISSING_TYPES: frozenset[type] = frozenset({type(None), type(pd.NA), type(pd.NaT)})
#: Exact types whose equal values always have equal ``str`` (``1 == 1.0 == True``, ``0.0 == -0.0``
#: and equal instants in different time zones do not qualify).
_FACTORIZABLE_TYPES: frozenset[type] = frozenset({str, int, bool, date})
#: Nullable numeric dtypes (``pd.NA`` for missing).
_MASKED_INT = (
    pd.Int8Dtype,
    pd.Int16Dtype,
    pd.Int32Dtype,
    pd.Int64Dtype,
    pd.UInt8Dtype,
    pd.UInt16Dtype,
    pd.UInt32Dtype,
    pd.UInt64Dtype,
)
_MASKED_FLOAT = (pd.Float32Dtype, pd.Float64Dtype)
_EXACT_INT = 2.0**53  # integers below this in magnitude are exact in float64


def _distinct_texts(raw: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """``(codes, texts)`` such that ``as_text(raw)`` is ``texts`` taken at ``codes`` (-1: ``None``).

    The raw values are factorised first where equal raw values always have the
    same text (strings, dates, integers, datetimes of one time zone ...) and only
    the distinct ones are turned into text; ``texts`` may repeat (``' a'`` and
    ``'a'``) and hold ``None`` (a blank string). Anything else (floats: ``0.0 == -0.0``;
    mixed types: ``1 == 1.0 == True``) is turned into text row by row first.
    """
    dtype = raw.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # each row's value is its category: one text per category
        codes = np.asarray(raw.cat.codes, dtype=np.intp)
        return codes, as_text(pd.Series(raw.cat.categories))
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        values = raw.to_numpy()
        types = set(map(type, values))
        kinds = types - _MISSING_TYPES - {float}
        if len(kinds) <= 1 and kinds <= _FACTORIZABLE_TYPES:
            codes, distinct = pd.factorize(values)
            # a float among the distinct values is not NaN: 0.0 and -0.0 would be one
            if float not in types or not any(type(u) is float for u in distinct):
                return codes, as_text(pd.Series(distinct, dtype=object))
    elif isinstance(dtype, (pd.DatetimeTZDtype, pd.StringDtype, pd.BooleanDtype, *_MASKED_INT)) or (
        isinstance(dtype, np.dtype) and dtype.kind in "Mbiu"
    ):
        codes, typed = pd.factorize(raw)
        return codes, as_text(pd.Series(typed))
    codes, texts = pd.factorize(as_text(raw))
    return codes, pd.Series(np.asarray(texts, dtype=object), dtype=object)


def _float_values(raw: pd.Series) -> np.ndarray | None:
    """The raw values as a new ``float64`` array (missing: NaN) when they are numbers
    whose text parses back to exactly that float; ``None`` otherwise (text, ``bool``,
    integers beyond 2**53, mixed types ...)."""
    dtype = raw.dtype
    if isinstance(dtype, np.dtype):
        if dtype.kind == "f" and dtype.itemsize <= 8:
            return raw.to_numpy(dtype="float64", copy=True)
        if dtype.kind in "iu":
            out = raw.to_numpy(dtype="float64", copy=True)
            return out if not (np.abs(out) >= _EXACT_INT).any() else None
        if dtype.kind != "O":
            return None
        types = set(map(type, raw.to_numpy()))
        if not types <= {float, int, type(None), type(pd.NA)}:
            return None
        try:
            out = raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        except (OverflowError, TypeError, ValueError):
            return None
        if int in types and (np.abs(out) >= _EXACT_INT).any():
            return None
        return out
    if isinstance(dtype, _MASKED_FLOAT):
        return raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)
    if isinstance(dtype, _MASKED_INT):
        out = raw.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        return out if not (np.abs(out) >= _EXACT_INT).any() else None
    return None


def _by_unique(
    raw: pd.Series, parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]
) -> tuple[pd.Series, pd.Series]:
    """Run ``parse`` once per distinct value (dates, codes and enums repeat a lot)."""
    codes, texts = _distinct_texts(raw)
    vals, reasons = parse(texts)
    values = pd.Series(vals.array.take(codes, allow_fill=True), index=raw.index)
    # position -1 (a missing value) picks the appended None
    why = np.array([*reasons.tolist(), None], dtype=object)[codes]
    return values, pd.Series(why, index=raw.index, dtype=object)


def _reasons(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


def parse_uscc(
    raw: pd.Series, cache: dict[str, tuple[str | None, str | None, list[str]]] | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Validate USCCs: ``(upper-case codes, reasons, position warnings)``.

    Each distinct code is checked once (:func:`ingest.uscc.valid_mask`, vectorised);
    the reason of an invalid code comes from :func:`ingest.uscc.validate`.
    ``cache`` maps a raw code to ``(code, reason, warnings)`` so repeated codes
    (a buyer on thousands of rows) are checked once, across chunks too.
    """
    cache = {} if cache is None else cache
    positions, uniques = _distinct_texts(raw)
    texts: list[str | None] = uniques.tolist()
    # a blank value (text None) is never a key: it stays None, a missing value
    hits: list[tuple[str | None, str | None, list[str]] | None] = list(map(cache.get, cast(list[str], texts)))
    todo = [i for i, h in enumerate(hits) if h is None and texts[i] is not None] if None in hits else []
    if todo:
        fresh = [str(texts[i]) for i in todo]
        valid = uscc.valid_mask(fresh)
        quiet = np.zeros(len(fresh), dtype=bool)  # valid, and no position warnings
        at = np.flatnonzero(valid)
        quiet[at] = uscc.plain_mask([fresh[j] for j in at.tolist()])
        made: list[tuple[str | None, str | None, list[str]] | None] = [
            (t.upper(), None, []) if q else None for t, q in zip(fresh, quiet.tolist(), strict=True)
        ]
        for j in np.flatnonzero(~quiet).tolist():
            t = fresh[j]
            if valid[j]:
                code = t.upper()
                hit: tuple[str | None, str | None, list[str]] = (code, None, uscc.warnings_for(code))
            else:
                try:
                    code = uscc.validate(t)  # the reference names the problem
                    hit = (code, None, uscc.warnings_for(code))
                except InvalidUSCC as exc:
                    hit = (None, f"invalid USCC: {exc}", [])
            made[j] = hit
        for i, h in zip(todo, made, strict=True):
            hits[i] = h
        room = 1_000_000 - len(cache)  # bound the cache on huge files
        if room > 0:
            cache.update(
                zip(
                    fresh[:room],
                    cast(list[tuple[str | None, str | None, list[str]]], made[:room]),
                    strict=True,
                )
            )
    missing: tuple[str | None, str | None, list[str]] = (None, None, [])
    found = (
        [missing if h is None else h for h in hits]
        if None in hits
        else cast(list[tuple[str | None, str | None, list[str]]], hits)
    )
    idx = raw.index
    n = len(found)
    cols = ([h[0] for h in found], [h[1] for h in found], [h[2] or None for h in found])
    # one entry per distinct value, then None for position -1 (a missing value); fromiter keeps lists whole
    return tuple(  # type: ignore[return-value]
        pd.Series(np.fromiter([*c, None], dtype=object, count=n + 1)[positions], index=idx, dtype=object)
        for c in cols
    )


_DATE_RE = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$"
_DATE_COMPACT_RE = r"^(\d{4})(\d{2})(\d{2})$"
_MONTH_RE = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"
_MONTH_COMPACT_RE = r"^(\d{4})(\d{2})$"
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def _ymd(text: pd.Series, patterns: tuple[str, ...], groups: int) -> pd.DataFrame:
    """Year/month/day numbers from the first matching pattern (NaN when none matches)."""
    out = pd.DataFrame(np.nan, index=text.index, columns=["year", "month", "day"])
    s = text.astype(object).where(text.notna(), "")
    s = pd.Series(s.tolist(), index=text.index, dtype=object).astype(str)
    for pat in patterns:
        todo = out["year"].isna()
        if not todo.any():
            break
        found = s[todo].str.extract(pat).astype(float)
        for i, col in enumerate(("year", "month", "day")[:groups]):
            out.loc[todo, col] = found[i].to_numpy()
    if groups == 2:
        out.loc[out["year"].notna(), "day"] = 1.0
    return out


def _to_datetime(ymd: pd.DataFrame) -> pd.Series:
    ok = ymd.notna().all(axis=1) & ymd["year"].between(_MIN_YEAR, _MAX_YEAR)
    result = pd.Series(pd.NaT, index=ymd.index, dtype="datetime64[ns]")
    if ok.any():
        parsed = pd.to_datetime(ymd.loc[ok].astype("int64"), errors="coerce")
        result.loc[ok] = parsed.astype("datetime64[ns]").to_numpy()
    return result


def parse_date(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates (``datetime64[ns]``, midnight) from ISO, slashed, compact or Chinese forms."""
    return _by_unique(raw, _parse_date_text)


def _parse_date_text(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    values = _to_datetime(_ymd(text, (_DATE_RE, _DATE_COMPACT_RE), 3))
    reasons = _reasons(text.index)
    bad = text.notna() & values.isna()
    reasons[bad] = [f"unparseable date: {t!r}" for t in text[bad]]
    return values, reasons


def parse_month(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Months as the first day of the month (``datetime64[ns]``)."""
    return _by_unique(raw, _parse_month_text)


def _parse_month_text(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    ymd = _ymd(text, (_MONTH_RE, _MONTH_COMPACT_RE), 2)
    full = _ymd(text, (_DATE_RE, _DATE_COMPACT_RE), 3)
    use_full = ymd["year"].isna() & full["year"].notna()
    ymd.loc[use_full, ["year", "month"]] = full.loc[use_full, ["year", "month"]].to_numpy()
    ymd.loc[use_full, "day"] = 1.0
    # a full date must itself be a real date before it is cut to its month
    real = _to_datetime(full)
    ymd.loc[use_full & real.isna(), "year"] = np.nan
    values = _to_datetime(ymd)
    reasons = _reasons(text.index)
    bad = text.notna() & values.isna()
    reasons[bad] = [f"unparseable month: {t!r}" for t in text[bad]]
    return values, reasons


def _fmt(x: float) -> str:
    return f"{x:g}"


def parse_number(
    raw: pd.Series,
    *,
    min_value: float | None = None,
    max_value: float | None = None,
    percent: bool = False,
    what: str = "value",
) -> tuple[pd.Series, pd.Series]:
    """Finite floats; ``1,234.5`` accepted; ``85%`` -> 0.85 when ``percent``; range checked.

    Numbers (a numeric dtype, or ``float``/``int`` objects) are taken as they are:
    the same floats as parsing their text; the text is made only for the
    values that get a reason.
    """
    reasons = _reasons(raw.index)
    fast = _float_values(raw)
    if fast is None:
        text = as_text(raw)
        values = pd.to_numeric(text, errors="coerce").astype("float64")
        pct = pd.Series(False, index=raw.index)
        slow = text.notna() & values.isna()
        if slow.any():  # thousands separators, currency signs, percentages
            cleaned = text[slow].map(lambda t: re.sub(r"[,，\s¥￥]", "", t))
            is_pct = cleaned.str.endswith("%").astype(bool)
            cleaned = cleaned.where(~is_pct, cleaned.str[:-1])
            values[slow] = pd.to_numeric(cleaned, errors="coerce").astype("float64")
            pct[slow] = is_pct
        values[~np.isfinite(values)] = np.nan
        bad = text.notna() & values.isna()

        def texts(mask: pd.Series) -> list[str]:
            return text[mask].tolist()
    else:
        # NaN/None are missing (their text is None); inf and -inf are "not a number"
        values = pd.Series(fast, index=raw.index, dtype="float64")
        bad = pd.Series(np.isinf(fast), index=raw.index)
        values[bad] = np.nan
        pct = None

        def texts(mask: pd.Series) -> list[str]:
            return as_text(raw[mask.to_numpy()]).tolist() if mask.any() else []

    reasons[bad] = [f"not a number: {t!r}" for t in texts(bad)]
    if pct is not None and pct.any():
        if percent:
            values[pct] = values[pct] / 100.0
        else:
            reasons[pct] = [f"percentage {t!r} not allowed here" for t in texts(pct)]
            values[pct] = np.nan
    if min_value is not None:
        low = values < min_value
        if min_value == 0.0:
            reasons[low] = [f"negative {what} {t} where {what}s must be >= 0" for t in texts(low)]
        else:
            reasons[low] = [f"{what} {t} is below {_fmt(min_value)}" for t in texts(low)]
        values[low] = np.nan
    if max_value is not None:
        high = values > max_value
        lo = _fmt(min_value) if min_value is not None else "-inf"
        reasons[high] = [f"{what} {t} is out of range [{lo}, {_fmt(max_value)}]" for t in texts(high)]
        values[high] = np.nan
    return values, reasons


def parse_money(
    raw: pd.Series, *, factor: float, min_value: float | None = None
) -> tuple[pd.Series, pd.Series]:
    """Money in yuan: the number times ``factor`` (the manifest's unit factor)."""
    values, reasons = parse_number(raw, min_value=min_value, what="amount")
    return values * factor, reasons


def parse_int(
    raw: pd.Series, *, min_value: float | None = None, max_value: float | None = None
) -> tuple[pd.Series, pd.Series]:
    """Whole numbers as ``Int64`` (``30.0`` accepted, ``30.5`` rejected, beyond 64 bits rejected).

    >>> v, why = parse_int(pd.Series(["30", "30.5", "1e20"]))
    >>> v.tolist(), why.tolist()[1:]
    ([30, <NA>, <NA>], ["not a whole number: '30.5'", "whole number '1e20' out of the 64-bit range"])
    """
    values, reasons = parse_number(raw, min_value=min_value, max_value=max_value)
    frac = values.notna() & (values != np.floor(values))
    if frac.any():
        reasons[frac] = [f"not a whole number: {t!r}" for t in as_text(raw[frac.to_numpy()])]
        values[frac] = np.nan
    # a whole number Int64 cannot hold is a bad row, not a failed table
    huge = values.notna() & (values.abs() >= 2.0**63)
    if huge.any():
        reasons[huge] = [f"whole number {t!r} out of the 64-bit range" for t in as_text(raw[huge.to_numpy()])]
        values[huge] = np.nan
    return values.round().astype("Int64"), reasons


def _enum_key(t: str) -> str:
    return re.sub(r"[\s\-]+", "_", t.strip().lower())


def parse_enum(
    raw: pd.Series, allowed: tuple[str, ...], aliases: Mapping[str, str] = ENUM_ALIASES
) -> tuple[pd.Series, pd.Series]:
    """Canonical enum values; aliases (Chinese, variants) mapped; others rejected."""
    positions, uniques = _distinct_texts(raw)
    out: list[str | None] = []
    reasons: list[str | None] = []
    for t in uniques.tolist():
        if t is None:  # a blank value: missing
            out.append(None)
            reasons.append(None)
            continue
        key = _enum_key(t)
        canon = key if key in allowed else aliases.get(key)
        if canon is None or canon not in allowed:
            out.append(None)
            reasons.append(f"unrecognised value {t!r} (expected one of: {', '.join(allowed)})")
        else:
            out.append(canon)
            reasons.append(None)
    out.append(None)  # position -1: a missing value
    reasons.append(None)
    return (
        pd.Series(np.array(out, dtype=object)[positions], index=raw.index, dtype=object),
        pd.Series(np.array(reasons, dtype=object)[positions], index=raw.index, dtype=object),
    )


def parse_bool(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Booleans (nullable ``boolean``) from true/false, yes/no, 1/0, 是/否."""
    text = as_text(raw)
    out: list[bool | None] = []
    reasons: list[str | None] = []
    for t in text.tolist():
        key = None if t is None else t.lower()
        if key is None:
            out.append(None)
            reasons.append(None)
        elif key in _TRUE or key in _FALSE:
            out.append(key in _TRUE)
            reasons.append(None)
        else:
            out.append(None)
            reasons.append(f"not a boolean: {t!r}")
    return pd.Series(out, index=raw.index, dtype="boolean"), pd.Series(reasons, index=raw.index, dtype=object)


def missing_value(column: Column, index: pd.Index) -> pd.Series:
    """An all-missing column of the dtype ``column``'s kind normalises to."""
    if column.kind in ("date", "month"):
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if column.kind in ("money", "float"):
        return pd.Series(np.nan, index=index, dtype="float64")
    if column.kind == "int":
        return pd.Series(pd.NA, index=index, dtype="Int64")
    if column.kind == "bool":
        return pd.Series(pd.NA, index=index, dtype="boolean")
    return pd.Series([column.default] * len(index), index=index, dtype=object)
