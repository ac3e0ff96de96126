"""JetBrains AI Assistant plugin: the quota XML a JetBrains IDE caches (no network)."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from helpers import expect, fixtures, ready

QUOTA_XML = fixtures("jetbrains-ai-assistant")("AIAssistantQuotaManager2.xml")
ID = "jetbrains-ai-assistant"


def quota_xml(quota: dict, refill: dict | None = None) -> str:
    def attr(value: dict) -> str:
        return html.escape(json.dumps(value, indent=2), quote=True).replace("\n", "&#10;")

    options = f'<option name="quotaInfo" value="{attr(quota)}" />'
    if refill is not None:
        options = f'<option name="nextRefill" value="{attr(refill)}" />' + options
    return f'<application><component name="AIAssistantQuotaManager2">{options}</component></application>'


def place(env, rel_dir: str, content: str, mtime: float | None = None) -> Path:
    path = env.file(f"{rel_dir}/options/AIAssistantQuotaManager2.xml", content)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_normal_quota_from_intellij(plugin_env):
    path = place(plugin_env, ".config/JetBrains/IntelliJIdea2025.3", QUOTA_XML, mtime=1_893_499_200)
    before = path.read_bytes()
    run = ready(plugin_env.probe(ID), source="local")
    assert "plan" not in run.json
    quota = run.metric("Quota")
    assert quota["format"] == {"kind": "percent"}
    assert abs(quota["used"] - 12.345678) < 1e-9 and quota["limit"] == 100.0
    assert quota["resetsAt"] == "2030-01-31T00:00:00Z"  # nextRefill.next, not quotaInfo.until
    assert quota["periodDurationMs"] == 720 * 3600 * 1000
    assert run.metric("Used") == {
        "type": "text",
        "label": "Used",
        "value": "123.46 / 1,000 credits",
        "detail": True,
    }
    assert run.metric("Remaining")["value"] == "876.54 credits"
    assert run.metric("IDE")["value"] == "IntelliJ IDEA 2025.3"
    assert run.metric("Updated")["value"] == "2030-01-01 12:00 UTC"
    assert plugin_env.web.requests == []
    assert path.read_bytes() == before


def test_newest_refill_wins_across_ides(plugin_env):
    older = {
        "type": "Available",
        "current": "1000000",
        "maximum": "100000000",
        "available": "99000000",
    }
    newer = {
        "type": "Available",
        "current": "50000000",
        "maximum": "100000000",
        "available": "50000000",
    }
    place(
        plugin_env,
        ".config/JetBrains/PyCharm2024.3",
        quota_xml(older, {"next": "2029-12-01T00:00:00Z"}),
    )
    place(
        plugin_env,
        ".config/Google/AndroidStudio2025.1",
        quota_xml(newer, {"next": "2030-01-15T00:00:00Z", "tariff": {"duration": "P30D"}}),
    )
    place(
        plugin_env, ".config/JetBrains/NotAnIde2025.1", quota_xml(older)
    )  # ignored: unknown product
    run = plugin_env.probe(ID)
    assert run.state == "ready", run.error
    assert run.metric("Quota")["used"] == 50.0
    assert run.metric("Quota")["periodDurationMs"] == 30 * 86_400_000
    assert run.metric("IDE")["value"] == "Android Studio 2025.1"


def test_macos_and_windows_locations(plugin_env):
    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "macos")
    place(plugin_env, "Library/Application Support/JetBrains/GoLand2025.2", QUOTA_XML)
    run = plugin_env.probe(ID)
    assert run.state == "ready", run.error
    assert run.metric("IDE")["value"] == "GoLand 2025.2"

    plugin_env.monkeypatch.setattr("usagestat.core.paths.platform_name", lambda: "windows")
    plugin_env.setenv("APPDATA", str(plugin_env.path("Roaming")))
    place(plugin_env, "Roaming/JetBrains/Rider2025.3", QUOTA_XML)
    run = plugin_env.probe(ID)
    assert run.state == "ready", run.error
    assert run.metric("IDE")["value"] == "Rider 2025.3"


def test_small_values_and_split_pools(plugin_env):
    quota = {
        "type": "Available",
        "current": 30,
        "maximum": 120,
        "tariffQuota": {"current": "30", "maximum": "100", "available": "70"},
        "topUpQuota": {"current": "0", "maximum": "20", "available": "20"},
    }
    place(
        plugin_env,
        ".config/JetBrains/WebStorm2025.3",
        quota_xml(quota, {"next": "2030-01-20T00:00:00Z"}),
    )
    run = plugin_env.probe(ID)
    assert run.state == "ready", run.error
    assert run.metric("Quota")["used"] == 25.0
    assert "periodDurationMs" not in run.metric("Quota")  # no tariff duration known
    assert run.metric("Used")["value"] == "30 / 120 credits"  # unscaled: already credits
    assert run.metric("Remaining")["value"] == "90 credits"  # tariff + top-up


def test_config_path_wins(plugin_env):
    place(plugin_env, ".config/JetBrains/IntelliJIdea2025.3", QUOTA_XML)
    other = {"type": "Available", "current": "75000000", "maximum": "100000000"}
    place(
        plugin_env,
        ".config/JetBrains/CLion2025.3",
        quota_xml(other, {"next": "2029-01-01T00:00:00Z"}),
    )
    folder = str(plugin_env.path(".config/JetBrains/CLion2025.3"))
    run = plugin_env.probe(ID, settings={"path": folder}, write_credentials=False)
    assert run.state == "ready", run.error
    assert run.metric("Quota")["used"] == 75.0
    assert run.metric("IDE")["value"] == "CLion 2025.3"
    assert not run.has_metric("Remaining")


def test_malformed_files(plugin_env):
    place(
        plugin_env,
        ".config/JetBrains/IntelliJIdea2025.3",
        "<application><component name='Other'/></application>",
    )
    expect(plugin_env.probe(ID), "failed", "quota data unavailable")
    bad = '<application><component name="AIAssistantQuotaManager2">'
    bad += '<option name="quotaInfo" value="{not json" /></component></application>'
    place(plugin_env, ".config/JetBrains/IntelliJIdea2025.3", bad)
    assert plugin_env.probe(ID).state == "failed"
    place(
        plugin_env,
        ".config/JetBrains/IntelliJIdea2025.3",
        quota_xml({"type": "Available", "current": "5"}),
    )
    expect(plugin_env.probe(ID), "failed", "Open AI Assistant")


def test_not_installed(plugin_env):
    run = plugin_env.probe(ID)
    assert run.state == "missing-auth"
    assert "Open a JetBrains IDE" in run.error
    plugin_env.path(".config/JetBrains/IntelliJIdea2025.3/options").mkdir(parents=True)
    assert plugin_env.probe(ID).state == "missing-auth"


def test_a_jetbrains_config_dir_alone_does_not_enable_the_provider(plugin_env):
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import detect_matches

    (plugin_env.home / ".config" / "JetBrains" / "PyCharm2025.1").mkdir(parents=True)
    plugin = discover([], [], include_cwd=False).get(ID)
    assert plugin is not None and not detect_matches(plugin, env={})


def test_the_quota_file_of_any_ide_enables_the_provider(plugin_env):
    from usagestat.plugins.discovery import discover
    from usagestat.plugins.instances import detect_matches

    plugin = discover([], [], include_cwd=False).get(ID)
    options = plugin_env.home / ".config" / "JetBrains" / "PyCharm2025.1" / "options"
    options.mkdir(parents=True)
    assert not detect_matches(plugin, env={})
    (options / "AIAssistantQuotaManager2.xml").write_text("<application/>")
    assert detect_matches(plugin, env={})
    # $APPDATA (Windows) and $XDG_CONFIG_HOME work the same way
    (options / "AIAssistantQuotaManager2.xml").unlink()
    other = plugin_env.home / "roaming" / "Google" / "AndroidStudio2025.1" / "options"
    other.mkdir(parents=True)
    (other / "AIAssistantQuotaManager2.xml").write_text("<application/>")
    assert not detect_matches(plugin, env={})
    assert detect_matches(plugin, env={"APPDATA": str(plugin_env.home / "roaming")})
