"""Set-based counts for the main job and the section's daily overview (資格の概況)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q

from kokuho.eligibility.models import CurrentEligibility, EligibilityNotice, EligibilityPeriod
from kokuho.people.models import Household, Person


@dataclass(frozen=True)
class EligibilityOverview:
    on: dt.date
    insured: int
    households: int
    pseudo_heads: int
    notices: dict[str, int]

    def format(self) -> str:
        lines = [
            f"国保の資格（{self.on.isoformat()} 時点）",
            f"  被保険者数                 {self.insured:>7,} 人",
            f"  国保世帯数                 {self.households:>7,} 世帯",
            f"  うち擬制世帯主の世帯       {self.pseudo_heads:>7,} 世帯",
        ]
        for code, count in sorted(self.notices.items()):
            lines.append(f"  警告 {code:<22}{count:>7,} 件")
        return "\n".join(lines)


def _covering(on: dt.date) -> Q:
    return Q(start__lte=on) & (Q(end__isnull=True) | Q(end__gte=on))


def eligibility_overview(*, on: dt.date) -> EligibilityOverview:
    """Counts from the current versions only (corrections replace what they correct)."""
    current = EligibilityPeriod.objects.filter(
        _covering(on), version__in=CurrentEligibility.objects.values("version_id")
    )
    insured_ids = current.values("version__person_id")
    insured = Person.objects.filter(pk__in=insured_ids)
    households = Household.objects.filter(members__in=insured).distinct()
    pseudo = households.exclude(head__in=insured)
    notices = dict(
        EligibilityNotice.objects.values_list("code")
        .annotate(n=Count("id"))
        .values_list("code", "n")
    )
    return EligibilityOverview(on, insured.count(), households.count(), pseudo.count(), notices)
