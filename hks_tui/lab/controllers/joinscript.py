"""Parser for the K3s agent join scripts the lab's guest agent accepts (grammar in docs/lab-world.md).

Accepted forms (any mix, one script):

* ``export K3S_URL=...`` / ``K3S_URL=...`` assignment lines (also ``K3S_TOKEN``, ``INSTALL_K3S_EXEC``,
  ``K3S_NODE_NAME``), values optionally quoted, ``$VAR`` / ``${VAR}`` expanded from earlier assignments;
* ``curl -sfL https://get.k3s.io | [VAR=value ...] sh -s - [agent] [flags...]`` (also ``sh -``, ``sh -s --``,
  ``bash``);
* ``INSTALL_K3S_EXEC="agent --node-label ..."`` feeding the installer;
* a direct ``k3s agent --server URL --token TOKEN [flags...]``.

Flags: ``--server/-s``, ``--token/-t``, ``--node-name``, ``--node-label k=v``, ``--node-taint k=v:Effect``
(``--flag value`` and ``--flag=value``); other flags are accepted and ignored.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_TAINT = re.compile(r"^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$")
_VALUE_FLAGS = {
    "--server": "server",
    "-s": "server",
    "--token": "token",
    "-t": "token",
    "--node-name": "node_name",
    "--node-label": "label",
    "--node-taint": "taint",
    "--node-ip": "node_ip",
    "--data-dir": "ignore",
    "-d": "ignore",
    "--kubelet-arg": "ignore",
    "--node-external-ip": "ignore",
    "--flannel-iface": "ignore",
    "--token-file": "ignore",
    "--config": "ignore",
    "-c": "ignore",
    "--with-node-id": "flag",
}


class JoinScriptError(ValueError):
    """The script is not a K3s agent install the lab understands."""


@dataclass
class JoinRequest:
    url: str | None = None
    token: str | None = None
    node_name: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    args: list[str] = field(default_factory=list)  # the agent arguments, as k3s records them


def _expand(text: str, env: dict[str, str]) -> str:
    return _VAR.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _logical_lines(script: str) -> list[str]:
    lines: list[str] = []
    buf = ""
    for raw in script.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip() and not buf.strip().startswith("#"):
            lines.append(buf.strip())
        buf = ""
    if buf.strip():
        lines.append(buf.strip())
    return lines


def _split_commands(line: str) -> list[list[str]]:
    """Split a line into simple commands on ``|``, ``&&``, ``;`` (quotes respected by shlex)."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|&;")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in ("|", "||", "&&", ";", "&", "|&"):
            commands.append([])
        else:
            commands[-1].append(token)
    return [c for c in commands if c]


def parse_taint(text: str) -> dict[str, str]:
    match = _TAINT.match(text)
    if not match:
        raise JoinScriptError(f'invalid taint "{text}": expected key[=value]:Effect')
    taint = {"key": match.group(1), "effect": match.group(3)}
    if match.group(2):
        taint["value"] = match.group(2)
    return taint


def _apply_flags(words: list[str], req: JoinRequest) -> None:
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("agent", "-", "--"):
            i += 1
            continue
        flag, eq, inline = word.partition("=")
        kind = _VALUE_FLAGS.get(flag)
        if kind is None or kind == "flag":
            req.args.append(word)
            i += 1
            continue
        if eq:
            value = inline
            i += 1
        else:
            if i + 1 >= len(words):
                raise JoinScriptError(f"flag needs an argument: {flag}")
            value = words[i + 1]
            i += 2
        req.args.extend([flag, value])
        if kind == "server":
            req.url = value
        elif kind == "token":
            req.token = value
        elif kind == "node_name":
            req.node_name = value
        elif kind == "label":
            key, sep, val = value.partition("=")
            if not sep or not key:
                raise JoinScriptError(f'invalid node label "{value}": expected key=value')
            req.labels[key] = val
        elif kind == "taint":
            req.taints.append(parse_taint(value))


def parse_join_script(script: str) -> JoinRequest:
    """Parse a join script; raises :class:`JoinScriptError` when it installs no K3s agent."""
    env: dict[str, str] = {}
    req = JoinRequest()
    installer_seen = False
    for line in _logical_lines(script):
        try:
            commands = _split_commands(line)
        except ValueError as exc:
            raise JoinScriptError(f"syntax error: {exc}") from exc
        for words in commands:
            words = [_expand(w, env) for w in words]
            if words[0] == "export":
                words = words[1:]
            local_env = dict(env)
            rest: list[str] = []
            for n, word in enumerate(words):
                match = _ASSIGN.match(word)
                if match and not rest:
                    local_env[match.group(1)] = match.group(2)
                else:
                    rest = words[n:]
                    break
            if not rest:
                env = local_env  # plain assignment line
                continue
            prog = rest[0].rsplit("/", 1)[-1]
            if prog in ("sh", "bash") and ("-s" in rest[1:] or rest[1:2] == ["-"]):
                installer_seen = True
                env.update({k: v for k, v in local_env.items() if k.startswith(("K3S_", "INSTALL_K3S_"))})
                args = rest[rest.index("-s") + 1 :] if "-s" in rest[1:] else rest[2:]
                exec_args = shlex.split(env.get("INSTALL_K3S_EXEC", ""))
                _apply_flags([*exec_args, *args], req)
            elif prog == "k3s" and len(rest) > 1 and rest[1] == "agent":
                installer_seen = True
                env.update(local_env)
                _apply_flags(rest[2:], req)
    if not installer_seen:
        raise JoinScriptError("no K3s agent installation found in the script")
    req.url = req.url or env.get("K3S_URL")
    req.token = req.token or env.get("K3S_TOKEN")
    req.node_name = req.node_name or env.get("K3S_NODE_NAME")
    return req
