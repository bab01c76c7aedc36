import pytest
from django.core.exceptions import ValidationError

from zhengfeng.org.validators import (
    normalise_mobile,
    uscc_check_character,
    validate_division_code,
    validate_uscc,
)

# Published codes: the example of GB 32100-2015 itself and two registered companies.
REAL_USCCS = ["91350100M000100Y43", "914403001922038216", "91110000600037341L"]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_uscc_is_valid(code):
    validate_uscc(code)
    assert uscc_check_character(code[:17]) == code[17]


def test_uscc_in_lower_case_and_with_spaces_is_accepted():
    validate_uscc(" 91110000600037341l ")


def test_uscc_check_character_of_a_made_up_code():
    assert uscc_check_character("11441800DM0000001") == "Y"
    validate_uscc("11441800DM0000001Y")


def test_uscc_with_wrong_check_character_names_the_right_one():
    with pytest.raises(ValidationError) as exc:
        validate_uscc("91350100M000100Y44")
    assert exc.value.messages == ["统一社会信用代码校验位错误：应为 3，实为 4：91350100M000100Y44"]


@pytest.mark.parametrize("length", [17, 19])
def test_uscc_of_wrong_length(length):
    code = ("91350100M000100Y43" + "1")[:length]
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.messages == [f"统一社会信用代码应为 18 位，当前为 {length} 位：{code}"]


@pytest.mark.parametrize("letter", ["I", "O", "S", "V", "Z"])
def test_uscc_refuses_letters_outside_the_alphabet(letter):
    code = f"91350100M000100{letter}43"
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.messages == [
        f"统一社会信用代码含有不允许的字符 {letter}（不使用 I、O、S、V、Z）：{code}"
    ]


def test_uscc_area_code_must_be_digits():
    first17 = "91A50100M000100Y4"
    code = first17 + uscc_check_character(first17)
    with pytest.raises(ValidationError) as exc:
        validate_uscc(code)
    assert exc.value.messages == [
        f"统一社会信用代码第 3–8 位应为行政区划代码（6 位数字），实为 A50100：{code}"
    ]


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "8613812345678",
        "008613812345678",
        "(+86)13812345678",
        "１３８１２３４５６７８",
    ],
)
def test_mobile_numbers_are_normalised(raw):
    assert normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "手机号码不能为空"),
        ("1381234567", "手机号码应为 11 位，当前为 10 位：1381234567"),
        ("138123456789", "手机号码应为 11 位，当前为 12 位：138123456789"),
        ("12812345678", "不是有效的中国大陆手机号码（应以 13–19 开头）：12812345678"),
        ("1381234567a", "手机号码只能包含数字：1381234567a"),
        ("0763-3371234", "不是有效的中国大陆手机号码（应以 13–19 开头）：0763-3371234"),
    ],
)
def test_invalid_mobile_numbers(raw, message):
    with pytest.raises(ValidationError) as exc:
        normalise_mobile(raw)
    assert exc.value.messages == [message]


@pytest.mark.parametrize("code", ["441800", "441802001", "441802001001"])
def test_division_codes(code):
    validate_division_code(code)


@pytest.mark.parametrize("code", ["4418", "44180", "4418000", "44180A", "４４１８００"])
def test_bad_division_codes(code):
    with pytest.raises(ValidationError) as exc:
        validate_division_code(code)
    assert exc.value.messages == [f"行政区划代码应为 6、9 或 12 位数字（GB/T 2260）：{code}"]


def test_resident_id_number_with_its_check_character():
    from zhengfeng.org.validators import validate_id_number

    # GB 11643-1999 example: 11010519491231002X.
    assert validate_id_number("11010519491231002x") == "11010519491231002X"
    with pytest.raises(ValidationError, match="校验位错误：应为 X，实为 1"):
        validate_id_number("110105194912310021")
    with pytest.raises(ValidationError, match="应为 18 位"):
        validate_id_number("1101051949123100")


def test_phone_accepts_a_landline_with_area_code_or_a_mobile():
    from zhengfeng.org.validators import is_mobile, normalise_phone

    assert normalise_phone("0763-3362187") == "07633362187"
    assert normalise_phone("138 1234 5678") == "13812345678"
    assert (is_mobile("07633362187"), is_mobile("13812345678")) == (False, True)
    with pytest.raises(ValidationError):
        normalise_phone("3362187")
