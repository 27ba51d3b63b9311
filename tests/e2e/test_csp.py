"""The browser enforces the app's Content-Security-Policy, and the e2e check sees breaches."""

from __future__ import annotations

from tests.e2e.conftest import Screens
from tests.web.conftest import Salon


def test_the_browser_blocks_inline_script_and_the_suite_notices(
    screens: Screens, salon: Salon
) -> None:
    page = screens.open()
    response = page.goto("/book/")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    # htmx and app.js load and run under the policy (no violation so far).
    page.wait_for_function("() => window.htmx !== undefined")
    assert screens.csp_violations == []

    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate(
            """() => {
                const s = document.createElement("script");
                s.textContent = "window.__inline_ran = true";
                document.body.appendChild(s);
            }"""
        )
    assert page.evaluate("() => window.__inline_ran === true") is False
    assert any("script-src" in v for v in screens.csp_violations)
    screens.csp_violations.clear()  # seen on purpose; teardown checks for others
