"""`kokuho gassan calc` (高額介護合算療養費, payments.md §2): the spec's worked examples, then one
case per rule — every 所得区分, the age boundaries on the 基準日, the 500-yen rule, the
医療/介護 split, the years without limits — and every refusal. Expected amounts are worked
out by hand in each docstring. The year is 2025 (2025-08-01 … 2026-07-31, 基準日
2026-07-31) unless a test says otherwise."""

import datetime as dt
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from kokuho.benefits.gassan.engine import (
    ELDERLY,
    UNDER70,
    HouseholdYear,
    MemberYear,
    gassan_compute,
    year_rules,
)

EXAMPLES = Path(__file__).with_name("examples")  # copies of ../shared/spec/examples
KOKUHO = Path(sys.executable).with_name("kokuho")

YOUNG = "1968-04-02"  # 58 on the 基準日
OLD = "1953-02-14"  # 73 on the 基準日


def _write(tmp_path: Path, document: dict, name: str = "case.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return path


def calc(tmp_path: Path, document: dict) -> dict:
    out = StringIO()
    call_command("gassan", "calc", str(_write(tmp_path, document)), stdout=out)
    return json.loads(out.getvalue())


def refused(tmp_path: Path, document: dict) -> str:
    path = _write(tmp_path, document)
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("gassan", "calc", str(path), stdout=StringIO(), stderr=err)
    assert exit_.value.code == 2
    message = err.getvalue().strip()
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    return message


def household(category=None, category_70=None, members=(), costs=(), year=2025) -> dict:
    """`members` as (id, birth), `costs` as (person, medical, care)."""
    document: dict = {
        "year": year,
        "members": [{"id": pid, "birth": birth} for pid, birth in members],
        "costs": [{"person": p, "medical": m, "care": c} for p, m, c in costs],
    }
    if category is not None:
        document["household_category"] = category
    if category_70 is not None:
        document["household_category_70"] = category_70
    return document


def young(category="ウ", medical=0, care=0, **kw) -> dict:
    return household(category, members=[("P1", YOUNG)], costs=[("P1", medical, care)], **kw)


def old(category_70="一般", medical=0, care=0, **kw) -> dict:
    return household(None, category_70, [("P1", OLD)], [("P1", medical, care)], **kw)


def limit_steps(got: dict) -> list[str]:
    return [s["step"] for s in got["explanation"] if s["step"] in ("70_74", "household")]


def subset(expected, got) -> bool:
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(
            k in got and subset(v, got[k]) for k, v in expected.items()
        )
    return expected == got


# --- the spec --------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(EXAMPLES.glob("gassan-*.yaml")), ids=lambda p: p.stem)
def test_the_spec_worked_examples(case, tmp_path):
    expected = json.loads(case.with_name(f"{case.stem}.expected.json").read_text())
    got = calc(tmp_path, yaml.safe_load(case.read_text(encoding="utf-8")))
    assert subset(expected, got), (expected, {k: got[k] for k in expected})


def test_the_installed_runner_passes_the_spec_checker():
    """The contract as acceptance runs it: check.py against the console script."""
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "check.py"), str(KOKUHO), "gassan calc", str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    count = len(list(EXAMPLES.glob("gassan-*.yaml")))
    assert f"{count} passed, 0 failed" in run.stdout


# --- limits by 所得区分 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "excess"),
    [("ア", 880000), ("イ", 1590000), ("ウ", 2330000), ("エ", 2400000), ("オ", 2660000)],
)
def test_every_under_70_category(tmp_path, category, excess):
    """Medical 2,000,000 + care 1,000,000 = 3,000,000 less the limit: ア 2,120,000 → 880,000;
    イ 1,410,000 → 1,590,000; ウ 670,000 → 2,330,000; エ 600,000 → 2,400,000; オ 340,000 →
    2,660,000. Split 2 : 1, medical rounded down (ア: 586,666.6… → 586,666)."""
    got = calc(tmp_path, young(category, 2000000, 1000000))
    assert (got["excess"], got["excess_70_74"], got["paid"]) == (excess, 0, True)
    assert got["medical_share"] == excess * 2 // 3
    assert got["medical_share"] + got["care_share"] == excess
    assert limit_steps(got) == ["household"]


@pytest.mark.parametrize(
    ("category", "excess"),
    [
        ("現役並みⅢ", 380000),
        ("現役並みⅡ", 1090000),
        ("現役並みⅠ", 1830000),
        ("一般", 1940000),
        ("低所得Ⅱ", 2190000),
        ("低所得Ⅰ", 2310000),
    ],
)
def test_every_70_74_category_in_a_household_of_70_74_only(tmp_path, category, excess):
    """Medical 1,000,000 + care 1,500,000 = 2,500,000 less the limit: 現役並みⅢ 2,120,000 →
    380,000; Ⅱ 1,410,000 → 1,090,000; Ⅰ 670,000 → 1,830,000; 一般 560,000 → 1,940,000;
    低所得Ⅱ 310,000 → 2,190,000; 低所得Ⅰ 190,000 → 2,310,000. The 70–74 step is the only
    step, so excess = excess_70_74; split 2 : 3 (medical = excess × 2 / 5, exact here)."""
    got = calc(tmp_path, old(category, 1000000, 1500000))
    assert (got["excess"], got["excess_70_74"]) == (excess, excess)
    assert (got["medical_share"], got["care_share"]) == (excess * 2 // 5, excess * 3 // 5)
    assert limit_steps(got) == ["70_74"]


def test_the_roman_numeral_may_be_typed_as_a_digit_or_in_ascii(tmp_path):
    """現役並み3 and 現役並みIII are 現役並みⅢ: 2,500,000 − 2,120,000 = 380,000."""
    for label in ("現役並み3", "現役並みIII"):
        assert calc(tmp_path, old(label, 1000000, 1500000))["excess"] == 380000


def test_nobody_70_74_only_the_household_step(tmp_path):
    """Two under 70, エ: (300,000 + 200,000) + (100,000 + 50,000) = 650,000 − 600,000 =
    50,000; medical 400,000 / 650,000 × 50,000 = 30,769.2… → 30,769, care 19,231."""
    got = calc(
        tmp_path,
        household(
            "エ",
            members=[("P1", YOUNG), ("P2", "1990-01-01")],
            costs=[("P1", 300000, 200000), ("P2", 100000, 50000)],
        ),
    )
    assert (got["excess_70_74"], got["excess"]) == (0, 50000)
    assert (got["medical_share"], got["care_share"]) == (30769, 19231)
    assert limit_steps(got) == ["household"]


# --- mixed households and the split ----------------------------------------------------------


def test_the_split_follows_each_step_and_sums_to_the_excess(tmp_path):
    """G2 (payments.md §2): 70–74 400,000 − 310,000 = 90,000, split 150,000 : 250,000 →
    33,750 : 56,250. Household: medical 60,000 + (150,000 − 33,750) = 176,250, care
    250,000 − 56,250 = 193,750; 370,000 − 340,000 = 30,000 → 30,000 × 176,250 / 370,000 =
    14,290.5… → 14,290, care 15,710. Total medical 48,040, care 71,960 = 120,000."""
    got = calc(tmp_path, yaml.safe_load((EXAMPLES / "gassan-002.yaml").read_text("utf-8")))
    assert (got["excess_70_74"], got["excess"]) == (90000, 120000)
    assert (got["medical_share"], got["care_share"]) == (48040, 71960)
    steps = {s["step"]: s for s in got["explanation"]}
    assert (steps["70_74"]["medical_share"], steps["70_74"]["care_share"]) == (33750, 56250)
    assert (steps["household"]["medical"], steps["household"]["care"]) == (176250, 193750)
    assert (steps["household"]["medical_share"], steps["household"]["care_share"]) == (
        14290,
        15710,
    )
    assert "400,000円 − 算定基準額 310,000円（低所得Ⅱ） = 超過額 90,000円" in steps["70_74"]["text"]
    assert "90,000円 + 30,000円 = 120,000円" in steps["total"]["text"]


def test_a_mixed_household_under_the_70_74_limit_still_pays_on_the_whole(tmp_path):
    """一般 / ウ: 70–74 300,000 + 200,000 = 500,000 ≤ 560,000 → 0; household 500,000 +
    200,000 = 700,000 − 670,000 = 30,000 (medical 500,000 / 700,000 → 21,428.5… → 21,428)."""
    got = calc(
        tmp_path,
        household(
            "ウ",
            "一般",
            [("P1", OLD), ("P2", YOUNG)],
            [("P1", 300000, 200000), ("P2", 200000, 0)],
        ),
    )
    assert (got["excess_70_74"], got["excess"]) == (0, 30000)
    assert (got["medical_share"], got["care_share"]) == (21428, 8572)
    assert limit_steps(got) == ["70_74", "household"]


def test_a_member_listed_twice_in_costs_has_the_amounts_added(tmp_path):
    """Two 証明書 for P1: 400,000 + 300,000 = 700,000 − ウ 670,000 = 30,000."""
    document = young()
    document["costs"] = [{"person": "P1", "medical": 400000}, {"person": "P1", "care": 300000}]
    got = calc(tmp_path, document)
    assert (got["excess"], got["medical_share"], got["care_share"]) == (30000, 17142, 12858)


def test_json_input_and_no_costs(tmp_path):
    """A JSON file reads as YAML; a member without costs has 0 — nothing to pay."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(household("ウ", members=[("P1", YOUNG)])), encoding="utf-8")
    out = StringIO()
    call_command("gassan", "calc", str(path), stdout=out)
    got = json.loads(out.getvalue())
    assert [got[k] for k in ("excess", "paid", "medical_share", "care_share")] == [0, False, 0, 0]


# --- the 500-yen rule ----------------------------------------------------------------------


@pytest.mark.parametrize(("care", "paid"), [(170500, False), (170501, True)])
def test_paid_only_over_500_yen(tmp_path, care, paid):
    """ウ: 500,000 + 170,500 = 670,500 − 670,000 = 500 → not paid, shares 0; one yen more →
    501, paid: medical 501 × 500,000 / 670,501 = 373.6… → 373, care 128."""
    got = calc(tmp_path, young("ウ", 500000, care))
    assert (got["excess"], got["paid"]) == (care - 170000, paid)
    shares = (got["medical_share"], got["care_share"])
    assert shares == ((373, 128) if paid else (0, 0))
    total = next(s for s in got["explanation"] if s["step"] == "total")
    assert ("支給しない" in total["text"]) is not paid


# --- ages on the 基準日 2026-07-31 -----------------------------------------------------------


def test_70_is_reached_on_the_day_before_the_birthday(tmp_path):
    """Born 1956-08-01: 70 on 2026-07-31 (the day before the 70th birthday) → 70–74, and its
    limit: 600,000 − 一般 560,000 = 40,000. Born 1956-08-02: 69 → under 70, ウ: nothing."""
    turning = household(None, "一般", [("P1", "1956-08-01")], [("P1", 600000, 0)])
    got = calc(tmp_path, turning)
    assert (got["excess_70_74"], got["excess"]) == (40000, 40000)
    member = next(s for s in got["explanation"] if s["step"] == "member")
    assert (member["age"], member["group"]) == (70, ELDERLY)
    # Typed as under 70, the member is refused for the category it does not need.
    assert "household_category: 基準日 2026-07-31 に70歳未満の被保険者がいない" in refused(
        tmp_path, household("ウ", None, [("P1", "1956-08-01")])
    )
    under = household("ウ", None, [("P1", "1956-08-02")], [("P1", 600000, 0)])
    got = calc(tmp_path, under)
    member = next(s for s in got["explanation"] if s["step"] == "member")
    assert (member["age"], member["group"], got["excess"]) == (69, UNDER70, 0)


def test_75_ends_nhi_on_the_birthday_itself(tmp_path):
    """Born 1951-07-31: the 75th birthday is the 基準日 → 後期高齢者医療, refused. Born
    1951-08-01: reaches 75 on 7/31 but 後期高齢者医療 starts on 8/1 → still a 70–74 member:
    600,000 − 一般 560,000 = 40,000."""
    message = refused(tmp_path, household(None, "一般", [("P1", "1951-07-31")]))
    assert "members[0].birth" in message
    assert "後期高齢者医療" in message
    got = calc(tmp_path, household(None, "一般", [("P1", "1951-08-01")], [("P1", 0, 600000)]))
    assert got["excess_70_74"] == 40000
    member = next(s for s in got["explanation"] if s["step"] == "member")
    assert member["group"] == ELDERLY
    assert "後期高齢者医療は誕生日から" in member["text"]


# --- years -----------------------------------------------------------------------------------


def test_a_year_before_the_2018_limits_is_refused(tmp_path):
    """2017 (基準日 2018-07-31) is before the first value (2018-08-01); 2018 (基準日
    2019-07-31) is computed: 700,000 − ウ 670,000 = 30,000."""
    message = refused(tmp_path, young("ウ", 700000, year=2017))
    assert "year: 2017年の計算期間（2017-08-01〜2018-07-31" in message
    assert "登録されていません" in message
    got = calc(tmp_path, young("ウ", 700000, year=2018))
    assert (got["excess"], got["reference_day"]) == (30000, "2019-07-31")
    assert {p["name"] for p in got["parameters"]} == {
        "gassan.limits_under70",
        "gassan.limits_70_74",
        "gassan.minimum_payment",
    }


# --- bad input ---------------------------------------------------------------------------------


def _mixed() -> dict:
    return household(
        "ウ", "一般", [("P1", OLD), ("P2", YOUNG)], [("P1", 1000, 1000), ("P2", 1000, 1000)]
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"household_category": "カ"},
            "household_category: 70歳未満の所得区分は ア・イ・ウ・エ・オ",
        ),
        ({"household_category_70": "ウ"}, "household_category_70: 70〜74歳の所得区分は"),
        ({"year": None}, "year: 計算期間の年"),
        ({"year": "令和7"}, "year: 年は4桁の整数"),
        ({"members": []}, "members: 被保険者が1人もいません"),
        (
            {"members": [{"id": "P1", "birth": OLD}, {"id": "P1", "birth": YOUNG}]},
            "members[1].id: id が重複しています",
        ),
        ({"members": [{"id": "P1", "birth": "1953-02-30"}]}, "members[0].birth: 日付は"),
        ({"members": [{"id": "P1", "birth": "2026-08-01"}]}, "members[0].birth: 基準日"),
        ({"members": [{"id": "P1", "birth": OLD, "category": "一般"}]}, "members[0].category"),
        ({"costs": [{"person": "P9", "medical": 1}]}, "costs[0].person: members にない"),
        ({"costs": [{"person": "P1"}, {"person": "P2", "medical": -1}]}, "costs[1].medical: 自己"),
        ({"costs": [{"person": "P1", "care": 1000.5}]}, "costs[0].care: 自己負担額は0以上の整数"),
        ({"costs": [{"person": "P1", "care": "1000"}]}, "costs[0].care"),
        ({"costs": [{"person": "P1", "medica": 1000}]}, "costs[0].medica: 書ける項目は"),
        ({"category": "ウ"}, "category: 所得区分は世帯ごとに"),
    ],
)
def test_bad_input_is_refused_with_its_place_and_reason(tmp_path, change, message):
    assert message in refused(tmp_path, {**_mixed(), **change})


def test_a_category_must_match_the_age_groups_present(tmp_path):
    """Given for a group without a member, or missing for one with a member: refused."""
    only_young = young()
    assert "household_category_70: 基準日 2026-07-31 に70〜74歳の被保険者がいないため" in (
        refused(tmp_path, {**only_young, "household_category_70": "一般"})
    )
    assert "household_category: 基準日 2026-07-31 に70歳未満の被保険者がいない" in refused(
        tmp_path, {**old(), "household_category": "ウ"}
    )
    mixed = _mixed()
    del mixed["household_category"]
    assert "household_category: " in refused(tmp_path, mixed)
    mixed = _mixed()
    del mixed["household_category_70"]
    assert "household_category_70: " in refused(tmp_path, mixed)


def test_the_console_script_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("year: 2025\nhousehold_category: ウ\nmembers: []\n", encoding="utf-8")
    run = subprocess.run(
        [str(KOKUHO), "gassan", "calc", str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert run.stderr.startswith(f"{path}: members:")


# --- properties of the engine ------------------------------------------------------------------

RULES = year_rules(2025)
BIRTHS = {
    UNDER70: [dt.date(1968, 4, 2), dt.date(1990, 1, 1), dt.date(1956, 8, 2)],
    ELDERLY: [dt.date(1953, 2, 14), dt.date(1956, 8, 1), dt.date(1951, 8, 1)],
}
AMOUNTS = st.integers(0, 3_000_000)


@st.composite
def households(draw):
    groups = draw(st.lists(st.sampled_from([UNDER70, ELDERLY]), min_size=1, max_size=4))
    members = tuple(
        MemberYear(f"P{i}", draw(st.sampled_from(BIRTHS[g])), draw(AMOUNTS), draw(AMOUNTS))
        for i, g in enumerate(groups, start=1)
    )
    keys = {g: [k for (group, k) in RULES.bands if group == g] for g in (UNDER70, ELDERLY)}
    return HouseholdYear(
        year=2025,
        category=draw(st.sampled_from(keys[UNDER70])) if UNDER70 in groups else None,
        category_70=draw(st.sampled_from(keys[ELDERLY])) if ELDERLY in groups else None,
        members=members,
    )


@settings(max_examples=300, deadline=None)
@given(households(), st.data())
def test_engine_properties(household, data):
    """The excess is never more than the costs; the 70–74 excess never more than the 70–74
    members' costs; the shares add up to the excess when paid (0 otherwise); and adding
    cost to one member never lowers the excess."""
    outcome = gassan_compute(household, RULES)
    total = sum(m.medical + m.care for m in household.members)
    elderly = sum(
        m.medical + m.care
        for m, line in zip(household.members, outcome.members, strict=True)
        if line.group == ELDERLY
    )
    assert 0 <= outcome.excess <= total
    assert 0 <= outcome.excess_70_74 <= elderly
    assert outcome.paid == (outcome.excess > RULES.minimum_payment)
    if outcome.paid:
        assert outcome.medical_share + outcome.care_share == outcome.excess
        assert 0 <= outcome.medical_share <= sum(m.medical for m in household.members)
        assert 0 <= outcome.care_share <= sum(m.care for m in household.members)
    else:
        assert (outcome.medical_share, outcome.care_share) == (0, 0)
    for step in outcome.steps:
        assert step.medical_share + step.care_share == step.excess
    who = data.draw(st.integers(0, len(household.members) - 1))
    more, side = data.draw(AMOUNTS), data.draw(st.sampled_from(["medical", "care"]))
    member = household.members[who]
    raised = MemberYear(
        member.id,
        member.birth,
        member.medical + (more if side == "medical" else 0),
        member.care + (more if side == "care" else 0),
    )
    members = (*household.members[:who], raised, *household.members[who + 1 :])
    bigger = gassan_compute(
        HouseholdYear(household.year, household.category, household.category_70, members), RULES
    )
    assert bigger.excess >= outcome.excess
    assert bigger.excess_70_74 >= outcome.excess_70_74
