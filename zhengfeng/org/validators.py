"""Validators for codes and numbers used across the platform (each error says what is wrong)."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

# GB 32100-2015: 18 characters from this 31-character alphabet (no I, O, S, V, Z).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

# Mainland mobile numbers: 11 digits starting 13–19 (MIIT numbering plan), optional +86/86 prefix.
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> None:
    """统一社会信用代码: length, alphabet and the GB 32100 check character."""
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationError(f"统一社会信用代码应为 18 位，当前为 {len(code)} 位：{value}", code="uscc_length")
    bad = sorted({char for char in code if char not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            f"统一社会信用代码含有不允许的字符 {''.join(bad)}（不使用 I、O、S、V、Z）：{value}", code="uscc_alphabet"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise ValidationError(f"统一社会信用代码校验位错误：应为 {expected}，实为 {code[17]}：{value}", code="uscc_check")


def normalise_mobile(value: str) -> str:
    """Return the 11-digit mainland mobile number, or raise ValidationError naming the problem."""
    digits = re.sub(r"[\s\-()（）]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not digits:
        raise ValidationError("手机号码不能为空", code="phone_empty")
    if not digits.isdigit():
        raise ValidationError(f"手机号码只能包含数字：{value}", code="phone_chars")
    if len(digits) != 11:
        raise ValidationError(f"手机号码应为 11 位，当前为 {len(digits)} 位：{value}", code="phone_length")
    if not _MOBILE_RE.match(digits):
        raise ValidationError(f"不是有效的中国大陆手机号码（应以 13–19 开头）：{value}", code="phone_prefix")
    return digits


def validate_division_code(value: str) -> None:
    if not re.fullmatch(r"\d{6}|\d{9}|\d{12}", value or ""):
        raise ValidationError(f"行政区划代码应为 6、9 或 12 位数字（GB/T 2260）：{value}", code="division_code")
