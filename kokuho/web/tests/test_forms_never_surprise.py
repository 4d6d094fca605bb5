"""Forms that never surprise (issue 17 item 4): no browser-language messages (`novalidate`
on every form), no silent cut (`maxlength` left to the server, which says so in Japanese)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.testing import make_person, make_staff
from kokuho.web.forms import PersonSearchForm

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FORM_TAG = re.compile(r"<form\b[^>]*>", re.S)
ALL_FORMS = [
    (path.relative_to(TEMPLATES).as_posix(), tag)
    for path in sorted(TEMPLATES.rglob("*.html"))
    for tag in FORM_TAG.findall(path.read_text())
]


def test_there_are_forms_to_check():
    assert len(ALL_FORMS) >= 50


@pytest.mark.parametrize(("template", "tag"), ALL_FORMS, ids=[t for t, _ in ALL_FORMS])
def test_every_form_tag_has_novalidate(template, tag):
    assert re.search(r"\bnovalidate\b", tag), f"{template}: {tag}"


def test_rendered_fields_carry_no_browser_checks():
    html = str(PersonSearchForm())
    assert "maxlength" not in html and " required" not in html


@pytest.mark.django_db
def test_a_too_long_kana_gets_a_japanese_message_not_zero_hits(client):
    make_person(kana="ヤマダ タロウ")
    client.force_login(make_staff(role=Role.COUNTER))
    response = client.get(reverse("search"), {"kana": "ヤ" * 61})
    body = response.content.decode()
    assert "氏名カナは60文字以内で入力してください（61文字入力されています）。" in body
    assert "0件" not in body


@pytest.mark.django_db(databases=["default", "vault"])
def test_an_empty_required_field_is_named_in_japanese(client):
    """The server's required message where the browser's English one used to be."""
    from kokuho.benefits.reduction.models import CopayReductionApplication
    from kokuho.testing import login_verified

    login_verified(client, make_staff(role=Role.BENEFITS))
    response = client.post(reverse("reduction_application_new"), {})
    body = response.content.decode()
    assert "このフィールドは必須です" in body or "入力してください" in body
    assert "This field is required" not in body
    assert not CopayReductionApplication.objects.exists()


# 元に戻せない操作: decisions (append-only), 返戻, 照合, 確認 of national items, 再交付, the
# 一斉更新, the 所属長's sign-off, a held row discarded … each asks before it is sent.
IRREVERSIBLE = {
    "benefit_decision_new",
    "kogaku_decision_new",
    "reduction_decision_new",
    "reduction_decision_extend",
    "kogaku_paid_new",
    "payment_reissue",
    "claim_return",
    "claim_assign",
    "national_work_item_confirm",
    "national_continuity_accept",
    "national_continuity_resolve",
    "national_carry_confirm",
    "national_carry_reject",
    "kogaku_carried_withdraw",
    "subject_request_withdraw",
    "document_reissue",
    "documents_renewal_start",
    "inspection_review_detail",
}
ACTION = re.compile(r"""action="\{% url '([a-z_]+)'""")


def test_every_irreversible_action_asks_first():
    asked = {
        match.group(1)
        for _template, tag in ALL_FORMS
        if (match := ACTION.search(tag)) and match.group(1) in IRREVERSIBLE
        if re.search(r'\bdata-confirm="[^"]*よろしいですか。"', tag)
    }
    assert asked == IRREVERSIBLE
    discard = (TEMPLATES / "web/quarantine_detail.html").read_text()
    assert re.search(r'value="discard" data-confirm="[^"]+"', discard)
    base = (TEMPLATES / "web/base.html").read_text()
    assert "web/confirm.js" in base


def test_no_template_comment_spans_lines():
    """`{# … #}` ends on its own line, or Django prints it on the page (`{% comment %}`
    spans lines)."""
    unclosed = [
        f"{path.relative_to(TEMPLATES)}: {line.strip()[:40]}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for line in path.read_text().splitlines()
        if "{#" in line and "#}" not in line[line.index("{#") :]
    ]
    assert unclosed == []
