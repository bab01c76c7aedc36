import pytest

from zhengfeng.evaluation.models import Answer
from zhengfeng.evaluation.parsing import parse_reply

S, B, U, NONE = Answer.SATISFIED, Answer.BASIC, Answer.UNSATISFIED, ""

# Replies as people actually type them, and what each one counts as ("" = ask once more).
REPLIES = [
    ("1", S),
    ("2", B),
    ("3", U),
    ("１", S),  # full-width digit from a Chinese IME
    ("３", U),
    (" 2 ", B),
    ("回复1", S),
    ("1。谢谢", S),
    ("1，谢谢你们", S),
    ("我选2", B),
    ("3！！！", U),
    ("满意", S),
    ("非常满意！", S),
    ("很满意", S),
    ("挺满意的", S),
    ("基本满意吧", B),
    ("比较满意", B),
    ("还算满意", B),
    ("不满意，态度差", U),
    ("很不满意", U),
    ("非常不满意!!", U),
    ("不太满意", U),  # decided: a negation of 满意 is 不满意, not 基本满意
    ("不是很满意", U),
    ("满意1", S),  # word and digit agree
    ("1满意", S),
    ("２基本满意", B),
    ("11月20日的检查，满意", S),  # a date's digits are not answers
    ("还行", NONE),  # not on the scale: ask again rather than guess
    ("一般", NONE),
    ("12", NONE),  # two digits: which one?
    ("11", NONE),
    ("5", NONE),
    ("1 2", NONE),  # two answers
    ("满意3", NONE),  # word and digit disagree
    ("满意吗？不满意", NONE),
    ("你们是谁？", NONE),
    ("", NONE),
    ("   ", NONE),
]


@pytest.mark.parametrize(("text", "expected"), REPLIES)
def test_reply_texts(text, expected):
    assert parse_reply(text).answer == expected


def test_the_table_is_long_enough():
    assert len(REPLIES) >= 30


def test_reasons_name_the_problem():
    assert parse_reply("满意3").reason == "含有相互矛盾的评价（满意、不满意）"
    assert parse_reply("还行").reason == "未包含 1、2、3 或满意程度"
    assert parse_reply("1").reason == ""
