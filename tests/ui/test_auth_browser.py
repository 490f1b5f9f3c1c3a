"""Signing in with real headless Chromium against ``runyard server --auth``; CSRF attempts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from runyard.auth.store import AuthStore
from runyard.store import store_for_uri

from tests.live_server import LiveServer, start_live_server
from tests.ui.conftest import screenshot

pytestmark = pytest.mark.timeout(180)

ADMIN = ("admin", "admin-password-1")
ALICE = ("alice", "alice-password-1")


@dataclass
class AuthUi:
    server: LiveServer
    auth: AuthStore

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def auth_ui(tmp_path_factory) -> Iterator[AuthUi]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("auth-ui")
    db_uri = f"sqlite:///{root / 'ui.db'}"
    env = {"RUNYARD_ADMIN_USERNAME": ADMIN[0], "RUNYARD_ADMIN_PASSWORD": ADMIN[1]}
    with start_live_server(
        db_uri, artifacts_destination=str(root / "artifacts"), extra_args=["--auth"], env=env
    ) as server:
        store = store_for_uri(db_uri, "mlflow-artifacts:/")
        auth = AuthStore(db_uri)
        store.create_experiment("visible-to-alice")
        hidden = store.create_experiment("hidden-from-alice")
        auth.create_user(*ALICE)
        auth.grant(ALICE[0], "experiment", hidden, "DENY")
        try:
            yield AuthUi(server, auth)
        finally:
            store.close()
            auth.close()


def sign_in(page: Any, base: str, user: tuple[str, str]) -> None:
    page.goto(base + "/")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")


def session_cookie(page: Any) -> dict[str, Any] | None:
    return next((c for c in page.context.cookies() if c["name"] == "runyard_session"), None)


def test_sign_in_shows_only_what_the_user_may_read(auth_ui: AuthUi, page: Any) -> None:
    page.goto(auth_ui.url + "/")
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", ALICE[0])
    page.fill("input[name=password]", "wrong-password-1")
    page.click("button[type=submit]")
    assert "Invalid username or password." in page.inner_text(".error-message")
    assert session_cookie(page) is None
    page.errors.clear()  # the refused sign-in answered 401, as it should

    # A session id planted before sign-in (fixation) is replaced by a fresh one.
    page.context.add_cookies(
        [{"name": "runyard_session", "value": "planted-by-attacker", "url": auth_ui.url}]
    )
    sign_in(page, auth_ui.url, ALICE)
    page.wait_for_selector("#experiments-table >> text=visible-to-alice")
    cookie = session_cookie(page)
    assert cookie is not None and cookie["value"] != "planted-by-attacker"
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # plain HTTP here; Secure behind TLS
    assert "hidden-from-alice" not in page.inner_text("main")
    assert page.inner_text(".account-name") == ALICE[0]

    # The page's own writes carry the session's CSRF token.
    page.fill("#new-experiment-name", "made-in-browser")
    page.click("#create-experiment button[type=submit]")
    page.wait_for_selector("#experiments-table >> text=made-in-browser")
    screenshot(page, "signed-in")
    assert page.errors == []

    page.click(".account button")
    page.wait_for_url("**/login**")
    assert page.request.get(auth_ui.url + "/api/2.0/runyard/experiments").status == 401


def test_writes_without_the_csrf_token_are_refused(auth_ui: AuthUi, page: Any) -> None:
    sign_in(page, auth_ui.url, ADMIN)
    page.wait_for_selector("#experiments-table")
    page.goto(auth_ui.url + "/admin")
    assert page.locator(".admin-users").count() == 1

    status = page.evaluate(
        """async () => (await fetch('/admin', {method: 'POST', body: new URLSearchParams({
            action: 'create_user', username: 'mallory', password: 'mallory-password-1'})
        })).status"""
    )
    assert status == 403
    status = page.evaluate(
        """async () => (await fetch('/ajax-api/2.0/mlflow/users/create', {method: 'POST',
            headers: {'Content-Type': 'application/json'},
            body: JSON.stringify({username: 'mallory', password: 'mallory-password-1'})})).status"""
    )
    assert status == 403

    # A page elsewhere auto-submitting a form at the admin page.
    attacker = page.context.new_page()
    attacker.set_content(
        f"""<form method="post" action="{auth_ui.url}/admin">
        <input name="action" value="create_user"><input name="username" value="mallory">
        <input name="password" value="mallory-password-1"></form>"""
    )
    with attacker.expect_navigation() as navigation:
        attacker.evaluate("document.forms[0].submit()")
    assert navigation.value.status in (401, 403)
    assert auth_ui.auth.find_user("mallory") is None

    # The admin page's own form works.
    page.fill("form.inline-form input[name=username][placeholder=username]", "walter")
    page.fill("form.inline-form input[name=password]", "walter-password-1")
    page.click("text=Create user")
    page.wait_for_selector(".admin-users >> text=walter")
    assert auth_ui.auth.find_user("walter") is not None


def test_login_form_without_its_csrf_token_is_refused(auth_ui: AuthUi, page: Any) -> None:
    page.goto(auth_ui.url + "/login")
    status = page.evaluate(
        """async () => (await fetch('/login', {method: 'POST', redirect: 'manual',
            body: new URLSearchParams({username: 'admin', password: 'admin-password-1'})
        })).status"""
    )
    assert status == 400
    assert session_cookie(page) is None
