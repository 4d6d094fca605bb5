"""The demo's month of claims: realistic shapes, matched through the real importer, the
co-payment from each person's 負担割合, and the same file for the same seed."""

import csv
import datetime as dt
from collections import Counter

import pytest

from kokuho.benefits.models import Claim, ClaimKind, ClaimMatch, ClaimSetting
from kokuho.demo.city import city_generate, city_load
from kokuho.demo.claims import (
    claims_csv_write,
    copay_of,
    insured_rate,
    insured_rates,
    persons_of_month,
)
from kokuho.eligibility.batch import eligibility_derive_initial
from kokuho.eligibility.burden import is_elderly_on
from kokuho.eligibility.selectors import person_state_on
from kokuho.interfaces.services import import_claims

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 11, 24)
OCTOBER = dt.date(2026, 10, 1)


@pytest.fixture
def demo_city():
    city_load(city_generate(households=1000, seed=3, on=ON), source="test")
    eligibility_derive_initial(on=ON)


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_the_same_seed_writes_the_same_file_and_another_seed_another(tmp_path, demo_city):
    first = claims_csv_write(tmp_path / "a.csv", month=OCTOBER, seed=3)
    again = claims_csv_write(tmp_path / "b.csv", month=dt.date(2026, 10, 17), seed=3)
    other = claims_csv_write(tmp_path / "c.csv", month=OCTOBER, seed=4)
    assert first == again == len(_rows(tmp_path / "a.csv"))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.csv").read_bytes() != (tmp_path / "c.csv").read_bytes()
    assert other > 0


def test_a_month_of_claims_looks_like_a_citys_and_imports_cleanly(tmp_path, demo_city):
    path = tmp_path / "claims-202610.csv"
    written = claims_csv_write(path, month=OCTOBER, seed=3)
    rows = _rows(path)

    summary = import_claims(path=path, actor=None, reported_on=ON)

    assert summary.applied == written and summary.quarantined_total == 0
    claims = list(Claim.objects.select_related("person"))
    matched = [c for c in claims if c.match == ClaimMatch.MATCHED]
    insured = {c.person_id for c in matched}
    # About 1.4 claims per insured person (those without a claim this month included).
    insured_of_month, _lapsed = persons_of_month(OCTOBER)
    per_person = len(matched) / len(insured_of_month)
    assert 1.1 <= per_person <= 1.7, per_person
    assert len(insured) > 200
    kinds = Counter((c.kind, c.setting) for c in claims)
    outpatient_medical = kinds[(ClaimKind.MEDICAL, ClaimSetting.OUTPATIENT)]
    assert outpatient_medical > len(claims) / 2
    assert 0.3 <= kinds[(ClaimKind.PHARMACY, ClaimSetting.OUTPATIENT)] / outpatient_medical <= 0.7
    assert kinds[(ClaimKind.DENTAL, ClaimSetting.OUTPATIENT)] > 0
    # A pharmacy claim names a clinic the same person saw that month.
    seen = {(c.person_id, c.provider) for c in claims if c.kind == ClaimKind.MEDICAL}
    pharmacy = [c for c in claims if c.kind == ClaimKind.PHARMACY]
    assert all((c.person_id, c.prescribed_by) in seen for c in pharmacy)
    inpatient = [c for c in claims if c.setting == ClaimSetting.INPATIENT]
    assert 0.005 <= len(inpatient) / len(claims) <= 0.05
    assert all(20_000 <= c.points <= 150_000 for c in inpatient)
    limited = [c for c in inpatient if c.limit_applied]
    assert limited and all(c.copay < copay_of(c.points, 30) for c in limited)
    dialysis = [c for c in claims if c.specific_disease]
    assert dialysis and all(c.copay <= 10_000 < copay_of(c.points, 20) for c in dialysis)
    # 資格喪失後受診: about 0.5%, reported, not dropped.
    lapsed = [c for c in claims if c.match == ClaimMatch.NOT_INSURED]
    assert 0 < len(lapsed) <= 0.02 * len(claims)
    unknown = [c for c in claims if c.match == ClaimMatch.UNKNOWN_NUMBER]
    assert 0 < len(unknown) <= 0.005 * len(claims)  # 番号不明, for the 未照合 screen
    assert summary.reported == {"資格喪失後受診・資格なし": len(lapsed), "番号不明": len(unknown)}
    assert len(rows) == written


def test_the_copayment_follows_the_persons_copay_rate(tmp_path, demo_city):
    path = tmp_path / "claims.csv"
    claims_csv_write(path, month=OCTOBER, seed=3)
    import_claims(path=path, actor=None, reported_on=ON)
    plain = Claim.objects.filter(
        match=ClaimMatch.MATCHED, specific_disease=False, limit_applied=False
    ).select_related("person")
    rates: dict[int, int] = {}
    seen_rates: Counter[int] = Counter()
    for c in plain.order_by("person_id")[:400]:
        if c.person_id not in rates:
            # As the counter screen decides it on the 1st (0: not insured that day).
            state = person_state_on(person=c.person, on=OCTOBER)
            rates[c.person_id] = int(state.copay.value) if state.copay else 0
        rate = rates[c.person_id]
        if rate == 0:
            continue
        seen_rates[rate] += 1
        assert c.copay == copay_of(c.points, rate), (c.claim_id, rate)
    assert set(seen_rates) == {20, 30}  # 未就学 or 70〜74 at 20%, the rest at 30%
    assert sum(seen_rates.values()) > 300
    # The bulk rates are the one-person path's, 70〜74 (decided by household) included.
    insured, _ = persons_of_month(OCTOBER)
    sample = [i for i in insured if is_elderly_on(i.birth, OCTOBER)][:60] + insured[:20]
    assert insured_rates(sample, OCTOBER) == {i.person_id: insured_rate(i, OCTOBER) for i in sample}
    assert len(sample) == 80


def test_copay_is_rounded_to_ten_yen_half_up():
    assert copay_of(777, 30) == 2330  # 2,331
    assert copay_of(1235, 30) == 3710  # 3,705
    assert copay_of(1234, 20) == 2470  # 2,468
