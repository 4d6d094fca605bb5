"""The demo's month of the other benefits, through the counter's services.

From last month's registry changes: every insured person who died gets a 葬祭費 application
(the funeral three days later, the household's head — or a relative outside the city — as
喪主); every birth gets a 出産育児一時金 application from an insured woman of the
household (most under 直接支払制度, some with the whole amount to the household). A few
insured persons claim 療養費 for care paid in full (立替払い). Every application has its
添付書類 and is decided by the 給付担当; the payment run then pays what is due. Deterministic
for a seed; a second demo finds the applications made and adds nothing.
"""

import datetime as dt
import random
from typing import Any

from django.db.models import Q

from kokuho.benefits.lifecycle.models import BenefitApplication
from kokuho.benefits.lifecycle.services import (
    BenefitError,
    attachments_for,
    benefit_application_register,
    benefit_decide,
)
from kokuho.eligibility.models import CurrentEligibility
from kokuho.eligibility.selectors import insured_period_on
from kokuho.payments.models import Benefit
from kokuho.payments.services import AccountError, AccountInput
from kokuho.people.models import ChangeCode, Person, PersonHistory, Sex

EXPENSES_SHARE = 0.01  # of the insured claim a 療養費 in the demo month
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
    return counts
