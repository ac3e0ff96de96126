"""Cookie import from real-format Chromium and Firefox cookie stores in a temp HOME."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from cookiestores import (
    chromium_encrypt,
    chromium_profile,
    fake_secret_tool,
    fake_security,
    firefox_profiles,
    make_chromium_db,
)

from usagestat.core.cookies import (
    Cookie,
    CookieImportError,
    candidate_domains,
    host_matches,
    import_cookies,
    select_cookies,
)

NOW = time.time()
V11_PASSWORD = "s3cr3t-keyring-pw"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    bin_dir = tmp_path / "bin"
    fake_secret_tool(bin_dir, {})  # no keyring by default (never the real one)
    for name in ("XDG_CONFIG_HOME", "LOCALAPPDATA", "APPDATA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", os.pathsep.join([str(bin_dir), "/usr/bin", "/bin"]))
    return home


def chrome_root(home: Path) -> Path:
    return home / ".config" / "google-chrome"


def claude_cookies() -> list[dict]:
    return [
        {"host_key": ".claude.ai", "name": "sessionKey", "value": "sk-ant-sid01-SECRET-A"},
        {"host_key": "claude.ai", "name": "lastActiveOrg", "value": "org-1234"},
        {"host_key": "claude.ai", "name": "cf_session", "value": "sess-cookie", "expires": 0},
        {"host_key": ".claude.ai", "name": "old", "value": "expired-val", "expires": NOW - 60},
        {"host_key": "evil-claude.ai", "name": "evil1", "value": "EVIL-ONE"},
        {"host_key": ".evil-claude.ai", "name": "evil2", "value": "EVIL-TWO"},
        {"host_key": "claude.ai.evil.com", "name": "evil3", "value": "EVIL-THREE"},
        {"host_key": ".ai.evil.com", "name": "evil4", "value": "EVIL-FOUR"},
        {"host_key": "api.claude.ai", "name": "apionly", "value": "API-ONLY"},
        {"host_key": "other.example", "name": "unrelated", "value": "UNRELATED"},
    ]


EVIL = ("EVIL", "API-ONLY", "UNRELATED", "expired-val")


# -- matching rules --------------------------------------------------------------------


def test_host_matching_is_exact_domain_matching() -> None:
    assert host_matches("claude.ai", "claude.ai")
    assert host_matches(".claude.ai", "claude.ai")
    assert host_matches(".claude.ai", "www.claude.ai")
    assert not host_matches("claude.ai", "www.claude.ai")  # host-only cookie
    assert not host_matches("evil-claude.ai", "claude.ai")
    assert not host_matches(".evil-claude.ai", "claude.ai")
    assert not host_matches("claude.ai.evil.com", "claude.ai")
    assert not host_matches(".laude.ai", "claude.ai")
    assert not host_matches("www.claude.ai", "claude.ai")
    assert not host_matches(".", "claude.ai") and not host_matches("", "claude.ai")
    assert candidate_domains("www.perplexity.ai") == [
        "www.perplexity.ai",
        ".www.perplexity.ai",
        ".perplexity.ai",
        ".ai",
    ]


def test_select_prefers_the_most_specific_cookie_and_orders_deterministically() -> None:
    cookies = [
        Cookie(".claude.ai", "dup", "domain-value", "/", None, 5.0),
        Cookie("claude.ai", "dup", "host-value", "/", None, 9.0),
        Cookie("claude.ai", "b", "2", "/", None, 2.0),
        Cookie("claude.ai", "a", "1", "/", None, 2.0),
        Cookie("claude.ai", "deep", "3", "/api", None, 8.0),
        Cookie("claude.ai", "bad;name", "x", "/", None, 1.0),
        Cookie("claude.ai", "gone", "x", "/", NOW - 1, 1.0),
    ]
    chosen = select_cookies(cookies, "claude.ai", NOW)
    assert [(c.name, c.value) for c in chosen] == [
        ("deep", "3"),  # longer path first (RFC 6265 §5.4)
        ("a", "1"),  # then older, then by name
        ("b", "2"),
        ("dup", "host-value"),
    ]
    assert "host-value" not in repr(chosen)  # values never in reprs


# -- Chromium on Linux -----------------------------------------------------------------


def test_chrome_v10_with_domain_hash_prefix(home: Path) -> None:
    db = chromium_profile(chrome_root(home), "Default", claude_cookies())
    before = db.read_bytes()
    found = import_cookies("claude.ai", browser="chrome", profile=None)
    assert (found.browser, found.profile) == ("chrome", "Default")
    assert found.header == (
        "sessionKey=sk-ant-sid01-SECRET-A; lastActiveOrg=org-1234; cf_session=sess-cookie"
    )
    assert not any(bad in found.header for bad in EVIL)
    assert "SECRET" not in repr(found)
    assert db.read_bytes() == before  # the browser's file is never written


def test_chrome_v11_uses_the_secret_service_password(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "secret-tool.log"
    fake_secret_tool(tmp_path / "bin", {"chrome": V11_PASSWORD}, log=log)
    cookies = [
        {
            "host_key": ".claude.ai",
            "name": "sessionKey",
            "value": "v11-session-value",
            "version": b"v11",
            "password": V11_PASSWORD.encode(),
        },
        {"host_key": "claude.ai", "name": "legacy", "value": "v10-value"},
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    found = import_cookies("claude.ai", browser="chrome", profile=None)
    assert found.header == "sessionKey=v11-session-value; legacy=v10-value"
    assert log.read_text().splitlines() == ["lookup application chrome"]


def test_secret_service_is_not_asked_for_v10_only_stores(home: Path, tmp_path: Path) -> None:
    log = tmp_path / "secret-tool.log"
    fake_secret_tool(tmp_path / "bin", {"chrome": V11_PASSWORD}, log=log)
    chromium_profile(chrome_root(home), "Default", claude_cookies())
    import_cookies("claude.ai", browser="chrome", profile=None)
    assert not log.exists()


def test_v11_with_the_empty_password_when_no_keyring(home: Path) -> None:
    cookies = [
        {
            "host_key": "claude.ai",
            "name": "s",
            "value": "empty-pw",
            "version": b"v11",
            "password": b"",
        }
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    assert import_cookies("claude.ai", browser="chrome", profile=None).header == "s=empty-pw"


def test_wrong_key_is_decrypt_failed_without_leaking_values(home: Path, tmp_path: Path) -> None:
    fake_secret_tool(tmp_path / "bin", {"chrome": "a-different-password"})
    cookies = [
        {
            "host_key": ".claude.ai",
            "name": "sessionKey",
            "value": "sk-ant-sid01-TOPSECRET",
            "version": b"v11",
            "password": V11_PASSWORD.encode(),
        }
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "DECRYPT_FAILED"
    assert "does not decrypt" in info.value.message and "cookieHeader" in info.value.message
    assert "TOPSECRET" not in str(info.value) and V11_PASSWORD not in str(info.value)


def test_a_stale_cookie_from_an_older_key_is_skipped_with_a_warning(home: Path) -> None:
    stale = chromium_encrypt("stale-STALEVALUE", ".claude.ai", password=b"an-older-key")
    cookies = [
        *claude_cookies(),
        {"host_key": ".claude.ai", "name": "ancient", "encrypted": stale},
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    found = import_cookies("claude.ai", browser="chrome", profile=None)
    assert found.header == (
        "sessionKey=sk-ant-sid01-SECRET-A; lastActiveOrg=org-1234; cf_session=sess-cookie"
    )
    (warning,) = found.warnings
    assert warning.startswith("skipped 1 chrome cookie for claude.ai (profile Default)")
    assert warning.endswith("kept the 3 that decrypted")
    assert "STALEVALUE" not in warning and "SECRET" not in warning
    assert "warnings=1" in repr(found)


def test_only_undecryptable_cookies_is_still_decrypt_failed(home: Path) -> None:
    # a plain (unencrypted) cookie does not prove the key right: still DECRYPT_FAILED
    bad = chromium_encrypt("value-1", ".claude.ai", password=b"not-peanuts")
    cookies = [
        {"host_key": ".claude.ai", "name": "s", "encrypted": bad},
        {"host_key": "claude.ai", "name": "plain", "value": "unencrypted", "plain": True},
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "DECRYPT_FAILED"
    assert info.value.message.startswith("cannot decrypt 1 chrome cookie for claude.ai")


def test_v11_without_any_keyring_entry(home: Path) -> None:
    cookies = [
        {
            "host_key": "claude.ai",
            "name": "s",
            "value": "x-value",
            "version": b"v11",
            "password": b"k",
        }
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "DECRYPT_FAILED"
    assert "holds no key for application chrome" in info.value.message


def test_wrong_v10_key_with_domain_hash(home: Path) -> None:
    bad = chromium_encrypt("value-1", ".claude.ai", password=b"not-peanuts")
    chromium_profile(
        chrome_root(home), "Default", [{"host_key": ".claude.ai", "name": "s", "encrypted": bad}]
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "DECRYPT_FAILED"


def test_hash_prefix_of_another_domain_is_rejected(home: Path) -> None:
    # a value copied from another site's row must not decrypt as this row's
    moved = chromium_encrypt("value-1", ".evil.example")
    chromium_profile(
        chrome_root(home), "Default", [{"host_key": ".claude.ai", "name": "s", "encrypted": moved}]
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "DECRYPT_FAILED"


def test_old_database_without_domain_hash_and_legacy_path(home: Path) -> None:
    chromium_profile(
        chrome_root(home),
        "Default",
        [{"host_key": ".claude.ai", "name": "s", "value": "old-format"}],
        meta_version=21,
        network=False,
    )
    assert import_cookies("claude.ai", browser="chrome", profile=None).header == "s=old-format"


def test_plain_values_and_partitioned_cookies(home: Path) -> None:
    cookies = [
        {"host_key": "claude.ai", "name": "plain", "value": "unencrypted", "plain": True},
        {
            "host_key": "claude.ai",
            "name": "chips",
            "value": "embedded-only",
            "top_frame_site_key": "https://other.example",
        },
    ]
    chromium_profile(chrome_root(home), "Default", cookies)
    assert import_cookies("claude.ai", browser="chrome", profile=None).header == "plain=unencrypted"


def test_rows_still_in_the_wal_are_read(home: Path) -> None:
    db = chrome_root(home) / "Default" / "Network" / "Cookies"
    chromium_profile(chrome_root(home), "Default", [])
    db.unlink()
    writer = make_chromium_db(
        db, [{"host_key": "claude.ai", "name": "fresh", "value": "in-the-wal"}], wal=True
    )
    try:
        assert (db.parent / "Cookies-wal").stat().st_size > 0
        wal_before = (db.parent / "Cookies-wal").read_bytes()
        found = import_cookies("claude.ai", browser="chrome", profile=None)
        assert found.header == "fresh=in-the-wal"
        assert (db.parent / "Cookies-wal").read_bytes() == wal_before
    finally:
        assert writer is not None
        writer.close()


def test_profiles_by_directory_and_display_name(home: Path) -> None:
    root = chrome_root(home)
    names = {"Default": "Person 1", "Profile 2": "Work"}
    chromium_profile(
        root, "Default", [{"host_key": "claude.ai", "name": "s", "value": "personal"}], names=names
    )
    chromium_profile(
        root, "Profile 2", [{"host_key": "claude.ai", "name": "s", "value": "work"}], names=names
    )
    assert import_cookies("claude.ai", browser="chrome", profile="Profile 2").header == "s=work"
    found = import_cookies("claude.ai", browser="chrome", profile="Work")
    assert (found.header, found.profile) == ("s=work", "Profile 2")
    assert import_cookies("claude.ai", browser="chrome", profile="work").profile == "Profile 2"
    assert import_cookies("claude.ai", browser="chrome", profile=None).profile == "Default"
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile="Nope")
    assert info.value.code == "BROWSER_NOT_FOUND"
    assert "Default (Person 1)" in info.value.message and "Profile 2 (Work)" in info.value.message


def test_last_used_profile_first_then_others_with_a_session(home: Path) -> None:
    root = chrome_root(home)
    chromium_profile(root, "Default", [{"host_key": "claude.ai", "name": "s", "value": "default"}])
    chromium_profile(
        root,
        "Profile 3",
        [{"host_key": "claude.ai", "name": "s", "value": "three"}],
        last_used="Profile 3",
    )
    chromium_profile(root, "Profile 10", [{"host_key": "example.org", "name": "s", "value": "ten"}])
    assert import_cookies("claude.ai", browser="chrome", profile=None).profile == "Profile 3"
    chromium_profile(root, "Profile 4", [], last_used="Profile 4")  # no session there
    assert import_cookies("claude.ai", browser="chrome", profile=None).profile == "Default"


@pytest.mark.parametrize(
    ("browser", "root", "app"),
    [
        ("chromium", ".config/chromium", "chromium"),
        ("brave", ".config/BraveSoftware/Brave-Browser", "brave"),
        ("edge", ".config/microsoft-edge", "microsoft-edge"),
    ],
)
def test_other_chromium_browsers(
    home: Path, tmp_path: Path, browser: str, root: str, app: str
) -> None:
    fake_secret_tool(tmp_path / "bin", {app: "pw-" + app})
    cookies = [
        {
            "host_key": "claude.ai",
            "name": "s",
            "value": browser + "-v",
            "version": b"v11",
            "password": ("pw-" + app).encode(),
        }
    ]
    chromium_profile(home / root, "Default", cookies)
    found = import_cookies("claude.ai", browser=None, profile=None)
    assert (found.browser, found.header) == (browser, f"s={browser}-v")


def test_xdg_config_home_is_honoured(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    chromium_profile(
        xdg / "google-chrome", "Default", [{"host_key": "claude.ai", "name": "s", "value": "xdg"}]
    )
    assert import_cookies("claude.ai", browser="chrome", profile=None).header == "s=xdg"


# -- browser order and errors ----------------------------------------------------------


def test_no_browser_at_all(home: Path) -> None:
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser=None, profile=None)
    assert info.value.code == "BROWSER_NOT_FOUND"
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="brave", profile=None)
    assert info.value.code == "BROWSER_NOT_FOUND" and "brave" in info.value.message


def test_installed_browser_without_a_session(home: Path) -> None:
    chromium_profile(
        chrome_root(home), "Default", [{"host_key": "evil-claude.ai", "name": "s", "value": "no"}]
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser=None, profile=None)
    assert info.value.code == "SESSION_NOT_FOUND"
    assert "claude.ai" in info.value.message and "chrome" in info.value.message


def test_the_first_browser_with_a_session_wins(home: Path) -> None:
    chromium_profile(
        chrome_root(home), "Default", [{"host_key": "example.org", "name": "s", "value": "x"}]
    )
    firefox_profiles(
        home,
        [
            {
                "name": "default-release",
                "dir": "abcd.default-release",
                "default": True,
                "cookies": [{"host": ".claude.ai", "name": "sessionKey", "value": "from-firefox"}],
            }
        ],
    )
    found = import_cookies("claude.ai", browser=None, profile=None)
    assert (found.browser, found.profile, found.header) == (
        "firefox",
        "default-release",
        "sessionKey=from-firefox",
    )


def test_a_decrypt_failure_does_not_hide_another_browser(home: Path) -> None:
    bad = chromium_encrypt("value-1", "claude.ai", password=b"wrong")
    chromium_profile(
        chrome_root(home), "Default", [{"host_key": "claude.ai", "name": "s", "encrypted": bad}]
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser=None, profile=None)
    assert info.value.code == "DECRYPT_FAILED"
    firefox_profiles(
        home,
        [
            {
                "name": "main",
                "dir": "x.main",
                "cookies": [{"host": "claude.ai", "name": "s", "value": "ff"}],
            }
        ],
    )
    assert import_cookies("claude.ai", browser=None, profile=None).browser == "firefox"


def test_corrupt_database_is_a_clear_error(home: Path) -> None:
    db = chrome_root(home) / "Default" / "Cookies"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None)
    assert info.value.code == "SESSION_NOT_FOUND" and str(db) in info.value.message


# -- macOS and Windows layouts ---------------------------------------------------------


def test_macos_keychain_key_with_1003_iterations(home: Path, tmp_path: Path) -> None:
    fake_security(tmp_path / "bin", "Chrome Safe Storage", "mac-keychain-pw")
    root = home / "Library" / "Application Support" / "Google" / "Chrome"
    cookies = [
        {
            "host_key": ".claude.ai",
            "name": "s",
            "value": "mac-value",
            "password": b"mac-keychain-pw",
            "iterations": 1003,
        }
    ]
    chromium_profile(root, "Default", cookies)
    found = import_cookies("claude.ai", browser="chrome", profile=None, platform="macos")
    assert found.header == "s=mac-value"
    fake_security(tmp_path / "bin", "Chrome Safe Storage", "another-pw")
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None, platform="macos")
    assert info.value.code == "DECRYPT_FAILED" and "Chrome Safe Storage" in info.value.message


def test_macos_edge_keychain_item_missing(home: Path, tmp_path: Path) -> None:
    fake_security(tmp_path / "bin", "Chrome Safe Storage", "unrelated")
    root = home / "Library" / "Application Support" / "Microsoft Edge"
    chromium_profile(
        root, "Default", [{"host_key": "claude.ai", "name": "s", "value": "v", "iterations": 1003}]
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="edge", profile=None, platform="macos")
    assert info.value.code == "DECRYPT_FAILED"
    assert "'Microsoft Edge Safe Storage' could not be read" in info.value.message


def test_windows_chromium_is_not_supported(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "AppData" / "Local"
    monkeypatch.setenv("LOCALAPPDATA", str(local))
    dpapi = b"\x01\x00\x00\x00\xd0\x8c\x9d\xdf" + b"\x00" * 40
    chromium_profile(
        local / "Google" / "Chrome" / "User Data",
        "Default",
        [{"host_key": "claude.ai", "name": "s", "encrypted": b"v10" + dpapi}],
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="chrome", profile=None, platform="windows")
    assert info.value.code == "DECRYPT_FAILED"
    assert "Windows" in info.value.message and "cookieHeader" in info.value.message


def test_windows_firefox_works(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    appdata = tmp_path / "AppData" / "Roaming"
    monkeypatch.setenv("APPDATA", str(appdata))
    linux_root = firefox_profiles(
        home,
        [
            {
                "name": "w",
                "dir": "w.default",
                "cookies": [{"host": "claude.ai", "name": "s", "value": "win"}],
            }
        ],
    )
    target = appdata / "Mozilla" / "Firefox"
    target.parent.mkdir(parents=True)
    linux_root.rename(target)
    found = import_cookies("claude.ai", browser=None, profile=None, platform="windows")
    assert (found.browser, found.header) == ("firefox", "s=win")


# -- Firefox ---------------------------------------------------------------------------


def test_firefox_install_default_containers_expiry_units(home: Path) -> None:
    firefox_profiles(
        home,
        [
            {
                "name": "default",
                "dir": "aaaa.default",
                "default": True,
                "cookies": [{"host": "claude.ai", "name": "s", "value": "old-profile"}],
            },
            {
                "name": "default-release",
                "dir": "bbbb.default-release",
                "cookies": [
                    {"host": ".claude.ai", "name": "sessionKey", "value": "ff-session"},
                    {"host": "claude.ai", "name": "ms", "value": "ms-expiry", "expiry_ms": True},
                    {
                        "host": "claude.ai",
                        "name": "gone",
                        "value": "expired-val",
                        "expires": NOW - 5,
                    },
                    {
                        "host": "claude.ai",
                        "name": "gone_ms",
                        "value": "expired-ms",
                        "expires": NOW - 5,
                        "expiry_ms": True,
                    },
                    {
                        "host": "claude.ai",
                        "name": "container",
                        "value": "in-container",
                        "origin": "^userContextId=2",
                    },
                    {"host": "evil-claude.ai", "name": "e", "value": "EVIL-1"},
                    {"host": "claude.ai.evil.com", "name": "e2", "value": "EVIL-2"},
                ],
            },
        ],
        install_default="bbbb.default-release",
    )
    found = import_cookies("claude.ai", browser="firefox", profile=None)
    assert found.profile == "default-release"
    assert found.header == "sessionKey=ff-session; ms=ms-expiry"
    other = import_cookies("claude.ai", browser="firefox", profile="aaaa.default")
    assert (other.profile, other.header) == ("default", "s=old-profile")
    assert (
        import_cookies("claude.ai", browser="firefox", profile="default").header == "s=old-profile"
    )
    with pytest.raises(CookieImportError) as info:
        import_cookies("claude.ai", browser="firefox", profile="missing")
    assert info.value.code == "BROWSER_NOT_FOUND"
    assert "default-release" in info.value.message
