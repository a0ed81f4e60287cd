"""The browser tests' Chromium lookup: a machine without Chromium skips them, CI fails them."""

from __future__ import annotations

import pytest

from tests import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.delenv("CHROMIUM", raising=False)


def test_without_chromium_the_browser_tests_skip_with_a_message(
    no_chromium: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium found at /usr/bin/chromium"):
        browser.chromium_or_skip()


def test_in_ci_a_missing_chromium_fails(no_chromium: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "1")
    with pytest.raises(pytest.fail.Exception, match="CI is set"):
        browser.chromium_or_skip()


def test_chromium_env_names_the_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser, "CANDIDATES", ())
    monkeypatch.setenv("CHROMIUM", "sh")  # any executable on the PATH stands in for it
    assert (browser.find_chromium() or "").endswith("/sh")
