"""Column parsers: raw values -> normalised values plus a reason per bad value.

Every parser takes the raw column (object Series, any index) and returns
``(values, reasons)``, both aligned with the input: ``values`` holds the
normalised value (missing where the raw value was missing or bad), ``reasons``
``None`` for a good or missing value and a sentence for a bad one. Whether a
missing value is allowed is decided by the caller (``ingest.validate``).

>>> v, r = parse_money(pd.Series(["1,200.5", "-3", "abc", None]), factor=10_000.0, min_value=0.0)
>>> v.tolist()[:1], r.tolist()[1:3]
([12005000.0], ['negative amount -3 where amounts must be >= 0', "not a number: 'abc'"])
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from chainrisk.errors import InvalidUSCC
from ingest import uscc as uscc_mod
from ingest.tables import CLASSIFICATIONS, Column

__all__ = [
    "ENUM_ALIASES",
    "as_text",
    "parse_bool",
    "parse_date",
    "parse_enum",
    "parse_int",
    "parse_money",
    "parse_month",
    "parse_number",
    "parse_uscc",
    "uscc_valid_mask",
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


def _to_text(v: object) -> str | None:
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
    out = [(v.strip() or None) if type(v) is str else _to_text(v) for v in raw.tolist()]
    return pd.Series(out, index=raw.index, dtype=object)


def _by_unique(
    text: pd.Series, parse: Callable[[pd.Series], tuple[pd.Series, pd.Series]]
) -> tuple[pd.Series, pd.Series]:
    """Run ``parse`` once per distinct value (dates, codes and enums repeat a lot)."""
    codes, uniques = pd.factorize(text)
    vals, reasons = parse(pd.Series(np.asarray(uniques, dtype=object), dtype=object))
    values = pd.Series(vals.array.take(codes, allow_fill=True), index=text.index)
    # position -1 (a missing value) picks the appended None
    why = np.array([*reasons.tolist(), None], dtype=object)[codes]
    return values, pd.Series(why, index=text.index, dtype=object)


def _reasons(index: pd.Index) -> pd.Series:
    return pd.Series([None] * len(index), index=index, dtype=object)


#: Character code (ASCII) -> USCC value, -1 for characters outside the alphabet; lower case accepted.
_USCC_LUT: np.ndarray = np.full(128, -1, dtype=np.int64)
for _i, _ch in enumerate(uscc_mod.ALPHABET):
    _USCC_LUT[ord(_ch)] = _i
    _USCC_LUT[ord(_ch.lower())] = _i
_USCC_WEIGHTS: np.ndarray = np.asarray(uscc_mod.WEIGHTS, dtype=np.int64)


def uscc_valid_mask(codes: Sequence[str]) -> np.ndarray:
    """Which of ``codes`` are valid USCCs (case-insensitive), vectorised.

    Same answer as :func:`ingest.uscc.is_valid` for stripped ``str`` codes: the
    characters are mapped to their values through a lookup table, the check
    character is the weights' dot product mod 31. Codes that are not 18 ASCII
    characters are invalid.

    >>> uscc_valid_mask(["91350100M000100Y43", "91350100m000100y43", "91350100M000100Y44", "9135"]).tolist()
    [True, True, False, False]
    """
    n = len(codes)
    ok = np.zeros(n, dtype=bool)
    if n == 0:
        return ok
    arr = np.asarray(codes, dtype=object).astype("U")
    if arr.dtype.itemsize // 4 < 18:  # every code is shorter than 18 characters
        return ok
    sized = np.char.str_len(arr) == 18
    if not sized.any():
        return ok
    chars = arr[sized].astype("U18").view(np.uint32).reshape(-1, 18)
    ascii_ = (chars < 128).all(axis=1)
    vals = _USCC_LUT[np.where(chars < 128, chars, 0)]
    in_alphabet = ascii_ & (vals >= 0).all(axis=1)
    check = (31 - (vals[:, :17] @ _USCC_WEIGHTS) % 31) % 31
    ok[np.flatnonzero(sized)] = in_alphabet & (vals[:, 17] == check)
    return ok


def parse_uscc(
    raw: pd.Series, cache: dict[str, tuple[str | None, str | None, list[str]]] | None = None
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Validate USCCs: ``(upper-case codes, reasons, position warnings)``.

    Each distinct code is checked once (:func:`uscc_valid_mask`, vectorised);
    the reason of an invalid code comes from :func:`ingest.uscc.validate`.
    ``cache`` maps a raw code to ``(code, reason, warnings)`` so repeated codes
    (a buyer on thousands of rows) are checked once, across chunks too.
    """
    cache = {} if cache is None else cache
    positions, uniques = pd.factorize(as_text(raw))
    texts: list[str] = uniques.tolist()
    hits: list[tuple[str | None, str | None, list[str]] | None] = [cache.get(t) for t in texts]
    todo = [i for i, h in enumerate(hits) if h is None]
    if todo:
        fresh = [texts[i] for i in todo]
        valid = uscc_valid_mask(fresh)
        for i, t, good in zip(todo, fresh, valid.tolist(), strict=True):
            if good:
                code = t.upper()
                hit: tuple[str | None, str | None, list[str]] = (code, None, uscc_mod.warnings_for(code))
            else:
                try:
                    code = uscc_mod.validate(t)  # the reference names the problem
                    hit = (code, None, uscc_mod.warnings_for(code))
                except InvalidUSCC as exc:
                    hit = (None, f"invalid USCC: {exc}", [])
            hits[i] = hit
            if len(cache) < 1_000_000:  # bound the cache on huge files
                cache[t] = hit
    results = [(h[0], h[1], h[2] or None) for h in hits if h is not None]
    results.append((None, None, None))  # position -1: a missing value
    idx = raw.index
    cols = [np.array([r[k] for r in results], dtype=object)[positions] for k in range(3)]
    return tuple(pd.Series(c, index=idx, dtype=object) for c in cols)  # type: ignore[return-value]


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
    return _by_unique(as_text(raw), _parse_date_text)


def _parse_date_text(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    values = _to_datetime(_ymd(text, (_DATE_RE, _DATE_COMPACT_RE), 3))
    reasons = _reasons(text.index)
    bad = text.notna() & values.isna()
    reasons[bad] = [f"unparseable date: {t!r}" for t in text[bad]]
    return values, reasons


def parse_month(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Months as the first day of the month (``datetime64[ns]``)."""
    return _by_unique(as_text(raw), _parse_month_text)


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
    """Finite floats; ``1,234.5`` accepted; ``85%`` -> 0.85 when ``percent``; range checked."""
    text = as_text(raw)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    reasons = _reasons(raw.index)
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
    reasons[bad] = [f"not a number: {t!r}" for t in text[bad]]
    if pct.any():
        if percent:
            values[pct] = values[pct] / 100.0
        else:
            reasons[pct] = [f"percentage {t!r} not allowed here" for t in text[pct]]
            values[pct] = np.nan
    if min_value is not None:
        low = values < min_value
        if min_value == 0.0:
            reasons[low] = [f"negative {what} {t} where {what}s must be >= 0" for t in text[low]]
        else:
            reasons[low] = [f"{what} {t} is below {_fmt(min_value)}" for t in text[low]]
        values[low] = np.nan
    if max_value is not None:
        high = values > max_value
        lo = _fmt(min_value) if min_value is not None else "-inf"
        reasons[high] = [f"{what} {t} is out of range [{lo}, {_fmt(max_value)}]" for t in text[high]]
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
    """Whole numbers as ``Int64`` (``30.0`` accepted, ``30.5`` rejected)."""
    values, reasons = parse_number(raw, min_value=min_value, max_value=max_value)
    frac = values.notna() & (values != np.floor(values))
    text = as_text(raw)
    reasons[frac] = [f"not a whole number: {t!r}" for t in text[frac]]
    values[frac] = np.nan
    return values.round().astype("Int64"), reasons


def _enum_key(t: str) -> str:
    return re.sub(r"[\s\-]+", "_", t.strip().lower())


def parse_enum(
    raw: pd.Series, allowed: tuple[str, ...], aliases: Mapping[str, str] = ENUM_ALIASES
) -> tuple[pd.Series, pd.Series]:
    """Canonical enum values; aliases (Chinese, variants) mapped; others rejected."""
    positions, uniques = pd.factorize(as_text(raw))
    out: list[str | None] = []
    reasons: list[str | None] = []
    for t in uniques.tolist():
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
