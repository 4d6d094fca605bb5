"""A decision as its 決定通知書 says it: `BenefitNotice` data from the models.

The addressee is the applicant as the registry has them on the day of printing (or, for an
applicant the registry does not know, the subject's address with the applicant's name);
characters outside the font become 代替字. The 振込 lines appear once a payment run has
carried the decision's payment.
"""

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

from kokuho.benefits.lifecycle.models import BenefitDecision, DecisionKind
from kokuho.benefits.lifecycle.notice_pdf import BenefitNotice, benefit_decision_notices_pdf
from kokuho.benefits.lifecycle.services import PAYMENT_SOURCE
from kokuho.certificates.glyphs import printable
from kokuho.payments.models import Benefit, Payment, PaymentTransfer, TransferStatus

# What each benefit's notice cites and calls its event (the law, not a rule amount).
NOTICE_TERMS = {
    Benefit.SOSAI: ("国民健康保険法第58条第1項", "葬祭を行った日"),
    Benefit.SHUSSAN: ("国民健康保険法第58条第1項", "出産日"),
    Benefit.RYOYOHI: ("国民健康保険法第54条", "医療機関等に支払った日"),
    Benefit.KAIGAI: ("国民健康保険法第54条", "海外の医療機関等に支払った日"),
    Benefit.ISOUHI: ("国民健康保険法第54条の4", "移送された日"),
    Benefit.GASSAN: ("国民健康保険法第57条の3", "基準日"),
}


def _pay_lines(decisions: list[BenefitDecision]) -> dict[int, tuple[dt.date, str]]:
    paid = {}
    for source_id, pay_date, number in PaymentTransfer.objects.filter(
        payment__source_type=PAYMENT_SOURCE,
        payment__source_id__in=[d.pk for d in decisions],
        status=TransferStatus.SENT,
    ).values_list("payment__source_id", "run__pay_date", "account_number"):
        paid[source_id] = (pay_date, f"****{number[-3:]}")
    return paid


def benefit_notice_data(decisions: Iterable[BenefitDecision]) -> list[BenefitNotice]:
    decisions = list(decisions)
    paid = _pay_lines(decisions)
    due = set(
        Payment.objects.filter(
            source_type=PAYMENT_SOURCE, source_id__in=[d.pk for d in decisions]
        ).values_list("source_id", flat=True)
    )
    today = timezone.localdate()
    notices = []
    for decision in decisions:
        application = decision.application
        addressee = application.applicant or application.subject
        basis, event_label = NOTICE_TERMS[Benefit(application.benefit)]
        pay_date, masked = paid.get(decision.pk, (None, ""))
        previous = decision.changes
        notices.append(
            BenefitNotice(
                notice_no=f"KY{decision.decided_on:%Y%m%d}-{decision.pk:06d}",
                issued_on=today,
                postal_code=addressee.postal_code,
                address=printable(addressee.address)[0],
                name=printable(application.applicant_name)[0],
                benefit_label=Benefit(application.benefit).label,
                legal_basis=basis,
                subject_name=printable(application.subject.name)[0],
                event_label=event_label,
                event_date=application.event_date,
                outcome=decision.outcome,
                amount=decision.amount,
                difference=decision.difference,
                institution_amount=decision.institution_amount,
                reason=decision.reason,
                steps=list(decision.explanation),
                is_change=decision.kind == DecisionKind.CHANGE,
                previous_amount=previous.amount if previous is not None else None,
                pay_date=pay_date if decision.pk in due else None,
                account_masked=masked if decision.pk in due else "",
            )
        )
    return notices


def benefit_notices_pdf(decisions: Iterable[BenefitDecision]) -> bytes:
    """The 決定通知書 of these decisions, one after another, in one PDF."""
    return benefit_decision_notices_pdf(benefit_notice_data(decisions))
