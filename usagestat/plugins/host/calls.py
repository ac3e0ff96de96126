"""The host functions themselves, one small function per ``ctx.host`` member."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable
from typing import Any

from usagestat.core.atomicio import FileLock, atomic_write_bytes
from usagestat.core.redact import is_secret_name, secrets_in_json

from .session import HostError, HostSession

MAX_READ_BYTES = 16 * 1024 * 1024
SECRET_HEADERS = (
    "authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "xi-api-key",
    "proxy-authorization",
)
_LOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise HostError(f"{what} must be a string")
    return value


def table(session: HostSession) -> dict[str, Callable[..., Any]]:
    s = session
    policy = s.policy

    # -- log / env -------------------------------------------------------------
    def log(level: str, message: str) -> None:
        level = level if level in ("info", "warn", "error", "debug") else "info"
        text = str(message)
        if len(text) > 4000:
            text = text[:4000] + "…"
        s.log(level, s.redactor(text))

    def env_get(name: str) -> str | None:
        name = _text(name, "env.get name")
        policy.check_env(name)
        value = policy.env.get(name)
        if value and is_secret_name(name):  # redacted from logs and errors from now on
            s.redactor.add(value)
        return value

    # -- file system -------------------------------------------------------------
    def fs_exists(path: str) -> bool:
        real = policy.resolve_read(_text(path, "path"))
        try:
            return os.path.exists(real)
        except OSError:
            return False

    def fs_read_text(path: str) -> str:
        real = policy.resolve_read(_text(path, "path"))
        try:
            with open(real, "rb") as handle:
                data = handle.read(MAX_READ_BYTES + 1)
        except FileNotFoundError:
            raise HostError(f"file not found: {path}")
        except IsADirectoryError:
            raise HostError(f"is a directory: {path}")
        except OSError as exc:
            raise HostError(f"cannot read {path}: {exc.strerror or exc}")
        if len(data) > MAX_READ_BYTES:
            raise HostError(f"file too large to read (over 16 MiB): {path}")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise HostError(f"file is not UTF-8 text: {path}")
        s.redactor.add(*secrets_in_json(text))  # a credential store's tokens, keys, cookies
        return text

    def fs_list_dir(path: str) -> list[str]:
        real = policy.resolve_read(_text(path, "path"))
        try:
            return sorted(os.listdir(real))
        except FileNotFoundError:
            raise HostError(f"directory not found: {path}")
        except NotADirectoryError:
            raise HostError(f"not a directory: {path}")
        except OSError as exc:
            raise HostError(f"cannot list {path}: {exc.strerror or exc}")

    def fs_stat(path: str) -> dict[str, Any] | None:
        real = policy.resolve_read(_text(path, "path"))
        try:
            st = os.stat(real)
        except OSError:
            return None
        return {
            "size": float(st.st_size),
            "mtimeMs": st.st_mtime * 1000.0,
            "isDir": os.path.isdir(real),
        }

    def fs_write_text(path: str, text: str) -> None:
        real = policy.resolve_write(_text(path, "path"))
        data = _text(text, "text").encode("utf-8")
        if real.startswith(os.path.realpath(policy.plugin_data_dir)):
            s.plugin_data_dir()
            os.makedirs(os.path.dirname(real), mode=0o700, exist_ok=True)
        elif not os.path.isdir(os.path.dirname(real)):
            raise HostError(f"directory does not exist for {path}")
        try:
            atomic_write_bytes(real, data, mode=None)  # keep the file's own mode
        except OSError as exc:
            raise HostError(f"cannot write {path}: {exc.strerror or exc}")

    # -- http ----------------------------------------------------------------------
    def http_request(opts: dict[str, Any]) -> dict[str, Any]:
        from usagestat.core import httpclient

        if not isinstance(opts, dict):
            raise HostError("http.request expects an options object")
        url = _text(opts.get("url"), "url")
        policy.check_url(url)
        method = str(opts.get("method") or "GET").upper()
        if not re.match(r"^[A-Z]{1,16}$", method):
            raise HostError("http.request: invalid method")
        headers: dict[str, str] = {}
        raw_headers = opts.get("headers") or {}
        if not isinstance(raw_headers, dict):
            raise HostError("http.request: headers must be an object")
        for key, value in raw_headers.items():
            if value is None:
                continue
            headers[str(key)] = str(value)
            if str(key).lower() in SECRET_HEADERS:
                s.redactor.add(str(value), re.sub(r"^\s*\w+\s+", "", str(value)))
        body: bytes | None = None
        if opts.get("bodyBase64") is not None:
            body = base64.b64decode(_text(opts["bodyBase64"], "bodyBase64"))
        elif opts.get("bodyText") is not None:
            body = _text(opts["bodyText"], "bodyText").encode("utf-8")
        timeout_ms = opts.get("timeoutMs")
        timeout = 15.0
        if (
            isinstance(timeout_ms, (int, float))
            and not isinstance(timeout_ms, bool)
            and timeout_ms > 0
        ):
            timeout = float(timeout_ms) / 1000.0
        timeout = s.deadline.clamp(timeout, "http request failed")
        try:
            response = httpclient.request(
                url,
                method=method,
                headers=headers,
                body=body,
                timeout=timeout,
                ca_bundle=s.ca_bundle,
                secrets=s.redactor.secrets,
            )
        except httpclient.HttpError as exc:
            raise HostError(s.redactor(str(exc)))
        result: dict[str, Any] = {"status": response.status, "headers": response.headers}
        if opts.get("responseEncoding") == "base64":
            result["bodyBase64"] = base64.b64encode(response.body).decode("ascii")
        else:
            result["bodyText"] = response.body.decode("utf-8", "replace")
        return result

    # -- commands ------------------------------------------------------------------
    def command_run(opts: dict[str, Any]) -> dict[str, Any]:
        from .commands import run_command

        if not isinstance(opts, dict):
            raise HostError("command.run expects an options object")
        program = _text(opts.get("program"), "program")
        args = opts.get("args") or []
        if not isinstance(args, list) or not all(isinstance(a, (str, int, float)) for a in args):
            raise HostError("command.run: args must be an array of strings")
        executable = policy.resolve_command(program)
        timeout_ms = opts.get("timeoutMs")
        timeout = 10.0
        if (
            isinstance(timeout_ms, (int, float))
            and not isinstance(timeout_ms, bool)
            and timeout_ms > 0
        ):
            timeout = float(timeout_ms) / 1000.0
        timeout = s.deadline.clamp(timeout, "command.run")
        return run_command(
            [executable, *map(str, args)], timeout, env=policy.env, on_group=s.on_group
        )

    # -- sqlite --------------------------------------------------------------------
    def sqlite_query(db_path: str, sql: str) -> str:
        from .sqlite import query

        real = policy.resolve_read(_text(db_path, "dbPath"))
        return json.dumps(query(real, _text(sql, "sql")), ensure_ascii=False)

    # -- crypto --------------------------------------------------------------------
    def sha256_hex(text: str) -> str:
        return hashlib.sha256(_text(text, "text").encode("utf-8")).hexdigest()

    def hmac_sha256_hex(key_hex: str, text: str) -> str:
        try:
            key = bytes.fromhex(_text(key_hex, "keyHex"))
        except ValueError:
            raise HostError("crypto.hmacSha256Hex: keyHex is not hex")
        return hmac.new(key, _text(text, "text").encode("utf-8"), hashlib.sha256).hexdigest()

    def random_hex(count: Any) -> str:
        if isinstance(count, bool) or not isinstance(count, (int, float)) or not 0 < count <= 4096:
            raise HostError("crypto.randomHex: nBytes must be 1..4096")
        return secrets.token_hex(int(count))

    def _b64(opts: dict[str, Any], key: str, required: bool = True) -> bytes:
        value = opts.get(key)
        if value is None and not required:
            return b""
        text = _text(value, key).strip().replace("-", "+").replace("_", "/")
        text += "=" * (-len(text) % 4)
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            raise HostError(f"{key} is not valid base64")

    def aes_gcm_decrypt(opts: dict[str, Any]) -> str:
        from usagestat.core import ciphers

        if not isinstance(opts, dict):
            raise HostError("crypto.aesGcmDecrypt expects an options object")
        try:
            plain = ciphers.aes_gcm_decrypt(
                _b64(opts, "keyB64"),
                _b64(opts, "ivB64"),
                _b64(opts, "ciphertextB64"),
                _b64(opts, "tagB64"),
                _b64(opts, "aadB64", required=False),
            )
        except ciphers.DecryptError:
            raise HostError("decrypt failed")
        except ValueError as exc:
            raise HostError(f"decrypt failed: {exc}")
        try:
            return plain.decode("utf-8")
        except UnicodeDecodeError:
            raise HostError("decrypt failed: plaintext is not UTF-8 text")

    def aes_gcm_encrypt(opts: dict[str, Any]) -> dict[str, str]:
        from usagestat.core import ciphers

        if not isinstance(opts, dict):
            raise HostError("crypto.aesGcmEncrypt expects an options object")
        try:
            ciphertext, tag = ciphers.aes_gcm_encrypt(
                _b64(opts, "keyB64"),
                _b64(opts, "ivB64"),
                _text(opts.get("plaintext"), "plaintext").encode("utf-8"),
                _b64(opts, "aadB64", required=False),
            )
        except ValueError as exc:
            raise HostError(f"encrypt failed: {exc}")
        return {
            "ciphertextB64": base64.b64encode(ciphertext).decode("ascii"),
            "tagB64": base64.b64encode(tag).decode("ascii"),
        }

    def rsa_sha256_sign(pem: str, text: str) -> str:
        from usagestat.core import rsa

        try:
            return rsa.rsa_sha256_sign_b64url(_text(pem, "pem"), _text(text, "text"))
        except rsa.RSAKeyError as exc:
            raise HostError(f"crypto.rsaSha256Sign: {exc}")

    # -- keychain --------------------------------------------------------------------
    def keychain_read(service: str, account: str | None = None) -> str | None:
        from .keychain import read_generic_password

        service = _text(service, "service")
        if account is not None:
            account = _text(account, "account")
        policy.check_keychain(service)
        timeout = s.deadline.clamp(10.0, "keychain")
        found = read_generic_password(service, account, timeout=timeout)
        if found:  # the item is a secret, and may be a JSON credential store
            s.redactor.add(found, *secrets_in_json(found))
        return found

    # -- locks ------------------------------------------------------------------------
    def lock_acquire(name: str, timeout_ms: Any = 10000) -> bool:
        name = _text(name, "lock name")
        if not _LOCK_NAME.match(name):
            raise HostError("lock name must look like an id (a-z, 0-9, dashes)")
        if name in s.held_locks:
            return True
        wait = 10.0
        if (
            isinstance(timeout_ms, (int, float))
            and not isinstance(timeout_ms, bool)
            and timeout_ms >= 0
        ):
            wait = float(timeout_ms) / 1000.0
        wait = max(0.0, min(wait, s.deadline.remaining() - 0.1))
        lock = FileLock(os.path.join(s.data_dir, "locks", f"{s.plugin_id}-{name}.lock"))
        if lock.acquire(wait):
            s.held_locks[name] = lock
            return True
        return False

    def lock_release(name: str) -> bool:
        lock = s.held_locks.pop(_text(name, "lock name"), None)
        if lock is None:
            return False
        lock.release()
        return True

    # -- usage logs -------------------------------------------------------------------
    def usage_scan_logs(opts: dict[str, Any]) -> dict[str, Any]:
        from .usage import scan_logs

        if not isinstance(opts, dict):
            raise HostError("usage.scanLogs expects an options object")
        return scan_logs(s, opts)

    return {
        "log": log,
        "env.get": env_get,
        "fs.exists": fs_exists,
        "fs.readText": fs_read_text,
        "fs.listDir": fs_list_dir,
        "fs.stat": fs_stat,
        "fs.writeText": fs_write_text,
        "http.request": http_request,
        "command.run": command_run,
        "sqlite.query": sqlite_query,
        "crypto.sha256Hex": sha256_hex,
        "crypto.hmacSha256Hex": hmac_sha256_hex,
        "crypto.randomHex": random_hex,
        "crypto.aesGcmDecrypt": aes_gcm_decrypt,
        "crypto.aesGcmEncrypt": aes_gcm_encrypt,
        "crypto.rsaSha256Sign": rsa_sha256_sign,
        "keychain.readGenericPassword": keychain_read,
        "lock.acquire": lock_acquire,
        "lock.release": lock_release,
        "usage.scanLogs": usage_scan_logs,
    }
