"""How a container behaves in the lab, decided from its image, command, args and env (documented in
docs/lab-world.md, "Container behaviour rules"), and the believable log lines it writes."""

from __future__ import annotations

import json
import random
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

PULL_FAIL_MARKERS = ("doesnotexist",)
CRASH_MARKERS = ("crashloop",)
_EXIT_RE = re.compile(r"exit\s+(\d+)")


@dataclass(frozen=True)
class Behaviour:
    pull_fails: bool
    crashes: bool
    run_seconds: float  # how long a run-to-completion container runs
    exit_code: int  # exit code of a run-to-completion container (or of each crash)
    flavour: str  # log flavour


def image_tag(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return ""
    return last.split(":", 1)[1] if ":" in last else "latest"


def full_image(image: str) -> str:
    """``nginx:1.27`` → ``docker.io/library/nginx:1.27`` (what the kubelet reports)."""
    ref = image if ":" in image.rsplit("/", 1)[-1] or "@" in image else f"{image}:latest"
    first = ref.split("/", 1)[0]
    if "/" not in ref:
        return f"docker.io/library/{ref}"
    if "." in first or ":" in first or first == "localhost":
        return ref
    return f"docker.io/{ref}"


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {str(e.get("name")): str(e.get("value", "")) for e in container.get("env") or [] if e.get("name")}


def behaviour(container: dict[str, Any]) -> Behaviour:
    image = str(container.get("image") or "")
    env = _env(container)
    lowered = image.lower()
    pull_fails = any(m in lowered for m in PULL_FAIL_MARKERS) or image_tag(image) == "missing"
    crashes = any(m in lowered for m in CRASH_MARKERS) or env.get("HKS_LAB_CRASH") == "1"
    argv = [str(x) for x in [*(container.get("command") or []), *(container.get("args") or [])]]
    words = " ".join(argv)
    script = argv[argv.index("-c") + 1] if "-c" in argv[:-1] else words
    last_statement = re.split(r"[;\n]|&&|\|\|", script.strip())[-1].strip()
    exit_code = 0
    match = _EXIT_RE.fullmatch(last_statement)
    if "HKS_LAB_EXIT_CODE" in env:
        try:
            exit_code = int(env["HKS_LAB_EXIT_CODE"])
        except ValueError:
            exit_code = 1
    elif match:
        exit_code = int(match.group(1))
    elif last_statement in ("false", "/bin/false") or "fail" in image_tag(image) or crashes:
        exit_code = 1
    try:
        run_seconds = float(env.get("HKS_LAB_DURATION", "5"))
    except ValueError:
        run_seconds = 5.0
    return Behaviour(pull_fails, crashes, max(0.5, run_seconds), exit_code, flavour(image))


def flavour(image: str) -> str:
    name = image.lower().rsplit("/", 1)[-1].split(":", 1)[0].split("@", 1)[0]
    if any(k in name for k in ("nginx", "httpd", "caddy", "traefik", "storefront", "web", "frontend")):
        return "access"
    if any(k in name for k in ("postgres", "mysql", "mariadb")):
        return "sql"
    if "redis" in name or "valkey" in name:
        return "redis"
    if "backup" in name:
        return "backup"
    if any(k in name for k in ("api", "worker", "checkout", "service", "node", "python", "go")):
        return "json"
    return "plain"


def _rng(pod: str, container: str, seq: int) -> random.Random:
    return random.Random(zlib.crc32(f"{pod}/{container}/{seq}".encode()))


_PATHS = [
    "/",
    "/index.html",
    "/api/v1/products",
    "/api/v1/cart",
    "/static/app.js",
    "/static/app.css",
    "/healthz",
    "/favicon.ico",
    "/api/v1/orders",
    "/login",
]
_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
    "curl/8.5.0",
    "kube-probe/1.31",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
]
_MSGS = [
    ("INFO", "request completed"),
    ("INFO", "cache refreshed"),
    ("INFO", "processed batch"),
    ("DEBUG", "connection pool stats"),
    ("WARN", "slow downstream response"),
    ("INFO", "health check ok"),
    ("ERROR", "upstream timed out"),
    ("INFO", "order accepted"),
    ("WARN", "retrying request"),
]


def _ts(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def startup_lines(flavour_name: str, container: str, image: str) -> list[str]:
    if flavour_name == "access":
        return [
            "/docker-entrypoint.sh: Configuration complete; ready for start up",
            '2026/11/22 00:00:00 [notice] 1#1: using the "epoll" event method',
            f"2026/11/22 00:00:00 [notice] 1#1: {image.split(':')[0]} started",
        ]
    if flavour_name == "sql":
        return [
            "PostgreSQL init process complete; ready for start up.",
            "LOG:  database system is ready to accept connections",
        ]
    if flavour_name == "redis":
        return ["1:M * Server initialized", "1:M * Ready to accept connections tcp"]
    if flavour_name == "json":
        return [
            json.dumps({"level": "info", "msg": "starting", "container": container, "image": image}),
            json.dumps({"level": "info", "msg": "listening", "addr": ":8080"}),
        ]
    return [f"INFO starting {container} ({image})", "INFO ready"]


def log_line(flavour_name: str, pod: str, container: str, seq: int, ts: float) -> str:
    """The ``seq``-th steady-state log line of a container, deterministic for (pod, container, seq)."""
    rng = _rng(pod, container, seq)
    when = _ts(ts)
    if flavour_name == "access":
        status = rng.choice([200] * 12 + [304, 301, 404, 500])
        return (
            f"10.42.{rng.randint(0, 3)}.{rng.randint(2, 250)} - - [{when.strftime('%d/%b/%Y:%H:%M:%S +0000')}] "
            f'"{rng.choice(["GET"] * 5 + ["POST"])} {rng.choice(_PATHS)} HTTP/1.1" {status} '
            f'{rng.randint(120, 48000)} "-" "{rng.choice(_AGENTS)}"'
        )
    level, msg = rng.choice(_MSGS)
    if flavour_name == "json":
        return json.dumps(
            {
                "ts": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z",
                "level": level.lower(),
                "msg": msg,
                "latency_ms": rng.randint(1, 900),
                "request_id": f"{rng.getrandbits(48):012x}",
            }
        )
    if flavour_name == "sql":
        if level == "ERROR":
            return f"{when.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC [{rng.randint(80, 999)}] ERROR:  canceling statement due to statement timeout"
        return f"{when.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3]} UTC [{rng.randint(80, 999)}] LOG:  checkpoint complete: wrote {rng.randint(3, 900)} buffers"
    if flavour_name == "redis":
        return f"1:M {when.strftime('%d %b %Y %H:%M:%S.%f')[:-3]} * {rng.randint(1, 100)} changes in 300 seconds. Saving..."
    return f"{when.strftime('%Y-%m-%dT%H:%M:%SZ')} {level} {msg} ({container})"


def crash_lines(container: str) -> list[str]:
    return [
        f"INFO starting {container}",
        "ERROR configuration invalid: required setting DATABASE_URL is empty",
        "FATAL exiting with status 1",
    ]


def completion_lines(
    flavour_name: str, container: str, exit_code: int, detail: str | None = None, name: str | None = None
) -> list[str]:
    """The last lines of a run-to-completion container (``detail``: the failure line, if any)."""
    if flavour_name == "backup":
        label = name or container
        lines = [f"backup {label}: writing to /backup"]
        if detail:
            return [*lines, detail, f"backup {label}: failed with status {exit_code}"]
        if exit_code == 0:
            return [*lines, f"backup {label}: done"]
        return [*lines, f"backup {label}: failed with status {exit_code}"]
    if detail:
        return [f"INFO {container}: starting", detail]
    if exit_code == 0:
        return [f"INFO {container}: starting", f"INFO {container}: completed successfully"]
    return [f"INFO {container}: starting", f"ERROR {container}: exited with status {exit_code}"]
