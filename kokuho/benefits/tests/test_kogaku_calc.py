"""`kokuho kogaku calc`: the spec's worked examples, then one case per rule of benefits.md §4
and per parameter change date. Expected amounts are worked out by hand in each docstring."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command

EXAMPLES = Path(__file__).with_name("examples")  # copies of ../shared/spec/examples
KOKUHO = Path(sys.executable).with_name("kokuho")


def calc(tmp_path: Path, document: dict, *options: str) -> dict:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    out = StringIO()
    call_command("kogaku", "calc", str(path), *options, stdout=out)
    return json.loads(out.getvalue())


def refused(tmp_path: Path, document: dict, *options: str) -> str:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    err = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("kogaku", "calc", str(path), *options, stdout=StringIO(), stderr=err)
    assert exit_.value.code == 2
    return err.getvalue()


def claim(person="P1", provider="3810000011", setting="inpatient", kind="medical", **kw):
    return {"person": person, "provider": provider, "setting": setting, "kind": kind, **kw}


def one(category="ウ", birth="1975-06-01", month="2026-07", claims=(), prior=(), **member):
    return {
        "month": month,
        "members": [{"id": "P1", "birth": birth, "category": category, **member}],
        "prior_high_cost_months": list(prior),
        "claims": list(claims),
    }


def subset(expected, got) -> bool:
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(
            k in got and subset(v, got[k]) for k, v in expected.items()
        )
    return expected == got


@pytest.mark.parametrize("case", sorted(EXAMPLES.glob("kogaku-*.yaml")), ids=lambda p: p.stem)
def test_the_spec_worked_examples(case, tmp_path):
    expected = json.loads(case.with_name(f"{case.stem}.expected.json").read_text())
    got = calc(tmp_path, yaml.safe_load(case.read_text(encoding="utf-8")))
    assert subset(expected, got), (expected, {k: got[k] for k in expected})


def test_the_installed_runner_passes_the_spec_checker():
    """The contract as acceptance runs it: check.py against the console script."""
    run = subprocess.run(
        [sys.executable, str(EXAMPLES / "check.py"), str(KOKUHO), "kogaku calc", str(EXAMPLES)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "5 passed, 0 failed" in run.stdout


# --- under 70: limits by period ---------------------------------------------------------


def test_before_2015_the_three_old_categories_apply(tmp_path):
    """2014-12, 一般: 80,100 + (1,000,000 − 267,000) × 1% = 87,430 → 212,570.
    上位所得: 150,000 + (1,000,000 − 500,000) × 1% = 155,000 → 145,000."""
    inpatient = [claim(points=100000, copay=300000)]
    general = calc(tmp_path, one("一般", month="2014-12", claims=inpatient))
    assert (general["benefit"], general["household_limit"]) == (212570, 87430)
    upper = calc(tmp_path, one("上位所得", month="2014-12", claims=inpatient))
    assert (upper["benefit"], upper["household_limit"]) == (145000, 155000)
    assert "上位所得・一般・低所得" in refused(tmp_path, one("ウ", month="2014-12"))


def test_from_2015_the_five_categories_apply(tmp_path):
    """2015-01, ア: 252,600 + (1,000,000 − 842,000) × 1% = 254,180 → 45,820."""
    got = calc(tmp_path, one("ア", month="2015-01", claims=[claim(points=100000, copay=300000)]))
    assert (got["benefit"], got["household_limit"]) == (45820, 254180)
    assert "上位所得" in refused(tmp_path, one("上位所得", month="2015-01"))


def test_a_unit_under_21000_yen_does_not_count(tmp_path):
    """Two clinics of 20,000 each: neither reaches 21,000 → nothing counted, no benefit."""
    got = calc(
        tmp_path,
        one(
            claims=[
                claim(provider="3810000001", setting="outpatient", points=6670, copay=20000),
                claim(provider="3810000002", setting="outpatient", points=6670, copay=20000),
            ]
        ),
    )
    assert got["benefit"] == 0
    assert got["persons"]["P1"] == {"counted_copay": 0, "benefit": 0}
    assert any("21,000円未満のため合算しない" in s for s in got["steps"])


def test_a_pharmacy_joins_its_prescriber_before_the_21000_test(tmp_path):
    """Clinic 15,000 + its pharmacy 9,000 = 24,000 (counted) and inpatient 90,000:
    114,000 against 80,100 + (380,000 − 267,000) × 1% = 81,230 → 32,770."""
    got = calc(
        tmp_path,
        one(
            claims=[
                claim(provider="3810000001", setting="outpatient", points=5000, copay=15000),
                claim(
                    provider="3840000009",
                    setting="outpatient",
                    kind="pharmacy",
                    prescribed_by="3810000001",
                    points=3000,
                    copay=9000,
                ),
                claim(provider="3810000011", points=30000, copay=90000),
            ]
        ),
    )
    assert got["persons"]["P1"] == {"counted_copay": 114000, "benefit": 32770}
    assert got["household_limit"] == 81230


def test_medical_and_dental_and_inpatient_and_outpatient_are_separate_units(tmp_path):
    """Same provider: medical outpatient 15,000 and dental outpatient 15,000 stay apart (each
    under 21,000); its inpatient 90,000 counts alone: 80,100 + 330 = 80,430 → 9,570."""
    got = calc(
        tmp_path,
        one(
            claims=[
                claim(provider="3810000011", setting="outpatient", points=5000, copay=15000),
                claim(
                    provider="3810000011",
                    setting="outpatient",
                    kind="dental",
                    points=5000,
                    copay=15000,
                ),
                claim(provider="3810000011", points=30000, copay=90000),
            ]
        ),
    )
    assert got["persons"]["P1"] == {"counted_copay": 90000, "benefit": 9570}


def test_a_dental_prescription_joins_the_dental_unit(tmp_path):
    """Dental clinic (点数表 3) 12,000 + its pharmacy 10,000 = 22,000 counted; a medical
    clinic's 5,000 is not; inpatient 90,000: 112,000 against 80,100 + (373,340 − 267,000)
    × 1% = 81,163.4 → 81,163 → 30,837."""
    got = calc(
        tmp_path,
        one(
            claims=[
                claim(
                    provider="3830000001",
                    setting="outpatient",
                    kind="dental",
                    points=4000,
                    copay=12000,
                ),
                claim(
                    provider="3840000009",
                    setting="outpatient",
                    kind="pharmacy",
                    prescribed_by="3830000001",
                    points=3334,
                    copay=10000,
                ),
                claim(provider="3810000001", setting="outpatient", points=1700, copay=5000),
                claim(provider="3810000011", points=30000, copay=90000),
            ]
        ),
    )
    assert got["persons"]["P1"] == {"counted_copay": 112000, "benefit": 30837}


def test_the_one_percent_term_rounds_half_up(tmp_path):
    """ウ, cost 267,050 → 80,100 + 50 × 1% = 80,100.5 → 80,101; copay 90,000 → 9,899."""
    got = calc(tmp_path, one(claims=[claim(points=26705, copay=90000)]))
    assert (got["household_limit"], got["benefit"]) == (80101, 9899)


# --- 70 to 74 ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "benefit"),
    [("2018-07", 16000), ("2018-08", 12000)],
)
def test_the_70_74_outpatient_limit_changes_in_2018_08(tmp_path, month, benefit):
    """一般, outpatient 30,000: limit 14,000 until 2018-07 (→ 16,000), 18,000 from 2018-08."""
    got = calc(
        tmp_path,
        one(
            "一般",
            birth="1946-03-10",
            month=month,
            claims=[claim(setting="outpatient", points=15000, copay=30000)],
        ),
    )
    assert got["benefit"] == benefit


def test_genekinami_household_limit_uses_the_formula(tmp_path):
    """現役並みⅢ, inpatient 300,000 (cost 1,000,000): 252,600 + 158,000 × 1% = 254,180."""
    got = calc(
        tmp_path,
        one("現役並みⅢ", birth="1953-03-02", claims=[claim(points=100000, copay=300000)]),
    )
    assert (got["household_limit"], got["benefit"]) == (254180, 45820)
    # The roman numeral may be typed as a digit or in ASCII.
    assert (
        calc(
            tmp_path,
            one("現役並み3", birth="1953-03-02", claims=[claim(points=100000, copay=300000)]),
        )["benefit"]
        == 45820
    )


def test_low_income_1_outpatient_then_household(tmp_path):
    """低所得Ⅰ: outpatient 10,000 − 8,000 = 2,000; then 8,000 + inpatient 20,000 = 28,000
    against 15,000 → 13,000. Total 15,000."""
    got = calc(
        tmp_path,
        one(
            "低所得Ⅰ",
            birth="1953-03-02",
            claims=[
                claim(provider="3810000001", setting="outpatient", points=5000, copay=10000),
                claim(provider="3810000011", points=10000, copay=20000),
            ],
        ),
    )
    assert got["benefit"] == 15000
    assert got["household_limit"] == 15000


def test_low_income_2_has_no_many_times_amount(tmp_path):
    """低所得Ⅱ with three paid months: still 24,600 (no 多数回 for it); 40,000 → 15,400."""
    got = calc(
        tmp_path,
        one(
            "低所得Ⅱ",
            birth="1953-03-02",
            prior=["2025-11", "2026-01", "2026-05"],
            claims=[claim(points=20000, copay=40000)],
        ),
    )
    assert (got["benefit"], got["household_limit"], got["many_times"]) == (15400, 24600, False)


def test_the_outpatient_annual_cap(tmp_path):
    """一般, 140,000 already borne since August: outpatient 30,000 − 18,000 = 12,000; of the
    18,000 left only 144,000 − 140,000 = 4,000 is owed → 14,000 more. Total 26,000."""
    got = calc(
        tmp_path,
        one(
            "一般",
            birth="1953-03-02",
            outpatient_year_to_date=140000,
            claims=[claim(setting="outpatient", points=15000, copay=30000)],
        ),
    )
    assert got["benefit"] == 26000
    assert any("年間上限" in s for s in got["steps"])


def test_mixed_household_steps_two_and_three_with_shares(tmp_path):
    """P1 イ inpatient 270,000 (cost 900,000); P2, P3 現役並みⅡ: inpatient 240,000 (cost
    800,000), outpatient 60,000 (cost 200,000).
    Step 2: 300,000 − (167,400 + 442,000 × 1% = 171,820) = 128,180 → 102,544 : 25,636.
    Step 3: 270,000 + 137,456 + 34,364 = 441,820 − (167,400 + 1,342,000 × 1% = 180,820)
    = 261,000 → 159,499 (+1 remainder) : 81,200 : 20,300."""
    got = calc(
        tmp_path,
        {
            "month": "2026-07",
            "members": [
                {"id": "P1", "birth": "1965-04-04", "category": "イ"},
                {"id": "P2", "birth": "1953-03-02", "category": "現役並みⅡ"},
                {"id": "P3", "birth": "1954-09-09", "category": "現役並みⅡ"},
            ],
            "claims": [
                claim("P1", "3810000011", points=90000, copay=270000),
                claim("P2", "3810000012", points=80000, copay=240000),
                claim("P3", "3810000001", setting="outpatient", points=20000, copay=60000),
            ],
        },
    )
    assert got["benefit"] == 389180
    assert got["household_limit"] == 180820
    assert got["persons"] == {
        "P1": {"counted_copay": 270000, "benefit": 159500},
        "P2": {"counted_copay": 240000, "benefit": 183744},
        "P3": {"counted_copay": 60000, "benefit": 45936},
    }


def test_a_tie_gives_the_remainder_to_the_first_in_input_order(tmp_path):
    """Two members 91,000 each (cost 303,340 each): 182,000 − (80,100 + 3,396.8 → 83,497) =
    98,503; 49,251 each and the 1 yen left to the first listed."""

    def household(order):
        members = {
            "P1": {"id": "P1", "birth": "1975-06-01", "category": "ウ"},
            "P2": {"id": "P2", "birth": "1977-01-01", "category": "ウ"},
        }
        return {
            "month": "2026-07",
            "members": [members[p] for p in order],
            "claims": [
                claim("P1", "3810000011", points=30334, copay=91000),
                claim("P2", "3810000012", points=30334, copay=91000),
            ],
        }

    first = calc(tmp_path, household(["P1", "P2"]))["persons"]
    assert (first["P1"]["benefit"], first["P2"]["benefit"]) == (49252, 49251)
    second = calc(tmp_path, household(["P2", "P1"]))["persons"]
    assert (second["P1"]["benefit"], second["P2"]["benefit"]) == (49251, 49252)


# --- 多数回, 75th birthday, 特定疾病, provider caps ------------------------------------------


@pytest.mark.parametrize(
    ("prior", "many"),
    [
        (["2025-08", "2026-01", "2026-05"], True),  # M−11 is inside the window
        (["2025-07", "2026-01", "2026-05"], False),  # M−12 is not
        (["2026-01", "2026-05"], False),
        (["2026-01", "2026-01", "2026-05"], False),  # a month counts once
    ],
)
def test_many_times_counts_paid_months_in_m11_to_m1(tmp_path, prior, many):
    got = calc(tmp_path, one(prior=prior, claims=[claim(points=100000, copay=300000)]))
    assert got["many_times"] is many
    assert got["benefit"] == (255600 if many else 212570)


def test_a_member_born_on_the_1st_turning_75_is_in_late_elderly_care_all_month(tmp_path):
    assert "後期高齢者医療" in refused(tmp_path, one("一般", birth="1951-07-01"))


def test_the_70_74_period_starts_in_the_birthday_month_only_for_the_1st(tmp_path):
    assert calc(tmp_path, one("一般", birth="1956-07-01"))["benefit"] == 0
    assert "70〜74歳の所得区分" in refused(tmp_path, one("ウ", birth="1956-07-01"))
    assert calc(tmp_path, one("ウ", birth="1956-07-02"))["benefit"] == 0
    assert "70歳未満の所得区分" in refused(tmp_path, one("一般", birth="1956-07-02"))


def test_a_dependant_joining_at_the_members_75th_birthday_has_halved_limits(tmp_path):
    """special_75_dependent, ウ: a 15,000 clinic counts (≥ 10,500); 15,000 + 60,000 = 75,000
    against 40,050 + (250,000 − 133,500) × 1% = 41,215 → 33,785; the 41,215 left is under
    the full ウ limit of 80,100 in step 3."""
    got = calc(
        tmp_path,
        one(
            special_75_dependent=True,
            claims=[
                claim(provider="3810000001", setting="outpatient", points=5000, copay=15000),
                claim(provider="3810000011", points=20000, copay=60000),
            ],
        ),
    )
    assert got["persons"]["P1"] == {"counted_copay": 75000, "benefit": 33785}


def test_specific_disease_enters_at_the_providers_cap(tmp_path):
    """70–74 一般 dialysis outpatient 25,000 → 10,000 (standard cap) < 18,000: nothing paid."""
    got = calc(
        tmp_path,
        one(
            "一般",
            birth="1953-03-02",
            claims=[claim(setting="outpatient", points=125000, copay=25000, specific_disease=True)],
        ),
    )
    assert got["persons"]["P1"] == {"counted_copay": 10000, "benefit": 0}


@pytest.mark.parametrize(("category", "counted"), [("ア", 20000), ("ウ", 0)])
def test_dialysis_of_an_upper_income_member_is_capped_at_20000(tmp_path, category, counted):
    """With the halved 10,500 floor of a special_75_dependent: ア's dialysis enters at its
    20,000 cap (counted), ウ's at 10,000 (under 10,500, not counted)."""
    got = calc(
        tmp_path,
        one(
            category,
            special_75_dependent=True,
            claims=[claim(setting="outpatient", points=100000, copay=30000, specific_disease=True)],
        ),
    )
    assert got["persons"]["P1"]["counted_copay"] == counted


def test_a_claim_already_capped_at_the_provider_enters_normally(tmp_path):
    """limit_applied inpatient 87,430 + another hospital 30,000 = 117,430 against
    80,100 + (1,100,000 − 267,000) × 1% = 88,430 → 29,000."""
    got = calc(
        tmp_path,
        one(
            claims=[
                claim(provider="3810000011", points=100000, copay=87430, limit_applied=True),
                claim(provider="3810000012", points=10000, copay=30000),
            ]
        ),
    )
    assert got["benefit"] == 29000
    assert any("限度額適用済み" in s for s in got["steps"])


# --- unconfirmed months and bad input ------------------------------------------------------


def test_a_month_on_provisional_limits_is_refused_and_can_be_a_trial(tmp_path):
    """2026-08 needs the revision's values, still provisional: refused; --provisional gives
    the 試算 85,800 + (1,000,000 − 286,000) × 1% = 92,940 → 207,060, marked provisional."""
    case = one(month="2026-08", claims=[claim(points=100000, copay=300000)])
    message = refused(tmp_path, case)
    assert "2026-08 以降の限度額が未確定" in message
    assert "kogaku.under70_limits" in message
    trial = calc(tmp_path, case, "--provisional")
    assert (trial["benefit"], trial["provisional"]) == (207060, True)
    assert any("試算" in s for s in trial["steps"])
    assert calc(tmp_path, one(claims=[claim(points=100000, copay=300000)]))["provisional"] is False


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"month": "2026-13"}, "month: 診療月は YYYY-MM"),
        ({"members": []}, "members: 被保険者が1人もいません"),
        ({"claims": [claim(person="P9", points=1, copay=1)]}, "claims[0].person"),
        ({"claims": [claim(provider="381", points=1, copay=1)]}, "claims[0].provider"),
        ({"claims": [claim(setting="day", points=1, copay=1)]}, "claims[0].setting"),
        ({"claims": [claim(kind="pharmacy", points=1, copay=1)]}, "claims[0].prescribed_by"),
        ({"claims": [claim(points=100, copay=1001)]}, "claims[0].copay: 一部負担金"),
        ({"claims": [claim(points=-1, copay=0)]}, "claims[0].points"),
        ({"prior_high_cost_months": ["2026-07"]}, "prior_high_cost_months[0]"),
    ],
)
def test_bad_input_is_refused_with_its_place_and_reason(tmp_path, change, message):
    case = {**one(), **change}
    assert message in refused(tmp_path, case)


def test_members_of_one_age_group_must_share_the_households_category(tmp_path):
    case = {
        "month": "2026-07",
        "members": [
            {"id": "P1", "birth": "1975-06-01", "category": "ウ"},
            {"id": "P2", "birth": "1976-06-01", "category": "エ"},
        ],
    }
    assert "同じはず" in refused(tmp_path, case)


def test_the_console_script_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("month: 2026-07\nmembers: []\n", encoding="utf-8")
    run = subprocess.run(
        [str(KOKUHO), "kogaku", "calc", str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert run.stderr.strip().count("\n") == 0
    assert run.stderr.startswith(f"{path}: members:")
