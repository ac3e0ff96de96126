"""The commented starter config written by ``usagestat config init`` (SPEC §4).

It enables the providers whose credentials were detected on this machine and
lists the others in a comment, so a new user starts from a file that already
works and explains itself. The text is plain TOML that :mod:`usagestat.core.config`
parses without warnings.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from datetime import date

HEADER = """\
# usagestat configuration, created by `usagestat config init` on {today}.
# Reference: docs/config.md. Check it with `usagestat config validate`;
# see what is installed with `usagestat list`.

# How often the daemon polls, in seconds (at least 10). Each provider's own
# minimum interval (claude: 5 minutes) is honoured on top of this.
refreshSec = 60

# Extra plugin folders, searched before the bundled providers.
# pluginDirs = ["~/usagestat-plugins"]

# Deadline of one probe in seconds (default 30, or the plugin's own).
# probeTimeoutSec = 30

# How many providers are probed at once.
maxParallel = 4

# A PEM bundle of extra CA certificates (corporate proxies).
# caBundle = "/etc/ssl/certs/corporate.pem"

[daemon]
bind = "127.0.0.1"
port = 6736
# Required when bind is not a loopback address: the first line of this file is
# the API token (keep it private: chmod 600).
# apiTokenFile = "~/.config/usagestat/api-token"
# Origins allowed to read the API from a browser (never "*").
# corsOrigins = ["http://localhost:3000"]

[notify]
# Colours and the waybar class switch to warning / critical at these percentages.
warnPercent = 80
criticalPercent = 95
"""

DETECTED = """
# Providers whose credentials were found on this machine.
"""

NONE_DETECTED = """
# No provider credentials were found on this machine. Enable a provider with
# an entry like the ones below (a provider not listed here is enabled only
# when its credentials are detected).
"""

EXAMPLES = """
# More examples (uncomment and adapt):
#
# An API key read from the environment instead of this file:
# [[providers]]
# id = "openrouter"
# apiKeyEnv = "OPENROUTER_API_KEY"
#
# A second instance of a provider, read through its website:
# [[providers]]
# id = "claude"
# instanceId = "claude-web"
# displayName = "Claude (web)"
# source = "web"
# cookieHeader = "sessionKey=..."   # or: usagestat auth import-cookies --provider claude-web --save
#
# Your own script printing the plugin result JSON:
# [[providers]]
# id = "custom"
# instanceId = "local-script"
# displayName = "Local usage script"
# customCommand = "/path/to/usage-script --json"
"""


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def starter_config(
    detected: Sequence[tuple[str, str]],
    available: Sequence[str],
    today: date | None = None,
) -> str:
    """The starter file: ``detected`` is ``(id, name)`` pairs to enable, ``available`` the rest."""
    parts = [HEADER.format(today=(today or date.today()).isoformat())]
    if detected:
        parts.append(DETECTED)
        for provider_id, name in detected:
            parts.append(
                f"\n[[providers]]\nid = {_toml_string(provider_id)}\n"
                f"# displayName = {_toml_string(name)}\nenabled = true\n"
            )
    else:
        parts.append(NONE_DETECTED)
    others = [p for p in available if p not in {d for d, _ in detected}]
    if others:
        wrapped = textwrap.wrap(", ".join(others), width=74)
        parts.append("\n# Other providers you can add:\n" + "".join(f"#   {w}\n" for w in wrapped))
    parts.append(EXAMPLES)
    return "".join(parts)
