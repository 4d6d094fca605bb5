"""Accessibility (issue 17 item 5, JIS X 8341-3): axe-core in the real browser over every
screen a crawler reaches from each role's home — the menu and the links of each page, GET
only, three steps deep — with no serious or critical violation, no server error on the
way, and no link shown to a role that refuses it (a dead end).

The city is small but has what the screens show: an insured household with a 高額療養費
decision, an application and a payment (so the person and household hubs, the lists and the
detail pages have rows)."""

import re
from datetime import date

import pytest

from kokuho.accounts.permissions import Role
from kokuho.testing import TEST_PASSWORD, make_staff, totp_code
from kokuho.web.tests.test_browser import page as page  # the real-browser fixture

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
SERIOUS = {"serious", "critical"}
# Not pages: files, downloads, the API, leaving, and actions that a GET would start.
SKIP = re.compile(r"logout|\.pdf|\.csv|\.txt|\.zip|/files/|/api/|/download|/reveal|/static/")
MAX_PAGES = 40


def _city():
    from kokuho.retention.tests.benefit_builders import (
        account,
        benefit_application,
        kogaku_chain,
        payment_due,
    )
    from kokuho.testing import make_insured

    insured = make_insured(birth_date=date(1970, 1, 10))
    make_insured(birth_date=date(2019, 5, 5), household_no=insured.household.household_no,
                 relation="子")  # fmt: skip
    staff = make_staff(role=Role.BENEFITS, username="a11y-builder")
    kogaku_chain(person=insured, staff=staff, month=date(2026, 5, 1), decided=[date(2026, 8, 3)])
    benefit_application(person=insured, staff=staff, received=date(2026, 6, 1),
                        decided=[date(2026, 6, 5)])  # fmt: skip
    kept = account(insured, recorded=date(2026, 8, 1))
    payment_due(person=insured, account=kept, decided=date(2026, 8, 3))
    return insured


def _login(live_server, browser_page, staff) -> None:
    page = browser_page
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if "/account/mfa/" in page.url:
        page.fill("#id_token", totp_code(staff))
        page.click("#mfa button[type=submit]")
    page.wait_for_url(f"{live_server.url}/home/")


def _pattern(path: str) -> str:
    """One visit per kind of page: ids and numbers are alike."""
    return re.sub(r"\d+", "N", path.split("?")[0])


def _crawl(live_server, browser_page, axe, seeds: list[str], checked: set[str]) -> list[str]:
    """Follow the role's links from `seeds`, three steps deep; each kind of page is checked
    by axe once over all roles (`checked`), but every role's own links are followed."""
    page = browser_page
    found: list[str] = []
    queue = [(seed, 0) for seed in seeds]
    visited: set[str] = set()
    while queue and len(visited) < MAX_PAGES:
        path, depth = queue.pop(0)
        kind = _pattern(path)
        if kind in visited:
            continue
        visited.add(kind)
        response = page.goto(live_server.url + path)
        if response is not None and response.status >= 500:
            found.append(f"{path}: HTTP {response.status}")  # a screen that breaks
        if response is not None and response.status == 403 and depth > 0:
            found.append(f"{path}: HTTP 403 from a link the role was shown")  # a dead end
        if (
            response is None
            or response.status != 200
            or "text/html" not in (response.headers.get("content-type", ""))
        ):
            continue
        page.wait_for_load_state("networkidle")
        if kind not in checked:
            checked.add(kind)
            for v in axe.run(page).response["violations"]:
                if v["impact"] in SERIOUS:
                    nodes = "; ".join(str(n["target"][0]) for n in v["nodes"][:3])
                    found.append(f"{path}: {v['id']} ({v['impact']}) {v['help']} — {nodes}")
        if depth >= 3:
            continue
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        queue += [(h, depth + 1) for h in links if h.startswith("/") and not SKIP.search(h)]
    return found


def test_no_serious_or_critical_violation_on_any_screen_of_any_role(live_server, page):
    from axe_playwright_python.sync_playwright import Axe

    insured = _city()
    seeds = [
        "/home/",
        f"/people/{insured.atena_no}/?purpose=nhi_benefits",
        f"/households/{insured.household.household_no}/?purpose=nhi_benefits",
        f"/?q={insured.name_kana.split()[0]}",
    ]
    axe = Axe()
    # The check can fail: axe in this browser finds an image without text at once.
    page.set_content('<html lang="ja"><body><main><img src="x.png"></main></body></html>')
    assert "image-alt" in {v["id"] for v in axe.run(page).response["violations"]}
    seen: set[str] = set()
    problems: list[str] = []
    for role in Role:
        contractor = role == Role.CONTRACTOR
        staff = make_staff(
            role=role,
            username=f"a11y-{role.name.lower()}",
            is_contractor=contractor,
            valid_until=date(2099, 3, 31) if contractor else None,
        )
        page.context.clear_cookies()
        _login(live_server, page, staff)
        problems += _crawl(live_server, page, axe, seeds, seen)
    print(f"axe: {len(seen)} kinds of screen checked")
    assert len(seen) > 30  # the crawler reached the screens, not just the homes
    assert problems == [], "\n".join(problems)
