"""Demo マイナ保険証 statuses: what the national side's file would say about the demo city.

About 7 in 10 insured persons have registered their マイナンバーカード as 保険証, the rest
have not, cancelled, or let the card's certificate expire; a few registered persons asked
for a 資格確認書 all the same (要配慮者). Deterministic for a seed, written once."""

import datetime as dt
import random

from django.db import transaction

from kokuho.audit.models import EventType, SubjectType
from kokuho.audit.services import audit_event_record
from kokuho.certificates.models import MynaRegistration, MynaStatus
from kokuho.certificates.renewal import insured_on
from kokuho.core.purposes import Purpose

_WEIGHTS = (
    (MynaStatus.REGISTERED, 70),
    (MynaStatus.UNREGISTERED, 20),
    (MynaStatus.CANCELLED, 4),
    (MynaStatus.CARD_EXPIRED, 6),
)


def demo_myna_statuses(*, on: dt.date, seed: int) -> int:
    """Statuses for insured persons who have none yet; how many were written."""
    known = set(MynaRegistration.objects.values_list("person_id", flat=True))
    todo = [pk for pk in insured_on(on) if pk not in known]
    rnd = random.Random(seed * 7919 + 17)
    statuses = [s for s, _ in _WEIGHTS]
    weights = [w for _, w in _WEIGHTS]
    rows = []
    for pk in todo:
        status = rnd.choices(statuses, weights)[0]
        requested = status == MynaStatus.REGISTERED and rnd.random() < 0.03
        rows.append(
            MynaRegistration(
                person_id=pk,
                status=status,
                status_as_of=on,
                kakuninsho_requested_on=on if requested else None,
            )
        )
    with transaction.atomic():
        MynaRegistration.objects.bulk_create(rows, batch_size=2000)
        if rows:
            audit_event_record(
                event_type=EventType.MYNA_STATUS_CHANGED,
                actor=None,
                subject_type=SubjectType.SYSTEM,
                subject_id=f"demo:{on.isoformat()}",
                purpose=Purpose.NHI_ELIGIBILITY,
                extra={"persons": len(rows), "source": "demo"},
            )
    return len(rows)
