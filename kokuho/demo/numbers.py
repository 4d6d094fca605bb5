"""My Numbers for the demo city: synthetic, valid check digits, kept in the vault only.

Every demo number is `99` + the person's row id in nine digits + the check digit, so a
demo number is recognisable as made up (and never a fixture in the repository: they are
derived at run time). They are linked as a 初期移行 from the 団体内統合宛名システム would be
(番号確認 = 住民基本台帳との照合), through the vault's own bulk service.
"""

from kokuho.core.mynumber import my_number_check_digit
from kokuho.core.purposes import Purpose
from kokuho.identity.checks import NumberCheck
from kokuho.identity.services import my_numbers_register_bulk
from kokuho.people.models import Person

DEMO_PREFIX = "99"


def demo_my_number(person_id: int) -> str:
    first = f"{DEMO_PREFIX}{person_id:09d}"
    return first + str(my_number_check_digit(first))


def demo_my_numbers_link() -> int:
    """Link a demo number to every resident who has none yet; returns how many were new."""
    persons = Person.objects.values_list("pk", "atena_no")
    numbers = {atena_no: demo_my_number(pk) for pk, atena_no in persons}
    return my_numbers_register_bulk(
        numbers=numbers,
        number_check=NumberCheck.REGISTRY_MATCH,
        purpose=Purpose.NHI_ELIGIBILITY,
        source="demo-city",
    )
