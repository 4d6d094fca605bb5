"""CSRF on every state change: every screen URL refuses a POST without the token — signed in
as an account that may use it, so the refusal is the CSRF check's and not the permission's —
and accepts the same POST with it. The API takes no cookie at all: its operations are
authorised by their bearer token only, so a staff session opens none of them."""

import pytest
from django.conf import settings
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.urls import reverse
from django.utils.crypto import get_random_string

from kokuho.accounts.decorators import declared_permission, is_mfa_step, is_public
from kokuho.accounts.permissions import ROLE_PERMISSIONS, Role
from kokuho.accounts.tests.test_url_permissions import ALL_PATTERNS, _sample_kwargs
from kokuho.cityapi.api import ScopedToken, api
from kokuho.testing import TEST_PASSWORD, login_verified, make_person, make_staff

CSRF_REFUSED = "CSRF検証に失敗"

SCREENS = [(r, p) for r, p in ALL_PATTERNS if not getattr(p.callback, "kokuho_api", False)]
API_PATTERNS = [(r, p) for r, p in ALL_PATTERNS if getattr(p.callback, "kokuho_api", False)]


def _role_for(pattern) -> Role | None:
    """An account that passes the view's gate: the first role holding its permission
    (None: the view is public or for any signed-in account)."""
    permission = declared_permission(pattern.callback)
    if permission is None:
        return Role.ELIGIBILITY if is_mfa_step(pattern.callback) else Role.COUNTER
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


def _signed_in(role: Role, *, verified: bool = True) -> Client:
    # A view's own error on an empty form is another test's business: here only whether
    # the request got past the CSRF check counts.
    browser = Client(enforce_csrf_checks=True, raise_request_exception=False)
    staff = make_staff(role=role)
    if verified:
        login_verified(browser, staff)
    else:
        browser.force_login(staff)  # password only: the MFA pages are what it may open
    return browser


def _token(browser: Client) -> str:
    """A CSRF secret in the browser's cookie, and the same value to send back (what the
    page's hidden field carries, unmasked)."""
    secret = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret
    return secret


def test_there_are_screens_and_api_urls_to_check():
    assert len(SCREENS) >= 50 and API_PATTERNS


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.parametrize(("route", "pattern"), SCREENS, ids=[r for r, _ in SCREENS])
def test_every_screen_url_refuses_a_post_without_the_csrf_token(route, pattern, tmp_path, settings):
    settings.KOKUHO_VAULT_KEY_FILE = tmp_path / "vault-keys.json"
    person = make_person()
    url = reverse(pattern.name, kwargs=_sample_kwargs(route, pattern, person))
    anonymous = is_public(pattern.callback) and route != "logout/"

    def browser() -> Client:
        if anonymous:
            return Client(enforce_csrf_checks=True, raise_request_exception=False)
        return _signed_in(_role_for(pattern), verified=not is_mfa_step(pattern.callback))

    without = browser().post(url, {"username": "x", "password": TEST_PASSWORD})
    assert without.status_code == 403, (route, without.status_code)
    assert CSRF_REFUSED in without.content.decode(), route

    # The control: the same account, the same POST with the token gets past the check.
    with_token = browser()
    token = _token(with_token)
    passed = with_token.post(url, {"csrfmiddlewaretoken": token, "username": "x"})
    assert CSRF_REFUSED not in passed.content.decode(errors="replace"), route


def test_no_screen_view_is_exempt_from_the_csrf_check():
    exempt = [route for route, pattern in SCREENS if getattr(pattern.callback, "csrf_exempt", 0)]
    assert exempt == []


def _api_operations():
    for bound in api._get_bound_routers():
        for path_view in bound.path_operations.values():
            yield from path_view.operations


@pytest.mark.parametrize("operation", list(_api_operations()), ids=lambda op: op.operation_id)
def test_every_api_operation_is_authorised_by_its_bearer_token_only(operation):
    """No cookie-based authentication (ninja's SessionAuth, django_auth, APIKeyCookie) on
    any operation: with a token in a header, a page elsewhere cannot make a browser send
    it, which is why the API needs no CSRF token."""
    assert operation.auth_callbacks
    assert all(type(auth) is ScopedToken for auth in operation.auth_callbacks)


@pytest.mark.django_db(databases=["default", "vault"])
@pytest.mark.parametrize("operation", list(_api_operations()), ids=lambda op: op.operation_id)
def test_a_staff_session_opens_no_api_operation(operation):
    person = make_person()
    # The strongest session the screens know: 資格担当, past the second factor.
    browser = _signed_in(Role.ELIGIBILITY)
    token = _token(browser)
    path = next(route for route, pattern in API_PATTERNS if pattern.name == operation.url_name)
    url = "/" + path.replace("<atena_no>", person.atena_no)
    for method in operation.methods:
        response = browser.generic(
            method,
            url,
            '{"records": []}',
            content_type="application/json",
            headers={"X-CSRFToken": token},
            secure=True,
        )
        assert response.status_code == 401, (operation.operation_id, response.status_code)
        assert response.json()["code"] == "NOT_AUTHENTICATED"
        assert person.atena_no.encode() not in response.content
