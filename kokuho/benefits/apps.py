from django.apps import AppConfig


class BenefitsConfig(AppConfig):
    name = "kokuho.benefits"
    label = "benefits"
    verbose_name = "給付"

    def ready(self) -> None:
        from kokuho.benefits.kogaku.workflow import PAYMENT_SOURCE
        from kokuho.benefits.models import KogakuDecision
        from kokuho.payments.sources import PaymentSource, payment_source_register

        # A run that carries a decision sets its 支払日; a 振込不能 clears it again.
        payment_source_register(
            PAYMENT_SOURCE,
            PaymentSource(
                label="高額療養費支給決定",
                scheduled=lambda ids, day: KogakuDecision.objects.filter(pk__in=ids).update(
                    paid_on=day
                ),
                returned=lambda ids: KogakuDecision.objects.filter(pk__in=ids).update(paid_on=None),
            ),
        )
        from kokuho.benefits.kogaku.outpatient_year import PAYMENT_SOURCE as OUTPATIENT_YEAR

        # The settlement keeps no 支払日 of its own: the payment record says it.
        payment_source_register(
            OUTPATIENT_YEAR,
            PaymentSource(
                label="高額療養費（外来年間合算）支給決定",
                scheduled=lambda ids, day: None,
                returned=lambda ids: None,
            ),
        )
        from kokuho.benefits.kogaku.recompute import (
            kogaku_eligibility_changed,
            kogaku_eligibility_changed_many,
        )
        from kokuho.eligibility.listeners import periods_change_listen

        # A change of a person's 資格 re-matches their claims and notes decided months.
        periods_change_listen(kogaku_eligibility_changed, many=kogaku_eligibility_changed_many)
