"""The keys that decrypt Chromium-family cookie values (``v10``/``v11``).

Chromium encrypts a cookie value with AES-128-CBC, IV = 16 spaces, under a key
derived with PBKDF2-HMAC-SHA1(password, salt ``saltysalt``, 16 bytes):

* Linux ``v10``: password ``peanuts``, 1 iteration (the built-in default used
  when no keyring is available); some builds use the empty password.
* Linux ``v11``: the password the browser keeps in the Secret Service
  (GNOME Keyring, KWallet's Secret Service bridge, KeePassXC ...), looked up
  with ``secret-tool lookup application <app>``; 1 iteration. A browser that
  found no keyring at first run uses the empty password.
* macOS ``v10``: the keychain item "<Browser> Safe Storage", read with
  ``security find-generic-password -w``; 1003 iterations.
* Windows: values are protected with DPAPI (and newer app-bound keys) that
  usagestat cannot use: no key.

Secrets are fetched through the platform's own command-line tools (no
third-party modules), only when a value of that version is seen, and at most
once per browser per import. A missing tool, a locked keyring or a refused
prompt simply yields no key.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess

SALT = b"saltysalt"
IV = b" " * 16
LINUX_ITERATIONS = 1
MACOS_ITERATIONS = 1003
TOOL_TIMEOUT_SEC = 20.0

#: ``secret-tool lookup application <app>`` names, in the order tried.
SECRET_SERVICE_APPS: dict[str, tuple[str, ...]] = {
    "chrome": ("chrome",),
    "chromium": ("chromium",),
    "brave": ("brave", "chromium"),
    "edge": ("microsoft-edge", "chromium"),
}
#: macOS keychain (service, account) of each browser's "Safe Storage" password.
KEYCHAIN_ITEMS: dict[str, tuple[str, str]] = {
    "chrome": ("Chrome Safe Storage", "Chrome"),
    "chromium": ("Chromium Safe Storage", "Chromium"),
    "brave": ("Brave Safe Storage", "Brave"),
    "edge": ("Microsoft Edge Safe Storage", "Microsoft Edge"),
}


def derive_key(password: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha1", password, SALT, iterations, 16)


def run_tool(argv: list[str], timeout: float = TOOL_TIMEOUT_SEC) -> str | None:
    """stdout of a helper program without its trailing newline, or None (absent, failed, empty)."""
    program = shutil.which(argv[0])
    if not program:
        return None
    try:
        done = subprocess.run(
            [program, *argv[1:]],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:
        return None
    text = done.stdout.decode("utf-8", "replace").rstrip("\r\n")
    return text or None


class KeyRing:
    """Candidate keys for one browser on one platform, fetched lazily."""

    def __init__(self, browser: str, system: str) -> None:
        self.browser = browser
        self.system = system
        self._secret_service: list[bytes] | None = None
        self._keychain: bytes | bool | None = False  # False = not asked yet

    def _secret_service_passwords(self) -> list[bytes]:
        if self._secret_service is None:
            found: list[bytes] = []
            for app in SECRET_SERVICE_APPS.get(self.browser, ()):
                password = run_tool(["secret-tool", "lookup", "application", app])
                if password and password.encode() not in found:
                    found.append(password.encode())
            self._secret_service = found
        return self._secret_service

    def _keychain_password(self) -> bytes | None:
        if self._keychain is False:
            service, account = KEYCHAIN_ITEMS[self.browser]
            password = run_tool(
                ["security", "find-generic-password", "-w", "-s", service, "-a", account]
            )
            if password is None:
                password = run_tool(["security", "find-generic-password", "-w", "-s", service])
            self._keychain = password.encode() if password else None
        return self._keychain  # type: ignore[return-value]

    def keys(self, version: bytes) -> list[bytes]:
        """Keys to try, most likely first, for a value with prefix ``version`` (b"v10"/b"v11")."""
        if self.system == "linux":
            if version == b"v11":
                passwords = [*self._secret_service_passwords(), b""]
            else:
                passwords = [b"peanuts", b""]
            return [derive_key(p, LINUX_ITERATIONS) for p in passwords]
        if self.system == "macos":
            password = self._keychain_password()
            return [derive_key(password, MACOS_ITERATIONS)] if password else []
        return []

    def why_not(self, version: bytes) -> str:
        """Why no key decrypted values of ``version``: advice for the error message."""
        hint = "or copy the Cookie header from the browser into the config (cookieHeader)"
        if self.system == "linux":
            if version == b"v11":
                apps = " / ".join(SECRET_SERVICE_APPS.get(self.browser, ()))
                if not shutil.which("secret-tool"):
                    return (
                        "they need the browser's Secret Service key and secret-tool (libsecret-tools) "
                        f"is not installed; install it, {hint}"
                    )
                if not self._secret_service_passwords():
                    return (
                        f"the Secret Service holds no key for application {apps} (is the keyring "
                        f"unlocked?); unlock it, {hint}"
                    )
                return f"the Secret Service key for {apps} does not decrypt them; {hint}"
            return f"neither the built-in nor the empty password decrypts them; {hint}"
        if self.system == "macos":
            service, _account = KEYCHAIN_ITEMS[self.browser]
            if self._keychain_password() is None:
                return (
                    f"the keychain item {service!r} could not be read (allow access when macOS asks); "
                    f"{hint}"
                )
            return f"the keychain item {service!r} does not decrypt them; {hint}"
        return (
            "Chromium-family cookies on Windows are protected by DPAPI/app-bound encryption that "
            "usagestat cannot use; copy the Cookie header from the browser's developer tools into "
            "the config as cookieHeader (or use Firefox)"
        )
