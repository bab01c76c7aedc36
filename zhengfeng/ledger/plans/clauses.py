"""Read a task's responsibility clause (〔由…负责落实〕) into named parties with roles and levels.

Pure text work, no database: whether a phrase names a known kind of unit is asked through the
`known` callback (the alias table), which the splitter needs to undo shared suffixes such as
"党委、政府办公室" (= 党委办公室 + 政府办公室) and "财政、审计部门" (= 财政部门 + 审计部门).

Grammar, as the plans are written:

    clause   := "由" scope? segment ("，" segment)*
    scope    := "市、各县(市、区)"  (city and every county)  | "各县(市、区)"  (counties only)
    segment  := units verb
    verb     := 牵头[落实] → lead | [按职责分工]负责落实 → responsible | 协助 | 配合 | [按职责分工]配合落实 → support
    units    := unit (("、" | "和" | "及" | "与") unit)* ["等相关部门"]

A unit written with a leading "市" ("市编办") is at city level only; the scope of the clause's first
segment applies to every later segment that has none of its own. Open-ended phrases (各相关部门,
各地各相关部门, 相关部门, 各有关单位 …) are parties without a unit.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from zhengfeng.ledger.models import Level, ResponsibilityRole

CITY_AND_COUNTIES = (Level.CITY.value, Level.COUNTY.value)
CITY_ONLY = (Level.CITY.value,)
COUNTIES_ONLY = (Level.COUNTY.value,)

# Longest first, so "按职责分工负责落实" wins over "负责落实" and "牵头落实" over "牵头".
_VERBS: list[tuple[str, str]] = [
    ("按职责分工负责落实", ResponsibilityRole.RESPONSIBLE),
    ("按职责分工配合落实", ResponsibilityRole.SUPPORT),
    ("按职责分工协助落实", ResponsibilityRole.SUPPORT),
    ("牵头负责落实", ResponsibilityRole.LEAD),
    ("牵头落实", ResponsibilityRole.LEAD),
    ("负责落实", ResponsibilityRole.RESPONSIBLE),
    ("配合落实", ResponsibilityRole.SUPPORT),
    ("协助落实", ResponsibilityRole.SUPPORT),
    ("牵头", ResponsibilityRole.LEAD),
    ("协助", ResponsibilityRole.SUPPORT),
    ("配合", ResponsibilityRole.SUPPORT),
    ("负责", ResponsibilityRole.RESPONSIBLE),
    ("落实", ResponsibilityRole.RESPONSIBLE),
]
_VERB_RE = re.compile("|".join(re.escape(verb) for verb, _ in _VERBS))
_ROLE_OF_VERB = dict(_VERBS)

_SCOPES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"^市[、,，]\s*各县\(市[、,，]区\)"), CITY_AND_COUNTIES),
    (re.compile(r"^市[、,，]\s*县\(市[、,，]区\)"), CITY_AND_COUNTIES),
    (re.compile(r"^各县\(市[、,，]区\)"), COUNTIES_ONLY),
]

_OPEN_ENDED_RE = re.compile(
    r"^(?:各地)?(?:各)?(?:其他)?(?:相关|有关)(?:职能)?(?:部门|单位)$|^各地各(?:部门|单位)$"
)
_ETC_RE = re.compile(r"^(.+?)等((?:其他)?(?:相关|有关)?(?:职能)?(?:部门|单位))$")
_LIST_SEPARATORS = "、和及与,，;；"
# When an item is not a known phrase, it may share the ending of a later item ("财政、审计部门").
GENERIC_SUFFIXES = ("办公室", "部门", "机关", "单位", "中心", "局", "部")
_QUOTES_RE = re.compile(r"[“”\"'‘’「」『』]")
_PUNCT = " \t\u3000，,、；;。."

ROLE_LABELS = dict(ResponsibilityRole.choices)


@dataclass(frozen=True)
class Party:
    """One party a clause names: a kind of unit (phrase) or an open-ended text."""

    phrase: str
    role: str
    levels: tuple[str, ...]
    open_ended: bool = False

    @property
    def open_text(self) -> str:
        return f"{self.phrase}（{ROLE_LABELS[self.role]}）"


def normalise(text: str) -> str:
    """Half-width brackets, no quotes or spaces: "“正风”办" → "正风办", "行政（综合）" → "行政(综合)"."""
    text = text.replace("（", "(").replace("）", ")").replace("〔", "[").replace("〕", "]")
    text = _QUOTES_RE.sub("", text)
    return re.sub(r"\s+", "", text)


def is_open_ended(phrase: str) -> bool:
    return bool(_OPEN_ENDED_RE.match(phrase))


def _split_top_level(text: str, separators: str) -> list[str]:
    """Split on separators outside brackets, so "行政(综合)服务中心" and "县(市、区)" stay whole."""
    parts: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        if depth == 0 and char in separators:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip(_PUNCT) for part in parts if part.strip(_PUNCT)]


def _scope_of(text: str) -> tuple[tuple[str, ...] | None, str]:
    for pattern, levels in _SCOPES:
        match = pattern.match(text)
        if match:
            return levels, text[match.end() :]
    return None, text


def _is_known(phrase: str, known: Callable[[str], bool]) -> bool:
    return known(phrase) or (phrase.startswith("市") and known(phrase[1:]))


def _split_units(text: str, known: Callable[[str], bool]) -> list[tuple[str, bool]]:
    """The unit list of one segment as (phrase, open_ended) pairs, shared suffixes restored."""
    items: list[tuple[str, bool]] = []
    for piece in _split_top_level(text, "、,，;；"):
        # "和/及/与" also occur inside names ("发展和改革局"): split on them only when the whole
        # piece is not a known phrase.
        if _is_known(piece, known) or is_open_ended(piece):
            sub_pieces = [piece]
        else:
            sub_pieces = _split_top_level(piece, "和及与")
        for sub in sub_pieces:
            etc = _ETC_RE.match(sub)
            if etc:
                items.append((etc.group(1), False))
                items.append((_open_phrase(etc.group(2)), True))
            else:
                items.append((sub, is_open_ended(sub)))
    # Restore shared endings: "党委" + "办公室" (from the later "政府办公室").
    restored: list[tuple[str, bool]] = []
    for index, (phrase, open_ended) in enumerate(items):
        if not open_ended and not _is_known(phrase, known):
            phrase = _with_shared_suffix(phrase, items[index + 1 :], known)
        restored.append((phrase, open_ended))
    return restored


def _open_phrase(phrase: str) -> str:
    # "等部门" reads as "相关部门": the plan means the others concerned.
    return phrase if phrase.startswith(("相关", "有关", "其他", "各")) else f"相关{phrase}"


def _with_shared_suffix(phrase: str, later: list[tuple[str, bool]], known: Callable[[str], bool]) -> str:
    for other, open_ended in later:
        if open_ended:
            continue
        for suffix in GENERIC_SUFFIXES:
            if other.endswith(suffix) and not phrase.endswith(suffix):
                candidate = phrase + suffix
                if _is_known(candidate, known):
                    return candidate
    return phrase


def extract_clause(paragraph: str) -> tuple[str, str]:
    """Split a task paragraph into (text before the clause, clause without brackets).

    The clause is the last bracketed part starting with 由: 〔由…〕, (由…) or （由…）. A paragraph
    without one returns an empty clause.
    """
    text = paragraph.rstrip()
    closing = {"〕": "〔", ")": "(", "）": "（", "]": "["}
    if not text or text[-1] not in closing:
        return text, ""
    starts = [text.rfind(f"{opening}由") for opening in ("〔", "(", "（", "[")]
    start = max(starts)
    if start < 0:
        return text, ""
    return text[:start].rstrip(), text[start + 1 : -1].strip()


def parse_clause(clause: str, *, known: Callable[[str], bool]) -> list[Party]:
    """Parties of a clause (the text inside the brackets), in the order written.

    Raises ValidationError naming the clause when it does not follow the grammar above.
    """
    text = normalise(clause)
    if text.startswith("由"):
        text = text[1:]
    if not text:
        raise ValidationError(f"责任分工条款为空：{clause}")
    matches = list(_VERB_RE.finditer(text))
    if not matches:
        raise ValidationError(f"责任分工条款缺少“牵头/负责/协助/配合落实”等用语：{clause}")
    tail = text[matches[-1].end() :].strip(_PUNCT)
    if tail:
        raise ValidationError(f"责任分工条款结尾无法识别（“{tail}”）：{clause}")

    parties: list[Party] = []
    clause_levels: tuple[str, ...] | None = None
    start = 0
    for match in matches:
        segment = text[start : match.start()].strip(_PUNCT)
        start = match.end()
        role = _ROLE_OF_VERB[match.group(0)]
        if not segment:
            # "牵头负责落实" style doubles ("A牵头、负责落实") add nothing new.
            if parties:
                continue
            raise ValidationError(f"责任分工条款中“{match.group(0)}”前没有单位：{clause}")
        levels, segment = _scope_of(segment)
        if levels is None:
            levels = clause_levels or CITY_ONLY
        if clause_levels is None:
            clause_levels = levels
        for phrase, open_ended in _split_units(segment, known):
            if open_ended:
                parties.append(Party(phrase=phrase, role=role, levels=(), open_ended=True))
                continue
            # "直属机关工委或承担工委职能的部门": the first alternative that names a known unit.
            alternatives = [alt for alt in phrase.split("或") if alt]
            chosen = next((alt for alt in alternatives if _is_known(alt, known)), alternatives[0])
            party_levels = levels
            # "市编办" is the city's 编办; "市场监管局" is not a city marker ("场监管局" is unknown).
            if chosen.startswith("市") and known(chosen[1:]):
                chosen, party_levels = chosen[1:], CITY_ONLY
            parties.append(Party(phrase=chosen, role=role, levels=party_levels))
    return parties
