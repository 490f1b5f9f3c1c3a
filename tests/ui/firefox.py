"""Debian's ``firefox-esr``, headless, driven over Marionette (Firefox's own remote protocol).

Playwright cannot drive Debian's Firefox (its Firefox protocol needs Playwright's patched
build), but every Firefox speaks Marionette, and Mozilla's ``marionette_driver`` talks to it:
navigate, find, click, type and run scripts, in the real browser engine users have.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.requirements import require


def firefox_binary() -> str:
    path = os.environ.get("RUNYARD_FIREFOX") or shutil.which("firefox-esr") or ""
    if not path:
        require("firefox", "no firefox-esr on this machine")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Firefox:
    """A thin layer over a Marionette session: waits are explicit, failures say what was
    awaited."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def goto(self, url: str) -> None:
        self.session.navigate(url)

    @property
    def url(self) -> str:
        return str(self.session.get_url())

    def js(self, script: str, *args: Any) -> Any:
        """Run ``script`` (a function body; ``arguments`` holds ``args``) in the page."""
        return self.session.execute_script(script, script_args=list(args))

    def wait(self, condition: str, *args: Any, timeout: float = 15.0) -> Any:
        """Poll the JavaScript expression ``condition`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.js(f"return ({condition});", *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"Firefox: still false after {timeout:.0f}s: {condition}")
            time.sleep(0.1)

    def click(self, css: str) -> None:
        self.wait("document.querySelector(arguments[0])", css)
        from marionette_driver.by import By

        self.session.find_element(By.CSS_SELECTOR, css).click()

    def fill(self, css: str, text: str) -> None:
        from marionette_driver.by import By

        self.wait("document.querySelector(arguments[0])", css)
        field = self.session.find_element(By.CSS_SELECTOR, css)
        field.clear()
        field.send_keys(text)

    def press_enter(self, css: str) -> None:
        from marionette_driver.by import By
        from marionette_driver.keys import Keys

        self.session.find_element(By.CSS_SELECTOR, css).send_keys(Keys.ENTER)

    def texts(self, css: str) -> list[str]:
        return list(
            self.js(
                "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent);",
                css,
            )
        )

    def screenshot(self, path: str) -> None:
        import base64

        with open(path, "wb") as fh:
            fh.write(base64.b64decode(self.session.screenshot(full=True)))


@contextmanager
def firefox_session(profile_home: str) -> Iterator[Firefox]:
    """A headless firefox-esr with a Marionette session, closed afterwards."""
    binary = firefox_binary()
    try:
        from marionette_driver.marionette import Marionette
    except ImportError:
        require("firefox", "marionette-driver is not installed (pip install marionette-driver)")
        raise
    session = Marionette(
        bin=binary,
        headless=True,
        port=_free_port(),
        gecko_log=os.path.join(profile_home, "gecko.log"),
        startup_timeout=120,
    )
    session.start_session()
    session.set_window_rect(width=1400, height=900)
    try:
        yield Firefox(session)
    finally:
        try:
            session.delete_session()
        finally:
            if session.instance is not None:
                session.instance.close()
