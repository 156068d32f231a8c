"""Unified social credit codes (统一社会信用代码, GB 32100-2015).

An 18-character code over the 31-character alphabet ``0-9 A-H J-N P-R T-U W-Y``
(no I, O, S, V, Z), whose characters take the values 0..30 in that order:

- position 1: registering authority; position 2: entity type;
- positions 3-8: administrative division; positions 9-17: organisation code;
- position 18: check character ``c`` with

  .. math:: c = 31 - \\Big(\\sum_{i=1}^{17} v_i\\, w_i \\bmod 31\\Big),\\quad w_i = 3^{i-1} \\bmod 31,

  where 31 becomes 0.

Validation is case-insensitive; the stored form is upper case. Position checks
(authority and division code) are warnings, not rejections: see :func:`warnings_for`.

:func:`valid_mask` and :func:`plain_mask` are the vectorised forms of
:func:`is_valid` and of "no :func:`warnings_for`", for many codes at once (the
validation hot path); they use the same constants as the scalar checks. NumPy is
imported on their first call, so that ``import ingest.uscc`` stays light.

>>> validate("91350100m000100y43")
'91350100M000100Y43'
>>> is_valid("91350100M000100Y44")
False
>>> check_character("91350100M000100Y4")
'3'
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from chainrisk.errors import InvalidUSCC

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = [
    "ALPHABET",
    "WEIGHTS",
    "check_character",
    "is_valid",
    "make",
    "plain_mask",
    "valid_mask",
    "validate",
    "warnings_for",
]

#: The 31 characters of the code, in value order.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
#: Weights of positions 1..17: 3^(i-1) mod 31.
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

#: Registering authorities (position 1) and the entity types (position 2) each allows.
_AUTHORITY_TYPES: dict[str, str] = {
    "1": "129",  # institutional organ establishment
    "5": "1239",  # civil affairs
    "9": "123",  # industry and commerce (enterprises, individual businesses, farmer co-ops)
    "Y": "1",  # other
}
#: Province codes (first two digits of the administrative division) with no position warning.
_PROVINCE_MIN, _PROVINCE_MAX = 11, 82


def check_character(first17: str) -> str:
    """The check character for the first 17 characters (upper case expected).

    Raises:
        InvalidUSCC: ``first17`` is not 17 characters of the alphabet.
    """
    if len(first17) != 17 or any(ch not in _VALUE for ch in first17):
        raise InvalidUSCC(f"{first17!r} is not 17 characters of the USCC alphabet", code=first17)
    total = sum(_VALUE[ch] * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def validate(code: str) -> str:
    """Return ``code`` upper-cased if it is a valid USCC, else raise :class:`InvalidUSCC`.

    The message names the expected check character when the first 17 characters
    are well formed.

    >>> validate("91350100M000100Y44")
    Traceback (most recent call last):
    ...
    chainrisk.errors.InvalidUSCC: USCC '91350100M000100Y44' has check character '4', expected '3'
    """
    if not isinstance(code, str):
        raise InvalidUSCC(f"USCC must be a string, got {type(code).__name__}", code=str(code))
    up = code.strip().upper()
    if len(up) != 18:
        raise InvalidUSCC(f"USCC {code!r} has {len(up)} characters, expected 18", code=code)
    bad = sorted({ch for ch in up if ch not in _VALUE})
    if bad:
        raise InvalidUSCC(
            f"USCC {code!r} contains characters outside the USCC alphabet: {''.join(bad)!r} "
            "(I, O, S, V and Z are never used)",
            code=code,
        )
    expected = check_character(up[:17])
    if up[17] != expected:
        raise InvalidUSCC(
            f"USCC {code!r} has check character {up[17]!r}, expected {expected!r}",
            code=code,
            expected_check=expected,
        )
    return up


def is_valid(code: object) -> bool:
    """Whether ``code`` is a valid USCC (case-insensitive)."""
    try:
        validate(code)  # type: ignore[arg-type]
    except InvalidUSCC:
        return False
    return True


def make(first17: str) -> str:
    """Complete 17 characters into a valid code by appending the check character.

    >>> make("91350100M000100Y4")
    '91350100M000100Y43'
    """
    up = first17.upper()
    return up + check_character(up)


def warnings_for(code: str) -> list[str]:
    """Position checks that do not reject a code: unknown authority or entity type, odd division."""
    up = code.strip().upper()
    out: list[str] = []
    types = _AUTHORITY_TYPES.get(up[:1])
    if types is None:
        out.append(f"registering authority {up[:1]!r} is not a common one ({', '.join(_AUTHORITY_TYPES)})")
    elif up[1:2] not in types:
        out.append(f"entity type {up[1:2]!r} is unusual for authority {up[:1]!r}")
    division = up[2:8]
    if not division.isdigit():
        out.append(f"administrative division {division!r} is not 6 digits")
    elif not (_PROVINCE_MIN <= int(division[:2]) <= _PROVINCE_MAX):
        provinces = f"{_PROVINCE_MIN}-{_PROVINCE_MAX}"
        out.append(f"administrative division {division!r} has no province code {provinces}")
    return out


@cache
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables of the vectorised checks, made once from the constants above.

    - character code (ASCII) -> value (:data:`ALPHABET` order), -1 outside the
      alphabet; lower case accepted;
    - :data:`WEIGHTS` as an array;
    - (authority, entity type) character codes with no position warning
      (:func:`warnings_for`); any case.
    """
    import numpy as np

    lut = np.full(128, -1, dtype=np.int64)
    for i, ch in enumerate(ALPHABET):
        lut[ord(ch)] = i
        lut[ord(ch.lower())] = i
    weights = np.asarray(WEIGHTS, dtype=np.int64)
    plain_pair = np.zeros((128, 128), dtype=bool)
    for auth, types in _AUTHORITY_TYPES.items():
        for t in types:
            for a in {auth, auth.lower()}:
                for b in {t, t.lower()}:
                    plain_pair[ord(a), ord(b)] = True
    return lut, weights, plain_pair


def valid_mask(codes: Sequence[str]) -> np.ndarray:
    """Which of ``codes`` are valid USCCs (case-insensitive), vectorised.

    Same answer as :func:`is_valid` for stripped ``str`` codes: the
    characters are mapped to their values through a lookup table, the check
    character is the weights' dot product mod 31. Codes that are not 18 ASCII
    characters are invalid.

    >>> valid_mask(["91350100M000100Y43", "91350100m000100y43", "91350100M000100Y44", "9135"]).tolist()
    [True, True, False, False]
    """
    import numpy as np

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
    lut, weights, _ = _tables()
    vals = lut[np.where(chars < 128, chars, 0)]
    in_alphabet = ascii_ & (vals >= 0).all(axis=1)
    check = (31 - (vals[:, :17] @ weights) % 31) % 31
    ok[np.flatnonzero(sized)] = in_alphabet & (vals[:, 17] == check)
    return ok


def plain_mask(codes: Sequence[str]) -> np.ndarray:
    """Which of ``codes`` (valid USCCs, 18 ASCII characters, any case) have no position warnings.

    Vectorised :func:`warnings_for`: a known authority with one of its
    entity types, six digits of division with a province code 11-82. A code
    not plain is passed to ``warnings_for`` for the messages.

    >>> plain_mask(["91350100M000100Y43", "81350100M000100Y4X", "91990100M000100Y4X"]).tolist()
    [True, False, False]
    """
    import numpy as np

    if not len(codes):
        return np.zeros(0, dtype=bool)
    chars = np.asarray(codes, dtype="U18").view(np.uint32).reshape(-1, 18).astype(np.int64)
    ascii_ = (chars[:, :8] < 128).all(axis=1)
    head = np.where(chars[:, :8] < 128, chars[:, :8], 0)
    pair = _tables()[2][head[:, 0], head[:, 1]]
    digits = ((head[:, 2:8] >= ord("0")) & (head[:, 2:8] <= ord("9"))).all(axis=1)
    province = (head[:, 2] - ord("0")) * 10 + (head[:, 3] - ord("0"))
    return ascii_ & pair & digits & (province >= _PROVINCE_MIN) & (province <= _PROVINCE_MAX)
