"""Validators for codes and numbers used across the platform (each error says what is wrong)."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError

# GB 32100-2015: 18 characters from this 31-character alphabet (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Landlines with their area code (0763 3362187), as citizens give them to the hotline.
_LANDLINE_RE = re.compile(r"^0\d{2,3}\d{7,8}$")
# GB 11643-1999: weights of the first 17 digits and the check character for each remainder mod 11.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"

# Mainland mobile numbers: 11 digits starting 13–19 (MIIT numbering plan), optional +86/86 prefix.
_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters (which must be in the alphabet)."""
    total = sum(
        USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_uscc(value: str) -> str:
    """Trimmed, upper case (people type lower case; the alphabet is upper case only)."""
    return (value or "").strip().upper()


def validate_uscc(value: str) -> None:
    """统一社会信用代码: length, alphabet, the area code and the GB 32100 check character.

    Letters are accepted in any case (the model stores what `normalise_uscc` returns).
    """
    code = normalise_uscc(value)
    if len(code) != 18:
        raise ValidationError(
            f"统一社会信用代码应为 18 位，当前为 {len(code)} 位：{value}", code="uscc_length"
        )
    bad = sorted({char for char in code if char not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            f"统一社会信用代码含有不允许的字符 {''.join(bad)}（不使用 I、O、S、V、Z）：{value}",
            code="uscc_alphabet",
        )
    # Characters 3–8 are the registering authority's GB/T 2260 division code: always digits.
    if not code[2:8].isdigit():
        raise ValidationError(
            f"统一社会信用代码第 3–8 位应为行政区划代码（6 位数字），实为 {code[2:8]}：{value}",
            code="uscc_area",
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(
            f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]}：{value}", code="uscc_check"
        )


def normalise_mobile(value: str) -> str:
    """Return the 11-digit mainland mobile number, or raise ValidationError naming the problem."""
    # NFKC turns full-width digits and signs (１３８, ＋８６) typed with a Chinese IME into ASCII.
    digits = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", value or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits:
        raise ValidationError("手机号码不能为空", code="phone_empty")
    if not (digits.isascii() and digits.isdigit()):
        raise ValidationError(f"手机号码只能包含数字：{value}", code="phone_chars")
    if len(digits) != 11:
        raise ValidationError(f"手机号码应为 11 位，当前为 {len(digits)} 位：{value}", code="phone_length")
    if not _MOBILE_RE.match(digits):
        raise ValidationError(f"不是有效的中国大陆手机号码（应以 13–19 开头）：{value}", code="phone_prefix")
    return digits


def validate_division_code(value: str) -> None:
    if not re.fullmatch(r"[0-9]{6}|[0-9]{9}|[0-9]{12}", value or ""):
        raise ValidationError(
            f"行政区划代码应为 6、9 或 12 位数字（GB/T 2260）：{value}", code="division_code"
        )


def normalise_phone(value: str) -> str:
    """A mainland mobile (11 digits) or a landline with area code (0763xxxxxxx); else ValidationError."""
    cleaned = re.sub(r"[\s\-()]", "", str(value or ""))
    if _LANDLINE_RE.match(cleaned):
        return cleaned
    return normalise_mobile(value)


def is_mobile(phone: str) -> bool:
    return len(phone) == 11 and phone.startswith("1")


def validate_id_number(value: str) -> str:
    """18-character resident ID (GB 11643-1999) with its check character; returns it upper-cased."""
    number = re.sub(r"\s", "", str(value or "")).upper()
    if len(number) != 18 or not number[:17].isdigit() or number[17] not in "0123456789X":
        raise ValidationError(f"身份证号码应为 18 位（前 17 位为数字，末位为数字或 X）：{value}")
    expected = _ID_CHECK[sum(int(c) * w for c, w in zip(number[:17], _ID_WEIGHTS, strict=True)) % 11]
    if number[17] != expected:
        raise ValidationError(f"身份证号码校验位错误：应为 {expected}，实为 {number[17]}：{value}")
    return number
