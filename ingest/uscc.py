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

>>> validate("91350100m000100y43")
'91350100M000100Y43'
>>> is_valid("91350100M000100Y44")
False
>>> check_character("91350100M000100Y4")
'3'
"""

from __future__ import annotations

from chainrisk.errors import InvalidUSCC

__all__ = ["ALPHABET", "WEIGHTS", "check_character", "is_valid", "make", "validate", "warnings_for"]

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
        out.append(f"registering authority {up[:1]!r} is not a common one (1, 5, 9, Y)")
    elif up[1:2] not in types:
        out.append(f"entity type {up[1:2]!r} is unusual for authority {up[:1]!r}")
    division = up[2:8]
    if not division.isdigit():
        out.append(f"administrative division {division!r} is not 6 digits")
    elif not (11 <= int(division[:2]) <= 82):
        out.append(f"administrative division {division!r} has no province code 11-82")
    return out
