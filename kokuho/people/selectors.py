"""Reads of residents and households. Those that show personal data to staff go through
`kokuho.people.services.person_view` / `household_view`, which write the access event."""

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value, When

from kokuho.core.kana import kana_search_key
from kokuho.people.models import Household, Person, Relation

SEARCH_LIMIT = 100


@dataclass(frozen=True)
class SearchCriteria:
    kana: str = ""
    birth_date: date | None = None
    atena_no: str = ""
    # 記号・番号 as typed, and the persons it names (looked up by the caller, which knows
    # the eligibility records: this layer does not).
    insured_no: str = ""
    person_ids: tuple[int, ...] | None = None
    # A filter on what the other criteria find, never a criterion by itself: "" everyone,
    # "current" 住民 only, "former" 消除者 only.
    status: str = ""
    heads_only: bool = False  # 世帯主のみ (also a filter, never a criterion by itself)
    # 国保の被保険者のみ: a condition on Person rows from the eligibility layer (this layer
    # does not read eligibility; the caller hands it the condition, never a list of ids).
    within: Any = None

    @property
    def is_empty(self) -> bool:
        return not (self.kana or self.birth_date or self.atena_no or self.insured_no)


_BINARY_COLLATIONS = {"C", "POSIX", "C.UTF-8", "C.utf8"}


@cache
def _binary_order(alias: str) -> bool:
    """Whether the database orders text by code point (SQLite's binary collation; PostgreSQL
    under C or C.UTF-8, as ours are created): then a prefix is exactly a range. Asked once
    per process and database."""
    database = connections[alias]
    if database.vendor == "sqlite":
        return True
    with database.cursor() as cursor:
        cursor.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()")
        return cursor.fetchone()[0] in _BINARY_COLLATIONS


def _kana_prefix(key: str) -> Q:
    """A kana prefix as a range on the key: an index range that also yields the search's kana
    order. A bare LIKE is no index condition under PostgreSQL's C.UTF-8 collation, and with
    ORDER BY … LIMIT the planner walks the whole kana index filtering (a common family name
    in a city of a million: ~360,000 rows, 0.5 s; the range: 15 ms). Under a linguistic
    collation a range is not a prefix, so the LIKE is kept there (correct, slower)."""
    if _binary_order(Person.objects.db):
        return Q(kana_key__gte=key, kana_key__lt=key + "\U0010ffff")
    return Q(kana_key__startswith=key)


def person_search(*, criteria: SearchCriteria, limit: int = SEARCH_LIMIT) -> list[Person]:
    """Residents (current and former) matching every given criterion, kana order."""
    if criteria.is_empty:
        return []
    return list(person_search_query(criteria)[:limit])


def person_search_query(criteria: SearchCriteria) -> QuerySet[Person]:
    """The search as a query (its plan is tested: each criterion an index condition)."""
    query = Person.objects.select_related("household")
    if criteria.kana:
        query = query.filter(_kana_prefix(kana_search_key(criteria.kana)))
    if criteria.birth_date:
        query = query.filter(birth_date=criteria.birth_date)
    if criteria.atena_no:
        query = query.filter(atena_no=criteria.atena_no)
    if criteria.person_ids is not None:
        query = query.filter(pk__in=criteria.person_ids)
    if criteria.heads_only:
        query = query.filter(relation=Relation.HEAD)
    if criteria.within is not None:
        query = query.filter(criteria.within)
    if criteria.status == "current":
        query = query.filter(resident_until__isnull=True)
    elif criteria.status == "former":
        query = query.filter(resident_until__isnull=False)
    return query.order_by("kana_key", "birth_date", "atena_no")


def household_members(*, household: Household) -> QuerySet[Person]:
    """Members as the registry lists them: head first, current before former, then age."""
    head_first = Case(When(id=household.head_id, then=Value(0)), default=Value(1))
    return household.members.annotate(head_first=head_first).order_by(
        "head_first", F("resident_until").asc(nulls_first=True), "birth_date"
    )
