"""`hks-tui serve`: the console in a browser through textual-serve, locked down.

textual-serve has no access control (notes/safety.md §1). We subclass its ``Server`` and extend its app
factory (``_make_app``) with one aiohttp middleware that, for every request (page, static files, the
websocket, downloads):

* rejects a ``Host`` that is not this server's own address (DNS rebinding) — 403;
* rejects an ``Origin`` (when sent) that is not this server's own origin (cross-site websocket
  hijacking) — 403;
* requires the per-launch token (256 random bits, never written to disk): as ``?token=`` (then set as an
  ``HttpOnly; SameSite=Strict`` cookie and redirected away so it leaves the address bar), as the cookie,
  or as ``Authorization: Bearer`` — compared in constant time; otherwise 403.

Session processes get an allow-listed environment: the command run by textual-serve is wrapped in
``env -i`` with only PATH/HOME/locale/terminal/XDG/``HKS_*`` config pointers and textual-serve's own
``TEXTUAL_*``/``COLUMNS``/``ROWS`` variables, so secrets in the server's environment never reach a session.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import re
import secrets
import shlex
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from aiohttp import web
from textual_serve.server import Server

TOKEN_COOKIE = "hks_tui_token"
TOKEN_PARAM = "token"
#: variables a session may inherit from the server's environment (exact names)
ENV_ALLOW = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM", "COLORTERM", "NO_COLOR")
ENV_ALLOW_PREFIXES = ("LC_", "XDG_", "HKS_")
#: never passed even when allow-listed by prefix (secrets by name)
ENV_SECRET = re.compile(r"(SECRET|TOKEN|PASSW|KEY|CREDENTIAL|AUTH)", re.IGNORECASE)
#: set by textual-serve for each session (expanded by the session's shell from textual-serve's env)
ENV_FROM_SERVE = (
    "TEXTUAL_DRIVER",
    "TEXTUAL_FPS",
    "TEXTUAL_COLOR_SYSTEM",
    "TERM_PROGRAM",
    "TERM_PROGRAM_VERSION",
    "COLUMNS",
    "ROWS",
)
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def session_environment(environ: Mapping[str, str], extra: Iterable[str] = ()) -> dict[str, str]:
    """The allow-listed subset of ``environ`` a session process starts with (``extra``: explicit names)."""
    allowed = set(ENV_ALLOW) | set(extra)
    env: dict[str, str] = {}
    for name, value in environ.items():
        if name in allowed or (name.startswith(ENV_ALLOW_PREFIXES) and not ENV_SECRET.search(name)):
            env[name] = value
    return env


def session_command(argv: list[str], environ: Mapping[str, str], extra_env: Iterable[str] = ()) -> str:
    """The shell command textual-serve runs per session: ``env -i`` + allow-listed variables + ``argv``."""
    parts = ["exec", "env", "-i"]
    for name, value in sorted(session_environment(environ, extra_env).items()):
        parts.append(shlex.quote(f"{name}={value}"))
    # textual-serve adds these to the environment of the shell it starts; pass them through by name.
    parts.extend(f'{name}="${{{name}}}"' for name in ENV_FROM_SERVE)
    parts.extend(shlex.quote(arg) for arg in argv)
    return " ".join(parts)


def console_argv(global_args: list[str]) -> list[str]:
    """argv that starts the console with this interpreter and the same global options."""
    return [sys.executable, "-c", "from hks_tui.cli import main; main(prog_name='hks-tui')", *global_args]


class GuardedServer(Server):
    """textual-serve's Server with token, Host and Origin checks on every request."""

    def __init__(
        self,
        command: str,
        *,
        host: str,
        port: int,
        token: str,
        title: str = "HKS TUI",
        public_url: str | None = None,
    ) -> None:
        url_host = f"[{host}]" if ":" in host else host
        public = (public_url or f"http://{url_host}:{port}").rstrip("/")
        super().__init__(command, host=host, port=port, title=title, public_url=public)
        self.token = token
        self.allowed_hosts = self._allowed_hosts(host, port)
        self.allowed_origins = {f"http://{h}" for h in self.allowed_hosts}
        if public_url:
            parts = urlsplit(public)
            self.allowed_hosts.add(parts.netloc.lower())
            self.allowed_origins.add(f"{parts.scheme}://{parts.netloc}".lower())

    @staticmethod
    def _allowed_hosts(host: str, port: int) -> set[str]:
        names = {host if ":" not in host else f"[{host}]"}
        if is_loopback(host):
            names |= {"127.0.0.1", "localhost", "[::1]"}
        return {f"{name}:{port}" for name in names} | (names if port == 80 else set())

    @property
    def url(self) -> str:
        """The address to open, with the token."""
        return f"{self.public_url}/?{TOKEN_PARAM}={self.token}"

    def _token_ok(self, request: web.Request) -> bool:
        candidates = [request.query.get(TOKEN_PARAM, ""), request.cookies.get(TOKEN_COOKIE, "")]
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            candidates.append(auth.removeprefix("Bearer ").strip())
        expected = self.token.encode()
        return any(hmac.compare_digest(c.encode(), expected) for c in candidates if c)

    def check(self, request: web.Request) -> str | None:
        """Why ``request`` must be refused, or ``None`` when it may pass."""
        host = request.headers.get("Host", "")
        if host.lower() not in self.allowed_hosts:
            return f"foreign Host {host!r}"
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in self.allowed_origins:
            return f"foreign Origin {origin!r}"
        if not self._token_ok(request):
            return "missing or wrong token"
        return None

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        problem = self.check(request)
        if problem is not None:
            return web.Response(status=403, text=f"403 Forbidden: {problem}\n", headers=SECURITY_HEADERS)
        if TOKEN_PARAM in request.query and request.path == "/":
            # Move the token from the address bar into a cookie the page's websocket will carry.
            query = {k: v for k, v in request.query.items() if k != TOKEN_PARAM}
            location = str(request.rel_url.with_query(query))
            redirect = web.Response(status=302, headers={**SECURITY_HEADERS, "Location": location})
            redirect.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict", path="/")
            return redirect
        response = await handler(request)
        if not response.prepared:
            response.headers.update(SECURITY_HEADERS)
        return response

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard)
        return app

    async def on_startup(self, app: web.Application) -> None:
        # Plain output, never wrapped: scripts read the URL from here.
        click.echo(f"HKS TUI served on {self.public_url} — open this URL (it carries the access token):")
        click.echo(f"  {self.url}")
        click.echo("Press Ctrl+C to quit.", err=True)
        sys.stdout.flush()


def global_args_from_context(ctx: click.Context) -> list[str]:
    """The root command's global options as argv, so sessions run with the same ones."""
    root = ctx.find_root()
    args: list[str] = []
    for param in root.command.params:
        if not isinstance(param, click.Option) or param.name is None or param.is_eager:
            continue
        value = root.params.get(param.name)
        source = root.get_parameter_source(param.name)
        if value is None or source in (None, click.core.ParameterSource.DEFAULT):
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            if value:
                args.append(flag)
        else:
            args += [flag, str(value)]
    return args


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to bind.")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback bind (exposes the console!).")
@click.option(
    "--public-url",
    metavar="URL",
    help="The address browsers use (e.g. behind a TLS proxy: https://bastion.example:8443); its Host "
    "and Origin are accepted. Required with --allow-remote on a wildcard address.",
)
@click.option("--pass-env", multiple=True, metavar="NAME", help="Also pass this variable to sessions.")
@click.pass_context
def serve_command(
    ctx: click.Context,
    host: str,
    port: int,
    allow_remote: bool,
    public_url: str | None,
    pass_env: tuple[str, ...],
) -> None:
    """Serve the console to a browser (textual-serve), guarded by a per-launch token."""
    if not is_loopback(host):
        if not allow_remote:
            raise click.UsageError(
                f"refusing to bind {host}: it is not a loopback address. Use an SSH tunnel "
                "(ssh -L 8000:127.0.0.1:8000 bastion), or pass --allow-remote if you really mean it."
            )
        click.secho(
            f"WARNING: serving on {host} — anyone who can reach it and has the URL's token gets full "
            "admin of this workspace. Put a TLS reverse proxy in front.",
            fg="red",
            err=True,
        )
        if host in ("0.0.0.0", "::") and not public_url:
            raise click.UsageError(f"binding {host} needs --public-url (the address browsers will use)")
    if public_url and urlsplit(public_url).scheme not in ("http", "https"):
        raise click.BadParameter("must be an http:// or https:// URL", param_hint="--public-url")
    global_args = global_args_from_context(ctx)
    lab = _shared_lab_if_unconfigured(ctx)
    if lab is not None:
        # One embedded lab for every browser session (instead of one per session).
        global_args += ["--lab-dir", str(lab.state_dir)]
    token = secrets.token_urlsafe(32)
    command = session_command(console_argv(global_args), os.environ, pass_env)
    server = GuardedServer(command, host=host, port=port, token=token, public_url=public_url)
    try:
        server.serve()
    finally:
        if lab is not None:
            lab.stop()
            shutil.rmtree(lab.state_dir.parent, ignore_errors=True)


def _shared_lab_if_unconfigured(ctx: click.Context) -> Any:
    """Start the embedded lab when the console would (no --lab-dir/--profile, no usable profile)."""
    params = ctx.find_root().params
    if params.get("lab_dir") or params.get("profile"):
        return None
    from hks_tui.config import ConfigError, load_settings

    try:
        if load_settings(params.get("config_path")).profiles:
            return None
    except ConfigError:
        pass  # sessions show the problem; they run on the lab meanwhile
    from hks_tui.lab.server import start_lab_in_thread

    state = Path(tempfile.mkdtemp(prefix="hks-serve-lab-")) / "lab"
    click.echo(f"No configuration: serving the embedded lab ({state}).", err=True)
    return start_lab_in_thread(state_dir=state, seed="demo", time_scale=1.0)
