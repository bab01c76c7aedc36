"""Reading a citizen's SMS reply as 1 满意 / 2 基本满意 / 3 不满意 (rules and examples: docs/evaluation.md).

1. NFKC first: full-width digits and punctuation typed with a Chinese IME (１, ！) become ASCII.
2. Words: 不满意 and its softer or stronger negations (很不满意, 不太满意, 不是很满意) → 不满意;
   基本满意 / 比较满意 / 还算满意 → 基本满意; 满意 / 很满意 / 非常满意 / 挺满意 → 满意.
3. Digits: every run of digits is read; a run that is exactly 1, 2 or 3 is an answer, any other run
   (a date, "12", "10") is not.
4. The reply is valid when all the answers found (words and digits) agree; "满意1" is 满意,
   "满意3" and "1 2" are ambiguous. Nothing found (还行, 一般, 12) is not an answer either: both get
   one SMS asking again rather than a guess.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from zhengfeng.evaluation.models import Answer

DIGIT_ANSWERS = {"1": Answer.SATISFIED, "2": Answer.BASIC, "3": Answer.UNSATISFIED}

# Alternatives are tried left to right at each position, so the negated and qualified forms must
# come before plain 满意 (which would otherwise match inside them).
_WORDS = re.compile(
    r"(?P<unsatisfied>(?:很|非常|十分|特别|极其|极)?不(?:是很|是太|是非常|是特别|太|大|很|怎么|够|甚)?满意)"
    r"|(?P<basic>(?:基本|比较|还算|较为|还比较|基本上|一般)满意)"
    r"|(?P<satisfied>(?:很|非常|十分|特别|挺|相当|超级|超)?满意)"
)
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Parsed:
    answer: str  # an Answer value, or "" when the reply is not a valid answer
    reason: str  # "" for a valid answer; otherwise why not, for the log

    @property
    def valid(self) -> bool:
        return bool(self.answer)


def normalise(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or ""))


def parse_reply(text: str) -> Parsed:
    cleaned = normalise(text)
    if not cleaned:
        return Parsed("", "空白回复")
    found: set[str] = {match.lastgroup for match in _WORDS.finditer(cleaned) if match.lastgroup}
    # Digits glued to letters or words still count ("回复1", "1满意"): \d+ needs no word boundary.
    found |= {DIGIT_ANSWERS[run] for run in _DIGITS.findall(cleaned) if run in DIGIT_ANSWERS}
    if not found:
        return Parsed("", "未包含 1、2、3 或满意程度")
    if len(found) > 1:
        labels = "、".join(Answer(value).label for value in sorted(found))
        return Parsed("", f"含有相互矛盾的评价（{labels}）")
    return Parsed(found.pop(), "")
