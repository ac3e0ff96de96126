"""Every bundled plugin validates with no problem at all (no warning either)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT


def test_every_bundled_plugin_validates_without_warnings():
    out = subprocess.run(
        [sys.executable, "-m", "usagestat", "plugin", "validate", "--json", "plugins"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    entries = {entry["id"]: entry for entry in json.loads(out.stdout)}
    bundled = {p.parent.name for p in (ROOT / "plugins").glob("*/plugin.json")}
    assert set(entries) == bundled
    problems = {i: e["problems"] for i, e in entries.items() if not e["valid"] or e["problems"]}
    assert problems == {}
    assert out.returncode == 0, out.stderr


CODING_AGENTS = [
    "claude",
    "codex",
    "copilot",
    "cursor",
    "gemini",
    "antigravity",
    "windsurf",
    "kiro",
    "amp",
    "factory",
    "droid",
    "jetbrains-ai-assistant",
    "opencode",
    "opencode-go",
    "augment",
    "kilo",
    "kimi",
    "codebuff",
    "command-code",
    "warp",
]
API_AND_CLOUD = [
    "abacus-ai",
    "alibaba",
    "alibaba-token-plan",
    "aws-bedrock",
    "azure-openai",
    "crof",
    "deepgram",
    "deepseek",
    "doubao",
    "elevenlabs",
    "groqcloud",
    "kimi-k2",
    "llm-proxy",
    "mimo",
    "minimax",
    "moonshot",
    "nanogpt",
    "openai-api",
    "openrouter",
    "stepfun",
    "synthetic",
    "venice",
    "vertex-ai",
    "zai",
]
WEB_SESSIONS = ["t3chat", "manus", "perplexity", "grok", "ollama", "mistral"]
ISSUE_PROVIDERS = CODING_AGENTS + API_AND_CLOUD + WEB_SESSIONS


def test_every_provider_is_a_complete_plugin_folder():
    for provider in ISSUE_PROVIDERS:
        folder = ROOT / "plugins" / provider
        for name in ("plugin.json", "plugin.js", "icon.svg", "README.md"):
            assert (folder / name).is_file(), f"{provider}: {name} missing"
        manifest = json.loads((folder / "plugin.json").read_text(encoding="utf-8"))
        assert manifest["id"] == provider
        assert "permissions" in manifest, f"{provider}: bundled plugins declare permissions"
        if manifest.get("brandColor"):
            assert (folder / "icon-color.svg").is_file(), (
                f"{provider}: brand colour without icon-color.svg"
            )
        assert (ROOT / "tests" / "plugins" / f"test_{provider.replace('-', '_')}.py").is_file()
