"""Wheels carry the bundled provider plugins and the plugin template (SPEC §3.2).

Everything else about the build is declared in ``pyproject.toml``. The plugins
live in ``plugins/`` at the top of the repository (one folder per provider, next
to its README and tests); a wheel copies the run-time files of each into
``usagestat/bundled_plugins/``, and the template into ``usagestat/templates/``,
using the same selection as ``zipapp.py`` so that the wheel and the ``.pyz``
ship the same plugins. Editable installs skip the copy: a checkout finds
``plugins/`` itself.
"""

import importlib.util
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def _bundled_files():
    # zipapp.py shadows the standard library's zipapp, so it is loaded by path.
    spec = importlib.util.spec_from_file_location("usagestat_zipapp_build", ROOT / "zipapp.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it runs
    spec.loader.exec_module(module)
    return module.bundled_files(ROOT)


class BuildPyWithPlugins(build_py):
    """``build_py`` plus the bundled plugins and the template."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for rel, path, _component in _bundled_files():
            target = Path(self.build_lib) / rel
            self.mkpath(str(target.parent))
            self.copy_file(str(path), str(target))


setup(cmdclass={"build_py": BuildPyWithPlugins})
