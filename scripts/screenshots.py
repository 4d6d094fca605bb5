"""Screenshots for the docs (issue 17): each demo role's home, a resident and a household as
hubs (給付担当 for 保険給付, 資格担当 for 資格), and two work queues, from the demo as
`make demo` serves it.

    make demo            # in one terminal (serves http://127.0.0.1:8000/)
    .venv/bin/python scripts/screenshots.py [--url http://127.0.0.1:8000] [--out docs/screenshots]

Logs in with var/demo-logins.txt (the demo's generated passwords; the second factor's code
from `kokuho demo-totp`), in Debian chromium through Playwright. The residents shown are the
demo city's, all synthetic; My Number never appears on these screens (only masked, and only
after the audited reveal, which the script does not press).
"""

import argparse
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ROLES = ("madoguchi", "shikaku", "kyufu", "kanri", "kansa", "shozokucho", "itaku")


def _logins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "var" / "demo-logins.txt").read_text().splitlines():
        username, password, *_ = [*line.split("\t"), ""]
        found[username] = password
    return found


def _totp(username: str) -> str:
    out = subprocess.run(  # noqa: S603 (our own demo usernames, no shell)
        [str(ROOT / ".venv" / "bin" / "kokuho"), "demo-totp", username],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    return out.stdout.strip().split()[-1]


def _hub() -> tuple[str, str]:
    """A resident whose household has a 高額療養費 decision (read from the demo database)."""
    db = sqlite3.connect(ROOT / "var" / "kokuho.sqlite3")
    row = db.execute(
        "SELECT p.atena_no, h.household_no FROM benefits_kogakudecision d"
        " JOIN people_household h ON h.id = d.household_id"
        " JOIN people_person p ON p.id = h.head_id ORDER BY d.id LIMIT 1"
    ).fetchone()
    if row is None:
        sys.exit("デモに高額療養費の決定がありません: make demo を実行してください")
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kokuho.settings")
    from playwright.sync_api import sync_playwright

    logins = _logins()
    atena_no, household_no = _hub()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for username in ROLES:
            context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
            page = context.new_page()
            page.goto(f"{args.url}/login/")
            page.fill("#id_username", username)
            page.fill("#id_password", logins[username])
            page.click("button[type=submit]")
            page.wait_for_load_state()
            if "/account/mfa/" in page.url:
                page.fill("#id_token", _totp(username))
                page.click("#mfa button[type=submit]")
            page.wait_for_url("**/home/")
            page.screenshot(path=args.out / f"home-{username}.png", full_page=True)
            if username == "kyufu":
                page.goto(f"{args.url}/people/{atena_no}/?purpose=nhi_benefits")
                page.locator("#benefits").wait_for()
                page.screenshot(path=args.out / "hub-person.png", full_page=True)
                page.goto(f"{args.url}/households/{household_no}/?purpose=nhi_benefits")
                page.screenshot(path=args.out / "hub-household.png", full_page=True)
                page.goto(f"{args.url}/claims/unmatched/")
                page.screenshot(path=args.out / "queue-claims.png", full_page=True)
            if username == "shikaku":
                page.goto(f"{args.url}/people/{atena_no}/?purpose=nhi_eligibility")
                page.locator("#national").wait_for()
                page.screenshot(path=args.out / "hub-person-eligibility.png", full_page=True)
                page.goto(f"{args.url}/national/work-items/")
                page.screenshot(path=args.out / "queue-national.png", full_page=True)
            context.close()
        browser.close()
    print(f"{len(list(args.out.glob('*.png')))} 枚を {args.out} に保存しました")


if __name__ == "__main__":
    main()
