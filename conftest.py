"""Test-suite wide fixtures: the fake internet and the plugin harness (``tests/``).

At the repository root so that the provider template's own tests
(``templates/provider-plugin/tests``) get the same ``plugin_env`` fixture.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

pytest_plugins = ["fakeweb", "homes", "pluginharness"]
