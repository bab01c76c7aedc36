"""The responsibility clause: roles, levels, shared suffixes and open-ended phrases."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from zhengfeng.ledger.models import UnitAlias
from zhengfeng.ledger.plans.clauses import Party, extract_clause, normalise, parse_clause

BOTH = ("city", "county")
CITY = ("city",)


@pytest.fixture
def known(db):
    phrases = set(UnitAlias.objects.values_list("phrase", flat=True))
    return phrases.__contains__


def parties(clause, known):
    return [(p.phrase, p.role, p.levels, p.open_ended) for p in parse_clause(clause, known=known)]


def test_shared_office_suffix_gives_both_offices(known):
    assert parties("由市、各县(市、区)党委、政府办公室和纪检监察机关按职责分工负责落实", known) == [
        ("党委办公室", "responsible", BOTH, False),
        ("政府办公室", "responsible", BOTH, False),
        ("纪检监察机关", "responsible", BOTH, False),
    ]


def test_lead_then_responsible_with_shared_department_suffix(known):
    assert parties("由市、各县(市、区)纪检监察机关牵头，财政、审计部门按职责分工负责落实", known) == [
        ("纪检监察机关", "lead", BOTH, False),
        ("财政部门", "responsible", BOTH, False),
        ("审计部门", "responsible", BOTH, False),
    ]


def test_city_prefix_marks_city_level_and_assist_is_support(known):
    assert parties("由市编办牵头，市法制局协助，各相关部门按职责分工负责落实", known) == [
        ("编办", "lead", CITY, False),
        ("法制局", "support", CITY, False),
        ("各相关部门", "responsible", (), True),
    ]


def test_etc_related_departments_is_open_ended(known):
    assert parties(
        "由市、各县(市、区)财政局、审计局、纪检监察机关、行政(综合)服务中心等相关部门按职责分工负责落实",
        known,
    ) == [
        ("财政局", "responsible", BOTH, False),
        ("审计局", "responsible", BOTH, False),
        ("纪检监察机关", "responsible", BOTH, False),
        ("行政(综合)服务中心", "responsible", BOTH, False),
        ("相关部门", "responsible", (), True),
    ]


def test_cooperate_clause_gives_lead_and_open_support(known):
    assert parties("由市、各县(市、区)纪检监察机关牵头，各相关部门按职责分工配合落实", known) == [
        ("纪检监察机关", "lead", BOTH, False),
        ("各相关部门", "support", (), True),
    ]


def test_alternative_names_pick_the_known_one_and_enumeration_comma_splits_roles(known):
    assert parties("由市、各县(市、区)直属机关工委或承担工委职能的部门牵头、广播电视台负责落实", known) == [
        ("直属机关工委", "lead", BOTH, False),
        ("广播电视台", "responsible", BOTH, False),
    ]


def test_quoted_office_name_and_full_width_brackets(known):
    assert parties("由市、各县（市、区）“正风”办牵头，各地各相关部门按职责分工负责落实", known) == [
        ("正风办", "lead", BOTH, False),
        ("各地各相关部门", "responsible", (), True),
    ]


def test_lead_only_clause(known):
    assert parse_clause("由市、各县(市、区)纪检监察机关牵头落实", known=known) == [
        Party(phrase="纪检监察机关", role="lead", levels=BOTH)
    ]


def test_counties_only_scope(known):
    assert parties("由各县(市、区)财政局负责落实", known) == [("财政局", "responsible", ("county",), False)]


def test_and_inside_a_known_name_is_not_split(known):
    assert parties("由市发展和改革局牵头，相关部门配合", known) == [
        ("发展和改革局", "lead", CITY, False),
        ("相关部门", "support", (), True),
    ]


def test_unknown_name_is_kept_for_the_unmatched_list(known):
    assert parties("由市、各县(市、区)体育局负责落实", known) == [("体育局", "responsible", BOTH, False)]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        ("", "责任分工条款为空："),
        ("由市财政局", "缺少“牵头/负责/协助/配合落实”等用语：由市财政局"),
        ("由市财政局负责落实并报告", "结尾无法识别（“并报告”）"),
        ("由牵头", "“牵头”前没有单位"),
    ],
)
def test_bad_clause_is_refused_with_its_text(known, clause, message):
    with pytest.raises(ValidationError) as exc:
        parse_clause(clause, known=known)
    assert message in exc.value.messages[0]


def test_extract_clause_from_each_bracket_style():
    assert extract_clause("1.甲。内容(来信、来访)。〔由市财政局负责落实〕") == (
        "1.甲。内容(来信、来访)。",
        "由市财政局负责落实",
    )
    assert extract_clause("2.乙。内容。(由市编办牵头，市法制局协助)") == (
        "2.乙。内容。",
        "由市编办牵头，市法制局协助",
    )
    assert extract_clause("3.丙。内容。（由市编办负责落实）") == ("3.丙。内容。", "由市编办负责落实")
    assert extract_clause("4.丁。没有分工。") == ("4.丁。没有分工。", "")


def test_normalise_drops_quotes_and_unifies_brackets():
    assert normalise("“正风”办 行政（综合）服务中心") == "正风办行政(综合)服务中心"
