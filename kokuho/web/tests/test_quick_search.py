"""The one search box of every page (issue 17 item 2): a resident found by 記号・番号,
宛名番号, kana or birth date typed in any order; a word that reads as none is said; the
search is audited with what was asked; the box is there only for those who may search."""

import datetime as dt

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.audit.models import AuditEvent, EventType
from kokuho.eligibility.models import BranchNumber
from kokuho.testing import login_verified, make_insured, make_staff
from kokuho.web.forms import insured_number_read, quick_search_fields

pytestmark = pytest.mark.django_db


def test_each_word_goes_to_the_field_it_reads_as():
    assert quick_search_fields("キュウフ　S45.1.1 7000000001 10-000123") == (
        {"kana": "キュウフ", "birth": "S45.1.1", "atena_no": "7000000001",
         "insured_no": "10-000123"},
        [],
    )  # fmt: skip
    assert quick_search_fields("１０・０００１２３・０１ きゅうふ") == (
        {"insured_no": "10・000123・01", "kana": "きゅうふ"},
        [],
    )
    assert quick_search_fields("サトウ スズキ 山田") == ({"kana": "サトウ"}, ["スズキ", "山田"])
    assert insured_number_read("10-000123-01") == ("10", "000123", "01")
    assert insured_number_read("10-000123-001") is None and insured_number_read("10") is None


@pytest.fixture
def counter(client):
    staff = make_staff(role=Role.COUNTER)
    login_verified(client, staff)
    return staff


def _numbers(person):
    branch = BranchNumber.objects.select_related("household_number").get(person=person)
    return branch.household_number.symbol, branch.household_number.number, branch.branch


def test_a_resident_is_found_by_the_number_on_the_card(client, counter):
    person = make_insured(birth_date=dt.date(1970, 1, 1))
    other = make_insured(birth_date=dt.date(1970, 1, 1))
    symbol, number, branch = _numbers(person)
    page = client.get(reverse("search"), {"q": f"{symbol}-{number}"}).content.decode()
    assert person.atena_no in page and other.atena_no not in page
    with_branch = client.get(reverse("search"), {"q": f"{symbol}・{number}・{branch}"})
    assert person.atena_no in with_branch.content.decode()
    wrong = client.get(reverse("search"), {"q": f"{symbol}-{number}-99"}).content.decode()
    assert person.atena_no not in wrong
    # The search page's own field does the same, combined with the others.
    fields = {"insured_no": f"{symbol}-{number}", "birth": "1970-01-01"}
    assert person.atena_no in client.get(reverse("search"), fields).content.decode()
    event = AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).latest("pk")
    assert event.extra["criteria"]["insured_no"] == f"{symbol}-{number}"
    assert event.extra["shown"] == [person.atena_no]


def test_a_word_that_reads_as_nothing_is_said_and_nothing_is_searched(client, counter):
    make_insured()
    before = AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).count()
    page = client.get(reverse("search"), {"q": "キュウフ 山田"}).content.decode()
    assert "「山田」は検索の条件として読めません" in page
    assert AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).count() == before
    bad = client.get(reverse("search"), {"insured_no": "10/"}).content.decode()
    assert "記号・番号は「記号-番号」" in bad


def test_the_box_is_on_every_page_for_those_who_may_search(client, counter):
    person = make_insured()
    for url in (reverse("home"), reverse("person_detail", args=[person.atena_no])):
        assert 'id="quick-search"' in client.get(url).content.decode(), url
    client.logout()
    login_verified(client, make_staff(role=Role.ADMINISTRATOR))
    assert 'id="quick-search"' not in client.get(reverse("home")).content.decode()


def test_results_can_be_narrowed_to_residents_or_to_former_residents(client, counter):
    from kokuho.testing import make_person

    here = make_person(kana="フィルタ イマ", atena_no="8100000001")
    gone = make_person(kana="フィルタ マエ", atena_no="8100000002",
                       resident_until=dt.date(2025, 3, 31))  # fmt: skip

    def shown(**extra):
        page = client.get(reverse("search"), {"kana": "フィルタ", **extra}).content.decode()
        return {p.atena_no for p in (here, gone) if p.atena_no in page}

    assert shown() == {here.atena_no, gone.atena_no}
    assert shown(status="current") == {here.atena_no}
    assert shown(status="former") == {gone.atena_no}
    assert (
        "絞り込みの値が正しくありません"
        in client.get(reverse("search"), {"kana": "フィルタ", "status": "x"}).content.decode()
    )
    # A filter alone is no search.
    alone = client.get(reverse("search"), {"status": "current"}).content.decode()
    assert "いずれかを入力してください" in alone
    event = AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).latest("pk")
    assert event.extra["criteria"]["status"] == "former"


def test_results_can_be_narrowed_to_the_insured_today_and_to_heads(client, counter):
    from kokuho.testing import make_person

    head = make_insured()
    child = make_insured(household_no=head.household.household_no, relation="子")
    left = make_insured(moved_out=dt.date(2025, 3, 31))  # 資格喪失: no longer insured
    other = make_person(kana="キュウフ ハナコ", atena_no="8200000001")  # another insurer's
    people = (head, child, left, other)

    def shown(**extra):
        page = client.get(reverse("search"), {"kana": "キュウフ", **extra}).content.decode()
        return {p.atena_no for p in people if p.atena_no in page}

    assert shown() == {p.atena_no for p in people}
    assert shown(insured_only="on") == {head.atena_no, child.atena_no}
    assert shown(heads_only="on") == {head.atena_no, left.atena_no, other.atena_no}
    assert shown(insured_only="on", heads_only="on") == {head.atena_no}
    event = AuditEvent.objects.filter(event_type=EventType.PERSON_SEARCHED).latest("pk")
    assert event.extra["criteria"]["insured_only"] and event.extra["criteria"]["heads_only"]
    alone = client.get(reverse("search"), {"insured_only": "on"}).content.decode()
    assert "いずれかを入力してください" in alone
