"""The QuickJS engine and bundled icons inside ``usagestat.pyz`` (SPEC §5, §9).

The single-file build carries the pinned ``quickjs-ng`` wheels. On first use the
native module that matches this interpreter is extracted to a per-user cache
(``native/quickjs-ng-<ver>-<tag>-<sha16>/``, keyed by the wheel hash) and
imported from there; later runs find the published copy and extract nothing.
Cache roots are tried in order: ``$USAGESTAT_CACHE_DIR``, the platform cache
dir, ``<tempdir>/usagestat-<uid>``, then a fresh ``mkdtemp()``. A root is used
only when it is a directory owned by us and not writable by group or others.
Copies are written to a private temp dir and published with one rename, so a
reader never sees a half-written file; a copy whose size is wrong is renamed
aside (a truncated ``.so`` can crash the process with SIGBUS) and extracted again.

The warm path imports only ``os``, ``stat`` and the generated
``usagestat._build_manifest`` module: no json, zipfile or tempfile.
"""

from __future__ import annotations

import os
import stat
import sys

from usagestat.plugins.engine import EngineUnavailable

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs ~10 ms at start-up
if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType
    from typing import Any

SUPPORTED = "Linux x86_64 and aarch64 (glibc 2.17+), macOS arm64, Windows amd64"
MARKER = ".complete"
NOEXEC_HINTS = ("failed to map segment", "operation not permitted", "permission denied")


class UnsupportedPlatform(EngineUnavailable):
    """No engine wheel exists for this platform."""


class EngineLoadFailed(EngineUnavailable):
    """The engine was extracted but could not be loaded from any cache dir."""


# -- where we run --------------------------------------------------------------------


def archive_path() -> str | None:
    """The ``.pyz`` this package is imported from, or None."""
    import usagestat

    archive = getattr(getattr(usagestat, "__loader__", None), "archive", None)
    return os.path.abspath(archive) if archive else None


def _manifest() -> Any | None:
    if archive_path() is None:
        return None
    try:
        from usagestat import _build_manifest
    except ImportError:
        return None
    return _build_manifest


def available() -> bool:
    """True when running from the ``.pyz`` and its build manifest is present."""
    return _manifest() is not None


def platform_tag() -> tuple[str | None, str]:
    """(wheel tag or None, human description of this platform)."""
    machine = ""
    try:
        machine = os.uname().machine if hasattr(os, "uname") else ""
    except OSError:
        pass
    impl = sys.implementation.name
    if impl != "cpython":
        return None, f"{impl} {sys.version_info[0]}.{sys.version_info[1]} (needs CPython)"
    if sys.maxsize <= 2**32:
        return None, f"32-bit Python on {sys.platform} {machine}".rstrip()
    if "t" in getattr(sys, "abiflags", "") or _gil_disabled_windows():
        return None, f"free-threaded CPython {sys.version_info[0]}.{sys.version_info[1]}"
    if sys.platform.startswith("linux"):
        arch = {
            "x86_64": "x86_64",
            "amd64": "x86_64",
            "aarch64": "aarch64",
            "arm64": "aarch64",
        }.get(machine)
        libc = _glibc()
        if libc is None:
            return None, f"Linux {machine} with musl or another non-glibc C library"
        if libc < (2, 17):
            return None, f"Linux {machine} with glibc {libc[0]}.{libc[1]} (needs 2.17+)"
        if arch is None:
            return None, f"Linux {machine or 'unknown'}"
        return f"linux-{arch}", f"Linux {arch}"
    if sys.platform == "darwin":
        if machine == "arm64":
            return "macos-arm64", "macOS arm64"
        return None, f"macOS {machine or 'unknown'}"
    if sys.platform == "win32":
        import sysconfig

        plat = sysconfig.get_platform()
        if plat == "win-amd64":
            return "windows-amd64", "Windows amd64"
        return None, f"Windows ({plat})"
    return None, f"{sys.platform} {machine}".rstrip()


def _gil_disabled_windows() -> bool:
    if sys.platform != "win32" or sys.version_info < (3, 13):
        return False
    import sysconfig

    return bool(sysconfig.get_config_var("Py_GIL_DISABLED"))


def _glibc() -> tuple[int, int] | None:
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")  # "glibc 2.36"
    except (AttributeError, ValueError, OSError):
        return None
    if not value or not value.startswith("glibc "):
        return None
    try:
        major, minor = value.split()[1].split(".")[:2]
        return int(major), int(minor)
    except ValueError:
        return None


# -- cache roots ----------------------------------------------------------------------


def _platform_cache_dir() -> str | None:
    home = os.path.expanduser("~")
    if sys.platform == "darwin":
        return os.path.join(home, "Library", "Caches", "usagestat")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(base, "usagestat", "Cache")
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return os.path.join(base, "usagestat")


def _temp_base() -> str:
    for name in ("TMPDIR", "TEMP", "TMP"):
        value = os.environ.get(name)
        if value and os.path.isdir(value):
            return value
    if os.name == "posix":
        return "/tmp"
    import tempfile

    return tempfile.gettempdir()


def _user_suffix() -> str:
    if hasattr(os, "getuid"):
        return str(os.getuid())
    return os.environ.get("USERNAME", "user")


def cache_roots() -> Iterator[tuple[str, bool]]:
    """Candidate cache roots in order, as (path, is_shared_temp); evaluated lazily."""
    override = os.environ.get("USAGESTAT_CACHE_DIR")
    if override:
        yield os.path.abspath(override), False
    default = _platform_cache_dir()
    if default:
        yield os.path.abspath(default), False
    yield os.path.join(_temp_base(), f"usagestat-{_user_suffix()}"), True


_FRESH: list[str] = []


def _fresh_root() -> str | None:
    """Last resort: a private ``mkdtemp()`` for this process, removed at exit."""
    if _FRESH:
        return _FRESH[0]
    import atexit
    import shutil
    import tempfile

    try:
        path = tempfile.mkdtemp(prefix="usagestat-")
    except OSError:
        return None
    _FRESH.append(path)
    atexit.register(shutil.rmtree, path, True)
    return path


def trusted_dir(path: str, shared: bool = False) -> bool:
    """A directory we own that group and others cannot write (a symlink only outside temp)."""
    try:
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            if shared:
                return False
            info = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode):
        return False
    return not (os.name == "posix" and (info.st_uid != os.getuid() or info.st_mode & 0o022))


def _ensure_root(path: str, shared: bool) -> bool:
    """Create ``path`` (mode 0700) if needed; True when it is usable."""
    try:
        os.makedirs(path, mode=0o700)
    except FileExistsError:
        pass
    except OSError:
        return False
    return trusted_dir(path, shared)


def _ensure_subdir(root: str, name: str) -> str:
    path = os.path.join(root, name)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    if not trusted_dir(path):
        raise OSError(f"{path} is not a private directory")
    return path


# -- the engine -----------------------------------------------------------------------


def _entry() -> tuple[str, tuple[str, str, str, int, str]]:
    manifest = _manifest()
    if manifest is None:
        raise EngineUnavailable("this is not a usagestat.pyz build with a vendored engine")
    tag, described = platform_tag()
    if tag is None or tag not in manifest.WHEELS:
        raise UnsupportedPlatform(
            f"the QuickJS engine has no build for this platform ({described}); supported: {SUPPORTED}"
        )
    return tag, manifest.WHEELS[tag]


def _key(tag: str, entry: tuple[str, str, str, int, str]) -> str:
    manifest = _manifest()
    version = getattr(manifest, "ENGINE_VERSION", "0")
    return f"quickjs-ng-{version}-{tag}-{entry[1][:16]}"


def _published(folder: str, native: str, size: int) -> str | None:
    """The native file of a complete copy in ``folder``, or None (missing or damaged)."""
    path = os.path.join(folder, native)
    try:
        if os.path.getsize(path) == size and os.path.isfile(os.path.join(folder, MARKER)):
            return path
    except OSError:
        pass
    return None


def _set_aside(folder: str) -> None:
    """Rename a damaged copy away (never overwrite a file another process may have mapped)."""
    aside = f"{folder}.damaged-{os.getpid()}"
    try:
        os.rename(folder, aside)
    except OSError:
        return
    import shutil

    shutil.rmtree(aside, ignore_errors=True)


def _read_wheel_member(member: str, name: str) -> bytes:
    import zipfile

    archive = archive_path()
    assert archive is not None
    with (
        zipfile.ZipFile(archive) as outer,
        outer.open(member) as stream,
        zipfile.ZipFile(stream) as wheel,
    ):
        return wheel.read(name)


def _write_private(path: str, data: bytes, sync: bool = True) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())


def _extract(root: str, key: str, entry: tuple[str, str, str, int, str]) -> str:
    """Publish the native module under ``root/native/key``; return its path."""
    import shutil
    import tempfile
    import zipfile

    member, _wheel_sha, native, size, native_sha = entry
    parent = _ensure_subdir(root, "native")
    final = os.path.join(parent, key)
    if os.path.lexists(final):
        found = _published(final, native, size)
        if found:
            return found
        _set_aside(final)
    try:
        data = _read_wheel_member(member, native)  # zipfile checks each member's CRC-32
    except (KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise EngineLoadFailed(f"the engine inside {archive_path()} is damaged ({exc}); rebuild it")
    if len(data) != size:
        raise EngineLoadFailed(f"the engine inside {archive_path()} is damaged (size); rebuild it")
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        _write_private(os.path.join(tmp, native), data)
        _write_private(os.path.join(tmp, MARKER), f"{member}\n{native_sha}\n".encode(), sync=False)
        try:
            os.rename(tmp, final)
        except OSError:
            found = _published(final, native, size)  # another process published first
            if not found:
                raise
            shutil.rmtree(tmp, ignore_errors=True)
            return found
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _sweep(parent)
    return os.path.join(final, native)


def _sweep(parent: str, max_age: float = 3600.0) -> None:
    """Remove temp dirs that a crashed extraction left behind (cold path only)."""
    import shutil
    import time

    cutoff = time.time() - max_age
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for name in names:
        if name.startswith(".tmp-") or ".damaged-" in name:
            path = os.path.join(parent, name)
            try:
                if os.lstat(path).st_mtime < cutoff:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _import(path: str) -> ModuleType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("_quickjs", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["_quickjs"] = module
    return module


def load_quickjs() -> ModuleType:
    """Import ``_quickjs`` from the vendored wheel, extracting it once if needed."""
    module = sys.modules.get("_quickjs")
    if module is not None:
        return module
    tag, entry = _entry()
    key = _key(tag, entry)
    _member, _sha, native, size, _native_sha = entry
    failures: list[tuple[str, str]] = []
    # Warm path: a published copy in a trusted root.
    for root, shared in cache_roots():
        if not trusted_dir(root, shared):
            continue
        found = _published(os.path.join(root, "native", key), native, size)
        if found:
            try:
                return _import(found)
            except ImportError as exc:
                failures.append((found, str(exc)))
    # Cold path: extract into the first root that works.
    tried: list[str] = []
    roots = [(root, shared) for root, shared in cache_roots()]
    for root, shared in [*roots, ("", False)]:
        if not root:
            fresh = _fresh_root()
            if not fresh:
                break
            root = fresh
        tried.append(root)
        if not _ensure_root(root, shared):
            failures.append((root, "not a private directory we can write"))
            continue
        try:
            path = _extract(root, key, entry)
        except EngineLoadFailed:
            raise
        except OSError as exc:
            failures.append((root, exc.strerror or str(exc)))
            continue
        if any(path == where for where, _ in failures):
            continue  # already failed to load this very file on the warm path
        try:
            return _import(path)
        except ImportError as exc:
            failures.append((path, str(exc)))
    raise _load_error(tried, failures)


def _load_error(tried: list[str], failures: list[tuple[str, str]]) -> EngineLoadFailed:
    loads = [reason for where, reason in failures if where.endswith((".so", ".pyd"))]
    if loads and all(any(h in r.lower() for h in NOEXEC_HINTS) for r in loads):
        return EngineLoadFailed(
            "cannot load the QuickJS engine: the cache directories tried ("
            + ", ".join(tried)
            + ") do not allow running native code (noexec mount?); "
            "set USAGESTAT_CACHE_DIR to a directory on a filesystem that allows it"
        )
    last = failures[-1] if failures else ("", "no usable cache directory")
    detail = " ".join(last[1].split())
    return EngineLoadFailed(
        f"cannot load the QuickJS engine (tried {', '.join(tried) or 'no cache dir'}): {detail}"
    )


def quickjs_path() -> str:
    """The native engine file (loaded, so it is known to work) for worker processes."""
    module = load_quickjs()
    path = getattr(module, "__file__", None)
    if not path:
        raise EngineLoadFailed("the loaded QuickJS engine has no file path")
    return path


# -- bundled icons --------------------------------------------------------------------


def extract_resource(path: Any) -> str | None:
    """An absolute file path for a file inside the ``.pyz`` (icons), extracted once.

    ``path`` is a ``zipfile.Path``. Files listed in the build manifest are keyed
    by the hash recorded at build time, so warm runs only ``stat`` them.
    """
    inner = getattr(path, "at", None)
    if not isinstance(inner, str) or not inner or inner.endswith("/"):
        return None
    manifest = _manifest()
    known = getattr(manifest, "RESOURCES", {}).get(inner) if manifest else None
    data: bytes | None = None
    if known is None:
        if manifest is not None and inner.startswith(tuple(getattr(manifest, "COVERED", ()))):
            return None  # the build saw every file there: this one does not exist
        try:
            if not path.is_file():
                return None
            data = path.read_bytes()
        except (OSError, KeyError, ValueError):
            return None
        import hashlib

        known = (hashlib.sha256(data).hexdigest()[:16], len(data))
    digest, size = known
    suffix = os.path.splitext(inner)[1]
    name = f"{digest}{suffix}"
    roots = list(cache_roots())
    for root, shared in roots:
        if not trusted_dir(root, shared):
            continue
        candidate = os.path.join(root, "resources", name)
        try:
            if os.path.getsize(candidate) == size:
                return candidate
        except OSError:
            pass
    if data is None:
        try:
            data = path.read_bytes()
        except (OSError, KeyError, ValueError):
            return None
    for root, shared in [*roots, ("", False)]:
        if not root:
            root = _fresh_root() or ""
            if not root:
                return None
        if not _ensure_root(root, shared):
            continue
        try:
            return _publish_file(_ensure_subdir(root, "resources"), name, data)
        except OSError:
            continue
    return None


def _publish_file(folder: str, name: str, data: bytes) -> str:
    final = os.path.join(folder, name)
    try:
        if os.path.getsize(final) == len(data):
            return final
    except OSError:
        pass
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{id(data):x}-{name}")
    try:
        os.unlink(tmp)
    except OSError:
        pass
    try:
        _write_private(tmp, data, sync=False)  # an icon: a short copy is caught by its size
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return final
