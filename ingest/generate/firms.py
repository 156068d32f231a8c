"""Firm attributes: region, industry tier, size, age, balance-sheet scale, USCC and name.

The generator places firms on a small map of Chinese provinces and prefecture-level
cities and in four industry tiers of a manufacturing chain (materials -> parts ->
assembly -> distribution). Size classes follow the Chinese SME standard for
industry (micro < 20 employees, small < 300, medium < 1000, large otherwise).

>>> import numpy as np
>>> from datetime import date
>>> f = make_firms(np.random.default_rng(0), 50, start=date(2021, 1, 1), months=12)
>>> len(f.uscc), bool(f.tier.max() <= 3)
(50, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.uscc import ALPHABET, WEIGHTS

__all__ = [
    "INDUSTRIES",
    "PROVINCES",
    "SIZE_CLASSES",
    "TIERS",
    "FirmTable",
    "make_firms",
    "make_names",
    "make_uscc",
]

#: Industry tiers of the supply chain, upstream first.
TIERS: tuple[str, ...] = ("materials", "parts", "assembly", "distribution")
#: Share of firms in each tier.
TIER_SHARE = np.array([0.20, 0.35, 0.25, 0.20])
#: Illustrative GB/T 4754-2017 class codes per tier, with a short Chinese trade word for names.
INDUSTRIES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("C3110", "钢铁"), ("C3130", "钢材"), ("C2614", "化工"), ("C2651", "塑料"), ("C3216", "铝业")),
    (
        ("C3311", "金属结构"),
        ("C3670", "汽车配件"),
        ("C3981", "电子元件"),
        ("C2922", "塑料制品"),
        ("C3484", "机械零部件"),
    ),
    (("C3911", "电子设备"), ("C3841", "电池"), ("C3441", "泵阀"), ("C3851", "电器"), ("C3411", "锅炉")),
    (("F5174", "五金"), ("F5176", "机电"), ("F5179", "贸易"), ("F5271", "商贸"), ("G5430", "物流")),
)
#: Provinces: (2-digit code, name, relative weight, city count).
PROVINCES: tuple[tuple[str, str, float, int], ...] = (
    ("33", "浙江", 1.00, 11),
    ("44", "广东", 0.95, 12),
    ("32", "江苏", 0.90, 13),
    ("37", "山东", 0.60, 10),
    ("35", "福建", 0.45, 9),
    ("41", "河南", 0.35, 8),
    ("42", "湖北", 0.30, 8),
    ("51", "四川", 0.30, 8),
    ("34", "安徽", 0.25, 8),
    ("31", "上海", 0.25, 1),
)
#: Size classes, smallest first.
SIZE_CLASSES: tuple[str, ...] = ("micro", "small", "medium", "large")
_SIZE_SHARE = np.array([0.55, 0.33, 0.10, 0.02])
_EMPLOYEES = ((1, 20), (20, 300), (300, 1000), (1000, 20000))
#: Median total assets (yuan) per size class.
_ASSETS_MEDIAN = np.array([1.5e6, 1.5e7, 1.5e8, 1.5e9])
#: Preferential-attachment fitness per size class: large firms draw more partners.
_SIZE_FITNESS = np.array([0.7, 1.0, 2.0, 4.0])
_WORDS = np.array(list("华兴达恒鑫宏盛泰隆安永昌瑞丰德信源祥通宇新明金光远佳联创"))
_SUFFIX = np.array(["有限公司", "股份有限公司", "有限责任公司"])


@dataclass(frozen=True, eq=False, kw_only=True)
class FirmTable:
    """The simulated firms, one row per firm, as numpy arrays of equal length.

    Day fields are offsets from the window start; ``founded_month`` is the first
    month index the firm exists (negative for firms older than the window).
    """

    uscc: np.ndarray  # str, 18 characters
    name: np.ndarray  # str (object array)
    tier: np.ndarray  # int8 0..3
    industry: np.ndarray  # int16 index into INDUSTRIES[tier]
    industry_code: np.ndarray  # str
    province: np.ndarray  # int16 index into PROVINCES
    city: np.ndarray  # int32 global city index
    region_code: np.ndarray  # str, 6 digits
    size: np.ndarray  # int8 index into SIZE_CLASSES
    founded_day: np.ndarray  # int32
    founded_month: np.ndarray  # int32
    employees: np.ndarray  # int32
    assets0: np.ndarray  # float64 total assets at the window start (yuan)
    leverage0: np.ndarray  # float64 liabilities / assets at the window start
    fitness: np.ndarray  # float64 attachment fitness
    frailty: np.ndarray  # float64 firm effect on the default log-odds
    city_names: np.ndarray  # str, one per global city
    external_uscc: np.ndarray  # str: counterparties known only from supply rows

    @property
    def n(self) -> int:
        """Number of firms."""
        return len(self.uscc)


def _cities() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Global city table: province index, 6-digit code, name and weight."""
    prov, code, names, weight = [], [], [], []
    for p, (pcode, pname, pw, count) in enumerate(PROVINCES):
        zipf = 1.0 / np.arange(1, count + 1) ** 0.9
        for c in range(count):
            prov.append(p)
            # Prefecture-level cities are numbered 01, 02, ...; Shanghai is the municipality 3101.
            code.append(f"{pcode}{c + 1:02d}00")
            names.append(f"{pname}{c + 1}")
            weight.append(pw * zipf[c] / zipf.sum())
    w = np.array(weight)
    return np.array(prov, dtype=np.int16), np.array(code), np.array(names), w / w.sum()


def make_uscc(rng: np.random.Generator, index: np.ndarray, region_code: np.ndarray) -> np.ndarray:
    """Valid, unique unified social credit codes for enterprises (authority 9, type 1).

    The nine-character organisation code is an affine bijection of ``index`` modulo
    31^9, so distinct indices give distinct codes; the check character is computed
    with the GB 32100-2015 weights, vectorised.

    Parameters
    ----------
    rng : numpy.random.Generator
        Draws the affine map.
    index : numpy.ndarray
        Distinct non-negative integers, one per code.
    region_code : numpy.ndarray
        6-digit division codes (str), one per code.

    Returns
    -------
    numpy.ndarray
        Array of 18-character strings.

    Examples
    --------
    >>> from ingest.uscc import is_valid
    >>> codes = make_uscc(np.random.default_rng(1), np.arange(3), np.array(["330100"] * 3))
    >>> all(is_valid(c) for c in codes), len(set(codes))
    (True, 3)
    """
    space = 31**9
    a = int(rng.integers(1, space // 31)) * 31 + int(rng.integers(1, 31))  # coprime to 31
    b = int(rng.integers(0, space))
    org = (index.astype(object) * a + b) % space  # object ints: the product overflows int64
    org = org.astype(np.int64)
    n = len(index)
    vals = np.empty((n, 17), dtype=np.int64)
    vals[:, 0] = 9
    vals[:, 1] = 1
    digits = np.frombuffer(np.asarray(region_code, dtype="S6").tobytes(), dtype=np.uint8).reshape(n, 6)
    vals[:, 2:8] = digits - ord("0")
    for pos in range(16, 7, -1):
        vals[:, pos] = org % 31
        org //= 31
    total = vals @ np.array(WEIGHTS, dtype=np.int64)
    check = (31 - total % 31) % 31
    alpha = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = alpha[vals]
    chars[:, 17] = alpha[check]
    return chars.view("S18").ravel().astype(str)


def make_names(rng: np.random.Generator, city_name: np.ndarray, trade: np.ndarray) -> np.ndarray:
    """Company names such as ``浙江3华兴钢铁有限公司`` (city, two words, trade, legal form)."""
    n = len(city_name)
    w1 = _WORDS[rng.integers(0, len(_WORDS), n)]
    w2 = _WORDS[rng.integers(0, len(_WORDS), n)]
    suffix = _SUFFIX[rng.choice(3, n, p=[0.8, 0.1, 0.1])]
    joined = pc.binary_join_element_wise(
        pa.array(city_name), pa.array(w1), pa.array(w2), pa.array(trade), pa.array(suffix), ""
    )
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def make_firms(
    rng: np.random.Generator, n: int, *, start: object, months: int, entry_rate: float = 0.03
) -> FirmTable:
    """Draw ``n`` firms.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    n : int
        Number of firms.
    start : datetime.date
        Window start (day 0).
    months : int
        Window length; firms enter during the window at ``entry_rate`` a year.
    entry_rate : float, default 0.03
        Yearly entry as a share of ``n`` (it offsets the firms that default and leave).

    Returns
    -------
    FirmTable
    """
    prov_of_city, city_code, city_name, city_w = _cities()
    tier = rng.choice(4, n, p=TIER_SHARE).astype(np.int8)
    industry = rng.integers(0, 5, n).astype(np.int16)
    codes = np.array([[c for c, _ in t] for t in INDUSTRIES])
    city = rng.choice(len(city_w), n, p=city_w).astype(np.int32)
    size = rng.choice(4, n, p=_SIZE_SHARE).astype(np.int8)
    # Age: exponential with mean 8 years among incumbents; entrants spread over the window.
    entrant = rng.random(n) < entry_rate * months / 12
    founded = np.where(
        entrant,
        rng.integers(0, max(1, int(months * 365.2425 / 12)), n),
        -np.minimum(rng.exponential(8 * 365.25, n), 40 * 365.25).astype(np.int64) - 1,
    ).astype(np.int32)
    # Bigger firms are older: a large firm founded last year is rare.
    founded = np.where((size >= 2) & ~entrant, founded - rng.integers(3 * 365, 10 * 365, n), founded)
    founded_month = np.floor(founded / (365.2425 / 12)).astype(np.int32)
    lo, hi = np.array([e[0] for e in _EMPLOYEES]), np.array([e[1] for e in _EMPLOYEES])
    u = rng.random(n)
    employees = np.floor(np.exp(np.log(lo[size]) + u * (np.log(hi[size]) - np.log(lo[size])))).astype(
        np.int32
    )
    assets0 = _ASSETS_MEDIAN[size] * rng.lognormal(0.0, 0.6, n)
    leverage0 = np.clip(rng.beta(5.5, 4.5, n) + np.where(founded > -3 * 365, 0.08, 0.0), 0.05, 0.97)
    # Pareto noise on top of the size effect gives the heavy tail of degrees.
    fitness = _SIZE_FITNESS[size] * (1.0 + rng.pareto(3.0, n))
    frailty = rng.normal(0.0, 0.5, n)
    region_code = city_code[city]
    trades = np.array([[t for _, t in tier_] for tier_ in INDUSTRIES])
    # One call for firms and external counterparties, so no two codes can collide.
    n_ext = max(10, n * 3 // 100)
    ext_region = city_code[rng.choice(len(city_w), n_ext, p=city_w)]
    codes_all = make_uscc(
        rng, rng.permutation(n + n_ext).astype(np.int64), np.concatenate([region_code, ext_region])
    )
    name = make_names(rng, city_name[city], trades[tier, industry])
    return FirmTable(
        uscc=codes_all[:n],
        name=name,
        tier=tier,
        industry=industry,
        industry_code=codes[tier, industry],
        province=prov_of_city[city],
        city=city,
        region_code=region_code,
        size=size,
        founded_day=founded,
        founded_month=founded_month,
        employees=employees,
        assets0=assets0,
        leverage0=leverage0,
        fitness=fitness,
        frailty=frailty,
        city_names=city_name,
        external_uscc=codes_all[n:],
    )
