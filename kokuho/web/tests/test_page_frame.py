"""The frame of every page (issue 17 item 5): a skip link to the main content, the menu as
a named navigation landmark, a favicon that exists, and print styles that drop the bar."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from kokuho.accounts.permissions import Role
from kokuho.testing import login_verified, make_staff

pytestmark = pytest.mark.django_db


def test_the_frame_has_a_skip_link_a_named_menu_and_a_favicon(client):
    login_verified(client, make_staff(role=Role.COUNTER))
    body = client.get(reverse("home")).content.decode()
    assert body.index('class="skip-link" href="#main"') < body.index('<header class="bar">')
    assert '<main id="main"' in body
    assert '<nav aria-label="業務メニュー"' in body
    icon = re.search(r'<link rel="icon" href="/static/([^"]+)"', body)
    assert icon and finders.find(icon.group(1))
    css = Path(finders.find("web/kokuho.css")).read_text(encoding="utf-8")
    printing = css[css.index("@media print") :]
    assert ".bar" in printing and ".quick-search" in printing


def test_the_login_page_has_the_frame_too(client):
    body = client.get(reverse("login")).content.decode()
    assert 'class="skip-link"' in body and '<main id="main"' in body
