"""The host API behind ``ctx.host`` (SPEC §3.3), run inside the probe worker.

One :class:`HostSession` serves one probe. JavaScript reaches it through a
single bridge function, :meth:`HostSession.bridge`, which takes and returns JSON
strings and never raises (QUICKJS-NOTES.md §1.5): a Python exception inside a
callable would otherwise corrupt the engine's state.
"""

from __future__ import annotations

from .session import HostSession, ProbeDeadline

__all__ = ["HostSession", "ProbeDeadline"]
