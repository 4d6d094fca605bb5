"""The demo's month of the other benefits, through the counter's services.

From last month's registry changes: every insured person who died gets a 葬祭費 application
(the funeral three days later, the household's head — or a relative outside the city — as
喪主); every birth gets a 出産育児一時金 application from an insured woman of the
household (most under 直接支払制度, some with the whole amount to the household). A few
insured persons claim 療養費 for care paid in full (立替払い). Every application has its
添付書類 and is decided by the 給付担当; the payment run then pays what is due. Deterministic
for a seed; a second demo finds the applications made and adds nothing.

The 国保連's two monthly files come in the same way as a city receives them: births under
直接支払制度 are not applied for at the counter but arrive in the 直接支払 file
(`var/demo/direct-payment-YYYYMM.csv`), and a few insured persons' 柔整・あはき claims in
the 受領委任 file (`var/demo/entrusted-YYYYMM.csv`, YYYYMM the processing month); both are
written once per processing month and imported through `kokuho.benefits.entrusted` (a
second demo finds them imported). The 施術所 and the 国保連合会 have their accounts recorded.
"""

import csv
import datetime as dt
import hashlib
import io
import random
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Q

from kokuho.benefits.lifecycle.models import BenefitApplication
from kokuho.benefits.lifecycle.services import (
    BenefitError,
    attachments_for,
    benefit_application_register,
    benefit_decide,
)
from kokuho.eligibility.models import BranchNumber, CurrentEligibility
from kokuho.eligibility.selectors import burden_bases_load, insured_period_on, person_state_from
from kokuho.payments.models import AccountSource, Benefit, OrganisationKind
from kokuho.payments.services import (
    AccountError,
    AccountInput,
    organisation_account_record,
    payee_account_record,
    payee_current_account,
    payee_organisation_record,
)
from kokuho.people.models import ChangeCode, Person, PersonHistory, Sex

EXPENSES_SHARE = 0.01  # of the insured claim a 療養費 in the demo month
ENTRUSTED_SHARE = 0.005  # of the insured have 柔整・あはき claims under 受領委任
# The demo city's 施術所 (code, name, kana, category) and hospitals; all synthetic.
PRACTITIONERS = (
    ("3810001", "みかん接骨院", "ミカンセツコツイン", 1),
    ("3810002", "本町整骨院", "ホンマチセイコツイン", 1),
    ("3810003", "港はり灸院", "ミナトハリキユウイン", 2),
    ("3810004", "城山マッサージ治療院", "シロヤママツサージチリヨウイン", 3),
)
HOSPITALS = (("3811000011", "みかん市民病院"), ("3811000029", "本町レディースクリニック"))
BANKS = (("0174", "100"), ("0174", "101"), ("0576", "001"), ("0576", "002"), ("0001", "001"))


def _account(rng: random.Random, holder: str) -> AccountInput:
    bank, branch = rng.choice(BANKS)
    return AccountInput(bank, branch, 1, f"{rng.randint(0, 9999999):07d}", holder)


def _all(benefit: str) -> dict[str, bool]:
    return {item.code: True for item in attachments_for(benefit)}


def _apply_and_decide(*, actor: Any, on: dt.date, **kwargs: Any) -> str:
    try:
        application = benefit_application_register(actor=actor, received_on=on, **kwargs)
        decision = benefit_decide(application=application, actor=actor, decided_on=on)
    except (BenefitError, AccountError):
        return "refused_at_counter"
    return decision.outcome


def _insured_ids() -> set[int]:
    # Anyone with an eligibility record; `_insured_on` narrows it to the day.
    return set(CurrentEligibility.objects.values_list("person_id", flat=True))


def _insured_on(person: Person, day: dt.date) -> bool:
    # Only the city's insured apply here (others go to their own insurer).
    return insured_period_on(person=person, on=day) is not None


def demo_benefits_month(*, month: dt.date, seed: int, on: dt.date, actor: Any) -> dict[str, int]:
    """Applications and decisions of `month` (see the module docstring): counts by outcome."""
    end = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    done = set(BenefitApplication.objects.values_list("subject_id", "benefit", "event_date"))
    counts: dict[str, int] = {}
    insured = _insured_ids()

    def tally(key: str) -> None:
        counts[key] = counts.get(key, 0) + 1

    births: list[tuple[Person, dt.date, dict[str, Any], random.Random]] = []

    events = (
        PersonHistory.objects.filter(
            change_code__in=[ChangeCode.DEATH, ChangeCode.BIRTH],
            change_date__gte=month,
            change_date__lt=end,
        )
        .select_related("person__household__head")
        .order_by("pk")
    )
    for event in events:
        person = event.person
        rng = random.Random(f"demo-benefits-{seed}-{event.pk}")
        if (
            event.change_code == ChangeCode.DEATH
            and person.pk in insured
            and _insured_on(person, event.change_date)
        ):
            funeral = event.change_date + dt.timedelta(days=3)
            if (person.pk, Benefit.SOSAI, funeral) in done:
                continue
            head = person.household.head
            mourner = head if head is not None and head.pk != person.pk else None
            name = mourner.name if mourner else f"{person.name.split()[0]} 一郎"
            outcome = _apply_and_decide(
                actor=actor,
                on=on,
                benefit=Benefit.SOSAI,
                subject=person,
                applicant=mourner,
                applicant_name=name,
                event_date=funeral,
                facts={"death_date": event.change_date.isoformat(), "chief_mourner": name},
                attachments=_all(Benefit.SOSAI),
                account=_account(rng, (mourner or person).name_kana),
            )
            tally(f"sosai:{outcome}")
        elif event.change_code == ChangeCode.BIRTH:
            mother = (
                Person.objects.filter(
                    household_id=person.household_id,
                    sex=Sex.FEMALE,
                    birth_date__lte=event.change_date.replace(year=event.change_date.year - 16),
                    birth_date__gt=event.change_date.replace(year=event.change_date.year - 50),
                )
                .filter(Q(pk__in=insured))
                .order_by("birth_date")
                .first()
            )
            if mother is None or not _insured_on(mother, event.change_date):
                continue
            if (mother.pk, Benefit.SHUSSAN, event.change_date) in done:
                continue
            direct = rng.random() < 0.85
            facts: dict[str, Any] = {
                "gestation_days": rng.randint(259, 290),
                "direct_payment": direct,
            }
            if direct:
                facts["delivery_cost"] = rng.randrange(430000, 580000, 1000)
                # Under 直接支払制度 the hospital claims it: the 国保連's file, not the counter.
                births.append((mother, event.change_date, facts, rng))
                continue
            outcome = _apply_and_decide(
                actor=actor,
                on=on,
                benefit=Benefit.SHUSSAN,
                subject=mother,
                applicant=mother,
                event_date=event.change_date,
                facts=facts,
                attachments=_all(Benefit.SHUSSAN),
                account=_account(rng, mother.name_kana),
            )
            tally(f"shussan:{outcome}")
    candidates = sorted(insured)
    sample = random.Random(f"demo-ryoyohi-{seed}-{month:%Y%m}")
    chosen = Person.objects.in_bulk(
        sample.sample(candidates, k=int(len(candidates) * EXPENSES_SHARE))
    )
    for person_id, person in sorted(chosen.items()):
        # One stream per person: what a second demo skips does not shift the others.
        rng = random.Random(f"demo-ryoyohi-{seed}-{month:%Y%m}-{person_id}")
        treated = month + dt.timedelta(days=rng.randint(0, 27))
        if (person.pk, Benefit.RYOYOHI, treated) in done or not _insured_on(person, treated):
            continue
        cost = rng.randrange(3000, 60000, 10)
        outcome = _apply_and_decide(
            actor=actor,
            on=on,
            benefit=Benefit.RYOYOHI,
            subject=person,
            applicant=person,
            event_date=treated,
            facts={
                "service_date": treated.isoformat(),
                "fee_schedule_cost": cost,
                "paid_amount": cost if rng.random() < 0.8 else cost + rng.randrange(500, 3000),
            },
            attachments=_all(Benefit.RYOYOHI),
            account=_account(rng, person.name_kana),
        )
        tally(f"ryoyohi:{outcome}")
    processing = on.replace(day=1)
    for outcome in demo_direct_payment_file(births=births, month=processing, on=on, actor=actor):
        tally(f"shussan:{outcome}")
    for outcome in demo_entrusted_file(
        insured=candidates, service_month=month, month=processing, seed=seed, on=on, actor=actor
    ):
        tally(f"ryoyohi:{outcome}")
    return counts


def _numbers(person_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """Each person's newest 記号・番号・枝番 (what the 国保連's files carry)."""
    found: dict[int, tuple[str, str, str]] = {}
    for pid, symbol, number, branch in (
        BranchNumber.objects.filter(person_id__in=person_ids)
        .order_by("assigned_on", "id")
        .values_list("person_id", "household_number__symbol", "household_number__number", "branch")
    ):
        found[pid] = (symbol, number, branch)
    return found


def _csv(header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _import_once(path: Path, data: bytes, model: Any, run: Any) -> list[str]:
    """Write the file once and import it once (a second demo finds it imported). A month
    with no line (a small city) has no file: the 国保連 sends none."""
    if len(data.splitlines()) <= 1:
        return []
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if model.objects.filter(file_sha256=hashlib.sha256(path.read_bytes()).hexdigest()).exists():
        return []
    summary = run(path)
    return [line.decision.outcome for line in summary.batch.lines.select_related("decision")
            if line.decision is not None]  # fmt: skip


def demo_direct_payment_file(
    *, births: list[tuple[Person, dt.date, dict[str, Any], random.Random]], month: dt.date,
    on: dt.date, actor: Any,
) -> list[str]:  # fmt: skip
    """The month's 直接支払 births as the 国保連 sends them, imported: outcomes."""
    from kokuho.benefits.entrusted.childbirth import HEADER, childbirth_import
    from kokuho.benefits.entrusted.models import DirectPaymentBatch

    if not births:
        return []
    _federation_account()
    numbers = _numbers([mother.pk for mother, *_ in births])
    rows = []
    for mother, born, facts, rng in births:
        head = mother.household.head
        # Most households give the 差額's account when they report the birth; the others'
        # 差額 waits (a held work item) until they do.
        if head is not None and rng.random() < 0.7 and payee_current_account(person=head) is None:
            payee_account_record(
                person=head, account=_account(rng, head.name_kana),
                source=AccountSource.APPLICATION, valid_from=on, actor=actor,
                source_ref="demo:direct_payment",
            )  # fmt: skip
        code, name = rng.choice(HOSPITALS)
        rows.append((f"{month:%Y%m}", code, name, *numbers[mother.pk], born.isoformat(),
                     facts["delivery_cost"], 1, facts["gestation_days"] // 7))  # fmt: skip
    path = Path(settings.VAR_DIR) / "demo" / f"direct-payment-{month:%Y%m}.csv"
    return _import_once(
        path,
        _csv(HEADER, rows),
        DirectPaymentBatch,
        lambda p: childbirth_import(path=p, actor=actor, decided_on=on),
    )


def _federation_account() -> None:
    federation = payee_organisation_record(
        kind=OrganisationKind.FEDERATION, code=settings.KOKUHO_INSURER_NUMBER[:2],
        name=f"{settings.KOKUHO_PREFECTURE_NAME}国民健康保険団体連合会", actor=None,
    )  # fmt: skip
    organisation_account_record(
        organisation=federation,
        account=AccountInput("0174", "100", 2, "0380001", "コクホレン"),
        valid_from=dt.date(2000, 4, 1),
        actor=None,
        source_ref="demo:国保連合会の指定口座",
    )


def demo_entrusted_file(
    *, insured: list[int], service_month: dt.date, month: dt.date, seed: int, on: dt.date,
    actor: Any,
) -> list[str]:  # fmt: skip
    """A 受領委任 file of `service_month` claims, processed in `month`, imported: outcomes.
    Co-payments follow each person's 負担割合 (a few are wrong, as in life)."""
    from kokuho.benefits.entrusted.jusei import HEADER, entrusted_import
    from kokuho.benefits.entrusted.models import EntrustedBatch

    path = Path(settings.VAR_DIR) / "demo" / f"entrusted-{month:%Y%m}.csv"
    rng = random.Random(f"demo-entrusted-{seed}-{month:%Y%m}")
    if path.exists():
        data = path.read_bytes()
    else:
        chosen = sorted(rng.sample(insured, k=max(1, int(len(insured) * ENTRUSTED_SHARE))))
        day = service_month + dt.timedelta(days=14)
        people = list(Person.objects.filter(pk__in=chosen))
        percents = {}
        for pid, basis in burden_bases_load(persons=people, day=day).items():
            state = person_state_from(basis=basis, on=day)
            if state.insured and state.copay is not None:
                percents[pid] = int(state.copay.value)
        numbers = _numbers(sorted(percents))
        rows = []
        for pid in sorted(percents):
            code, name, _, category = rng.choice(PRACTITIONERS)
            days = rng.randint(2, 12)
            cost = days * rng.randrange(1500, 4000, 10)
            unit = 10
            copay = (cost * percents[pid] + 50 * unit) // (100 * unit) * unit
            if rng.random() < 0.05:
                copay += 100  # over-charged: the batch returns it (不支給)
            rows.append((f"{month:%Y%m}", category, code, name, *numbers[pid],
                         f"{service_month:%Y%m}", days, cost, copay, cost - copay))  # fmt: skip
        data = _csv(HEADER, rows)
    for code, name, kana, _ in PRACTITIONERS:
        organisation = payee_organisation_record(
            kind=OrganisationKind.PRACTITIONER, code=code, name=name, name_kana=kana, actor=None
        )
        organisation_account_record(
            organisation=organisation,
            account=AccountInput("0174", "101", 1, f"{int(code) % 10**7:07d}", kana),
            valid_from=dt.date(2019, 1, 1),
            actor=None,
            source_ref="demo:受領委任の届出",
        )
    return _import_once(
        path, data, EntrustedBatch, lambda p: entrusted_import(path=p, actor=actor, decided_on=on)
    )
