"""``usagestat auth import-cookies``: take a web provider's session cookie from a browser."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..errors import CliError, UsageError
from ..options import output_format

if TYPE_CHECKING:
    from usagestat.plugins.instances import Instance

    from ..context import CliContext

DESCRIPTION = """\
Manage credentials for providers that are read through their website.

  import-cookies   read the session cookie of a provider's website (its
                   manifest webUrl) from a local browser profile

examples:
  usagestat auth import-cookies --provider cursor
  usagestat auth import-cookies --provider codex --format json
  usagestat auth import-cookies --provider claude-web --browser firefox --save
"""

IMPORT_DESCRIPTION = """\
Read the cookies a browser holds for a provider's website (the webUrl of its
manifest: exact host and parent-domain matches, unexpired cookies only) and
print them as one Cookie header.

Browsers: chrome, chromium, brave, edge (the Chromium family; on Linux the
cookies are decrypted with the Secret Service key or the built-in default, on
macOS with the keychain item) and firefox (any OS). Windows Chromium cookies
cannot be decrypted: paste the header into the config by hand instead. With no
--browser, each is tried in turn and the first with a session wins.

The cookie header is a password: it is masked (ses…abcd) in every format
unless --show is given. --save writes it as cookieHeader into the config entry
whose instanceId (or id) is ID, appending an entry when there is none; the
rest of the file, comments included, is kept and the file stays mode 0600.

errors (JSON: {"error": {"code", "message"}}, exit 1):
  NO_WEB_URL         the provider has no website to read cookies for
  BROWSER_NOT_FOUND  no such browser or profile on this machine
  SESSION_NOT_FOUND  the browser holds no (unexpired) cookies for the site
  DECRYPT_FAILED     the cookie store could not be decrypted (when only some
                     of the site's cookies fail, e.g. stale ones stored with an
                     older key, they are skipped with a warning on stderr)

examples:
  usagestat auth import-cookies --provider cursor --save
  usagestat auth import-cookies --provider codex --format json
  usagestat auth import-cookies --provider claude --browser chrome --profile "Profile 1"

output (json):
  {"providerId": "codex", "cookieHeader": "__S…f3a9", "source": "chrome", "profile": "Default"}
"""
BROWSERS = ("chrome", "chromium", "brave", "edge", "firefox")
FORMATS = ("text", "json")


def add_parser(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    from ..app import HelpFormatter

    parser = sub.add_parser(
        "auth",
        parents=[common],
        help="import a browser session cookie for a web provider",
        description=DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    actions = parser.add_subparsers(dest="auth_action", metavar="ACTION", required=True)
    imp = actions.add_parser(
        "import-cookies",
        parents=[common],
        help="read a provider's session cookie from a browser",
        description=IMPORT_DESCRIPTION,
        formatter_class=HelpFormatter,
    )
    imp.add_argument(
        "--provider", required=True, metavar="ID", help="instance id or provider id (required)"
    )
    imp.add_argument("--browser", choices=BROWSERS, help="browser to read (default: try each)")
    imp.add_argument("--profile", metavar="P", help="browser profile (default: the default one)")
    imp.add_argument("--format", choices=FORMATS, help="text (default) or json")
    imp.add_argument(
        "--save", action="store_true", help="write the header into the config as cookieHeader"
    )
    imp.add_argument("--show", action="store_true", help="print the cookie header unmasked")


class CookieFailure(CliError):
    """A failure with one of the SPEC §2.2 cookie-import codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _instance(ctx: CliContext, wanted: str) -> Instance:
    instances = ctx.resolution.instances
    for inst in instances:
        if inst.instance_id == wanted:
            return inst
    for inst in instances:
        if inst.provider_id == wanted:
            return inst
    from usagestat.core.config import did_you_mean

    raise UsageError(f"unknown provider {wanted!r}{did_you_mean(wanted, ctx.provider_names())}")


def web_host(inst: Instance) -> str:
    """The host of the provider's manifest ``webUrl``; NO_WEB_URL when it has none."""
    from urllib.parse import urlsplit

    web_url = inst.plugin.manifest.web_url if inst.plugin else None
    host = None
    if web_url:
        try:
            host = urlsplit(web_url).hostname
        except ValueError:
            host = None
    if not host:
        raise CookieFailure(
            "NO_WEB_URL",
            f"{inst.display_name} has no website to read cookies for (no webUrl in its manifest)",
        )
    return host


def _import(host: str, browser: str | None, profile: str | None) -> Any:
    try:
        from usagestat.core.cookies import CookieImportError, import_cookies
    except ImportError:
        raise CliError("cookie import is not available in this build of usagestat")
    try:
        return import_cookies(host, browser=browser, profile=profile)
    except CookieImportError as exc:
        code = getattr(exc, "code", None) or "SESSION_NOT_FOUND"
        message = getattr(exc, "message", None) or str(exc)
        raise CookieFailure(code, message)


def _save(ctx: CliContext, inst: Instance, header: str) -> str:
    try:
        from usagestat.core.configedit import set_provider_value
    except ImportError:
        raise CliError("saving to the config is not available in this build of usagestat")
    path = ctx.config.path
    try:
        set_provider_value(path, inst.instance_id, "cookieHeader", header)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}")
    except Exception as exc:  # a config edit that would not re-parse, etc.
        raise CliError(f"cannot update {path}: {exc}")
    return str(path)


def run(ctx: CliContext, args: argparse.Namespace) -> int:
    fmt = output_format(ctx, args, FORMATS, "text")
    try:
        inst = _instance(ctx, args.provider)
        host = web_host(inst)
        found = _import(host, args.browser, args.profile)
        saved = _save(ctx, inst, found.header) if args.save else None
    except CookieFailure as failure:
        if fmt == "json":
            ctx.print_json({"error": {"code": failure.code, "message": failure.message}})
            return 1
        raise CliError(f"{failure.code}: {failure.message}")
    for warning in found.warnings:
        ctx.warn(warning)
    from usagestat.core.redact import mask_value

    header = found.header if args.show else mask_value(found.header)
    if fmt == "json":
        ctx.print_json(
            {
                "providerId": inst.provider_id,
                "cookieHeader": header,
                "source": found.browser,
                "profile": found.profile,
            }
        )
        return 0
    if ctx.plain:
        ctx.out(f"provider: {inst.provider_id}")
        ctx.out(f"source: {found.browser}")
        ctx.out(f"profile: {found.profile}")
        ctx.out(f"cookieHeader: {header}")
        if saved:
            ctx.out(f"saved: {saved}")
        return 0
    ctx.out(f"Found the {host} session in {found.browser} (profile {found.profile}).")
    ctx.out(f"  Cookie: {header}")
    if saved:
        ctx.out(f"Saved as cookieHeader of {inst.instance_id} in {saved}.")
    elif not args.show:
        ctx.out("Use --save to store it in the config, or --show to print it.")
    return 0
