"""Masking filters for personal data in every list: {{ phone|mask_phone }} → 138****5678."""

from django import template

from zhengfeng.core import crypto

register = template.Library()


@register.filter
def mask_phone(value: str | None) -> str:
    return crypto.mask_phone(value) if value else ""


@register.filter
def mask_name(value: str | None) -> str:
    return crypto.mask_name(value) if value else ""


@register.filter
def mask_id_number(value: str | None) -> str:
    return crypto.mask_id_number(value) if value else ""
