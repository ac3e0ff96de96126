"""``usagestat auth import-cookies`` end to end: the real CLI as a subprocess, a temp HOME
holding real-format Chromium and Firefox cookie stores, a fake ``secret-tool`` on PATH."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cookiestores import chromium_encrypt, chromium_profile, fake_secret_tool, firefox_profiles

from .conftest import Cli

SESSION = "sk-ant-sid01-" + "Q" * 40 + "wxyz"
KEYRING_PW = "keyring-password-123"


@pytest.fixture
def env(cli: Cli, tmp_path: Path) -> dict[str, str]:
    """A web plugin for claude.ai and PATH with a fake secret-tool first."""
    cli.plugin("acme", webUrl="https://claude.ai/login", supportedModes=["web"])
    bin_dir = tmp_path / "bin"
    fake_secret_tool(bin_dir, {"chrome": KEYRING_PW})
    return {"PATH": os.pathsep.join([str(bin_dir), cli.env.get("PATH", "/usr/bin:/bin")])}


def run(cli: Cli, env: dict[str, str], *args: str):
    return cli.run("--plugin-dir", str(cli.plugin_dir), "auth", "import-cookies", *args, env=env)


def chrome_session(cli: Cli, *others: dict) -> None:
    """A Chrome profile with the claude.ai session, neighbours that must not match, and ``others``."""
    chromium_profile(
        cli.home / ".config" / "google-chrome",
        "Default",
        [
            {
                "host_key": ".claude.ai",
                "name": "sessionKey",
                "value": SESSION,
                "version": b"v11",
                "password": KEYRING_PW.encode(),
            },
            {"host_key": "claude.ai", "name": "lastActiveOrg", "value": "org-77"},
            {"host_key": "evil-claude.ai", "name": "sessionKey", "value": "EVIL-SESSION"},
            {"host_key": "claude.ai.evil.com", "name": "x", "value": "EVIL-X"},
            *others,
        ],
    )


def test_json_output_is_masked(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    result = run(cli, env, "--provider", "acme", "--format", "json")
    assert result.code == 0, result
    header = f"sessionKey={SESSION}; lastActiveOrg=org-77"
    assert result.json() == {
        "providerId": "acme",
        "cookieHeader": header[:3] + "…" + header[-4:],
        "source": "chrome",
        "profile": "Default",
    }
    assert SESSION not in result.stdout + result.stderr
    assert "EVIL" not in result.stdout


def test_show_prints_the_header(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    result = run(cli, env, "--provider", "acme", "--json", "--show")
    assert result.code == 0, result
    assert result.json()["cookieHeader"] == f"sessionKey={SESSION}; lastActiveOrg=org-77"


def test_text_output(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    result = run(cli, env, "--provider", "acme")
    assert result.code == 0, result
    assert "claude.ai session in chrome (profile Default)." in result.stdout.splitlines()[0]
    assert SESSION not in result.stdout + result.stderr
    assert "--save" in result.stdout


def test_save_round_trips_through_config_validate(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    result = run(cli, env, "--provider", "acme", "--save")
    assert result.code == 0, result
    path = cli.config_dir / "config.toml"
    assert f"Saved as cookieHeader of acme in {path}." in result.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert path.read_text() == (
        f'[[providers]]\nid = "acme"\ncookieHeader = "sessionKey={SESSION}; lastActiveOrg=org-77"\n'
    )
    check = cli.run("--plugin-dir", str(cli.plugin_dir), "config", "validate", "--json")
    assert check.code == 0, check
    assert check.json()["valid"] is True and check.json()["issues"] == []
    dump = cli.run("--plugin-dir", str(cli.plugin_dir), "config", "dump", "--json")
    assert SESSION not in dump.stdout


def test_save_keeps_every_other_byte_of_a_commented_config(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    head = (
        "# my usagestat config\n"
        "refreshSec = 90 # slower\n\n"
        "[[providers]]\n"
        'id = "claude"\n'
        "# an entry for the web plugin:\n"
    )
    entry = '[[providers]]\nid = "acme"   # the web one\ncookieHeader = "stale=1"  # old\n'
    tail = "\n# notifications\n[notify]\nwarnPercent = 75\n"
    path = cli.write_config(head + entry + tail)
    result = run(cli, env, "--provider", "acme", "--save", "--json")
    assert result.code == 0, result
    after = path.read_bytes()
    assert after.startswith(head.encode())
    assert after.endswith(tail.encode())
    new_entry = after[len(head.encode()) : len(after) - len(tail.encode())]
    assert (
        new_entry
        == (
            '[[providers]]\nid = "acme"   # the web one\n'
            f'cookieHeader = "sessionKey={SESSION}; lastActiveOrg=org-77"  # old\n'
        ).encode()
    )
    check = cli.run("--plugin-dir", str(cli.plugin_dir), "config", "validate", "--json")
    assert check.json()["valid"] is True, check


def test_save_into_a_named_instance(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    path = cli.write_config(
        '[[providers]]\nid = "acme"\n\n[[providers]]\nid = "acme"\ninstanceId = "acme-work"\n'
    )
    result = run(cli, env, "--provider", "acme-work", "--save", "--format", "json")
    assert result.code == 0, result
    assert result.json()["providerId"] == "acme"
    assert path.read_text() == (
        '[[providers]]\nid = "acme"\n\n[[providers]]\nid = "acme"\ninstanceId = "acme-work"\n'
        f'cookieHeader = "sessionKey={SESSION}; lastActiveOrg=org-77"\n'
    )


def test_firefox_profile_selection(cli: Cli, env: dict[str, str]) -> None:
    firefox_profiles(
        cli.home,
        [
            {
                "name": "default-release",
                "dir": "a.default-release",
                "default": True,
                "cookies": [
                    {"host": ".claude.ai", "name": "sessionKey", "value": "ff-main-session"}
                ],
            },
            {
                "name": "work",
                "dir": "b.work",
                "cookies": [
                    {"host": "claude.ai", "name": "sessionKey", "value": "ff-work-session"}
                ],
            },
        ],
    )
    result = run(
        cli,
        env,
        "--provider",
        "acme",
        "--browser",
        "firefox",
        "--profile",
        "work",
        "--json",
        "--show",
    )
    assert result.code == 0, result
    assert result.json() == {
        "providerId": "acme",
        "cookieHeader": "sessionKey=ff-work-session",
        "source": "firefox",
        "profile": "work",
    }


@pytest.mark.parametrize(
    ("setup", "args", "code"),
    [
        ("none", ["--browser", "chrome"], "BROWSER_NOT_FOUND"),
        ("none", [], "BROWSER_NOT_FOUND"),
        ("other-site", [], "SESSION_NOT_FOUND"),
        ("wrong-key", [], "DECRYPT_FAILED"),
        ("session", ["--browser", "chrome", "--profile", "Nobody"], "BROWSER_NOT_FOUND"),
    ],
)
def test_errors_in_json_exit_1(
    cli: Cli, env: dict[str, str], setup: str, args: list[str], code: str
) -> None:
    root = cli.home / ".config" / "google-chrome"
    if setup == "other-site":
        chromium_profile(
            root, "Default", [{"host_key": "evil-claude.ai", "name": "s", "value": "EVIL-1"}]
        )
    elif setup == "wrong-key":
        chromium_profile(
            root,
            "Default",
            [
                {
                    "host_key": "claude.ai",
                    "name": "s",
                    "value": SESSION,
                    "version": b"v11",
                    "password": b"other",
                }
            ],
        )
    elif setup == "session":
        chrome_session(cli)
    result = run(cli, env, "--provider", "acme", "--format", "json", "--save", *args)
    assert result.code == 1, result
    error = result.json()["error"]
    assert error["code"] == code and error["message"]
    assert SESSION not in result.stdout + result.stderr and "EVIL" not in result.stdout
    assert not (cli.config_dir / "config.toml").exists()  # nothing saved on failure


def test_error_in_text_mode(cli: Cli, env: dict[str, str]) -> None:
    result = run(cli, env, "--provider", "acme", "--browser", "brave")
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("usagestat: BROWSER_NOT_FOUND: brave has no profile")


def test_unparsable_config_is_not_touched(cli: Cli, env: dict[str, str]) -> None:
    chrome_session(cli)
    path = cli.write_config('[[providers]]\nid = "acme"\ncookieHeader = "oops\n')
    result = run(cli, env, "--provider", "acme", "--save")
    assert result.code == 1
    assert SESSION not in result.stdout + result.stderr
    assert path.read_text() == '[[providers]]\nid = "acme"\ncookieHeader = "oops\n'


def test_bundled_web_plugins_have_a_host(cli: Cli, env: dict[str, str]) -> None:
    """Providers whose manifest has a webUrl are importable (the host comes from it)."""
    listing = cli.call("list", "--json")
    web = {p["id"]: p["webUrl"] for p in listing.json() if p.get("webUrl")}
    assert web, "no bundled provider with a webUrl"
    for provider_id in sorted(web)[:1]:
        result = cli.run("auth", "import-cookies", "--provider", provider_id, "--json", env=env)
        assert result.code == 1 and result.json()["error"]["code"] == "BROWSER_NOT_FOUND"


def test_bundled_provider_import_and_save(cli: Cli, env: dict[str, str]) -> None:
    """A bundled web provider: the host comes from its manifest (ollama.com)."""
    firefox_profiles(
        cli.home,
        [
            {
                "name": "default-release",
                "dir": "x.default-release",
                "default": True,
                "cookies": [
                    {"host": "ollama.com", "name": "__Secure-session", "value": "ollama-ff-1"},
                    {"host": ".ollama.com", "name": "aid", "value": "a-2"},
                    {"host": "evil-ollama.com", "name": "x", "value": "EVIL-3"},
                ],
            }
        ],
    )
    result = cli.run("auth", "import-cookies", "--provider", "ollama", "--save", "--json", env=env)
    assert result.code == 0, result
    assert result.json()["source"] == "firefox"
    path = cli.config_dir / "config.toml"
    assert path.read_text() == (
        '[[providers]]\nid = "ollama"\ncookieHeader = "__Secure-session=ollama-ff-1; aid=a-2"\n'
    )
    check = cli.run("config", "validate", "--json")
    assert check.code == 0 and check.json()["valid"] is True, check


def test_a_stale_cookie_is_skipped_with_a_warning_on_stderr_only(
    cli: Cli, env: dict[str, str]
) -> None:
    stale = chromium_encrypt("STALE-VALUE", ".claude.ai", password=b"an-older-key", version=b"v11")
    chrome_session(cli, {"host_key": ".claude.ai", "name": "ancient", "encrypted": stale})
    result = run(cli, env, "--provider", "acme", "--format", "json", "--show")
    assert result.code == 0, result
    # stdout stays pure JSON
    assert result.json()["cookieHeader"] == f"sessionKey={SESSION}; lastActiveOrg=org-77"
    assert "skipped 1 chrome cookie for claude.ai" in result.stderr
    assert "STALE-VALUE" not in result.stderr + result.stdout
