"""``keychain.readGenericPassword`` on macOS, Linux (Secret Service) and Windows.

Returns None whenever the secret is unavailable: no keychain tool, no item,
or the user declined access. Errors are never fatal for the probe; the plugin
falls back to its next credential source.
"""

from __future__ import annotations

import shutil
import subprocess
import sys


def _run(argv: list[str], timeout: float) -> str | None:
    try:
        done = subprocess.run(
            argv, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    text = done.stdout.decode("utf-8", "replace")
    return text[:-1] if text.endswith("\n") else text


def read_generic_password(service: str, account: str | None, timeout: float = 10.0) -> str | None:
    if sys.platform == "darwin":
        argv = ["security", "find-generic-password", "-s", service, "-w"]
        if account:
            argv[3:3] = ["-a", account]
        return _run(argv, timeout)
    if sys.platform.startswith("win"):  # pragma: no cover - Windows only
        return _windows_credential(f"{service}:{account}" if account else service)
    tool = shutil.which("secret-tool")
    if not tool:
        return None
    argv = [tool, "lookup", "service", service]
    if account:
        argv += ["username", account]
    value = _run(argv, timeout)
    return value if value else None


def _windows_credential(target: str) -> str | None:  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes

    class CREDENTIAL(ctypes.Structure):
        _fields_ = [
            ("Flags", wintypes.DWORD),
            ("Type", wintypes.DWORD),
            ("TargetName", wintypes.LPWSTR),
            ("Comment", wintypes.LPWSTR),
            ("LastWritten", wintypes.FILETIME),
            ("CredentialBlobSize", wintypes.DWORD),
            ("CredentialBlob", ctypes.POINTER(ctypes.c_char)),
            ("Persist", wintypes.DWORD),
            ("AttributeCount", wintypes.DWORD),
            ("Attributes", ctypes.c_void_p),
            ("TargetAlias", wintypes.LPWSTR),
            ("UserName", wintypes.LPWSTR),
        ]

    advapi = ctypes.WinDLL("advapi32", use_last_error=True)
    pointer = ctypes.POINTER(CREDENTIAL)()
    if not advapi.CredReadW(target, 1, 0, ctypes.byref(pointer)):
        return None
    try:
        cred = pointer.contents
        blob = ctypes.string_at(cred.CredentialBlob, cred.CredentialBlobSize)
    finally:
        advapi.CredFree(pointer)
    for encoding in ("utf-8", "utf-16-le"):
        try:
            return blob.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None
