"""Authentication of the simulated PVE API: API tokens and tickets with CSRF tokens.

* ``Authorization: PVEAPIToken=USER@REALM!TOKENID=SECRET`` — stateless, no CSRF token needed.
* ``POST /access/ticket`` (``username``, ``password``, optional ``realm``) answers a ticket
  ``PVE:user@realm:HEXTIME::SIGNATURE`` (sent back as cookie ``PVEAuthCookie``) and a
  ``CSRFPreventionToken`` ``HEXTIME:SIGNATURE`` that must accompany every non-GET request. Tickets are
  valid for two hours of lab time; a valid ticket POSTed as ``password`` renews it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import unquote

from hks_tui.lab.clock import LabClock
from hks_tui.lab.world import LabCredentials

TICKET_LIFETIME = 7200.0  # lab seconds
COOKIE_NAME = "PVEAuthCookie"
CSRF_HEADER = "CSRFPreventionToken"


@dataclass(frozen=True)
class Identity:
    user: str  # "root@pam" or, for tokens, "user@realm!tokenid"
    via_ticket: bool
    csrf_ok: bool = True


class PveAuth:
    def __init__(self, credentials: LabCredentials, clock: LabClock) -> None:
        self.credentials = credentials
        self.clock = clock
        self._key = secrets.token_bytes(32)

    def _sign(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode().rstrip("=")

    # -- tickets --------------------------------------------------------------------------------------
    def issue(self, user: str) -> dict[str, object]:
        hextime = f"{int(self.clock.now()):08X}"
        plain = f"PVE:{user}:{hextime}"
        ticket = f"{plain}::{self._sign(plain)}"
        csrf = f"{hextime}:{self._sign(hextime + ':' + user)}"
        return {
            "username": user,
            "ticket": ticket,
            "CSRFPreventionToken": csrf,
            "clustername": "hks-lab",
            "cap": {
                "vms": {
                    "VM.Allocate": 1,
                    "VM.Clone": 1,
                    "VM.Config.Disk": 1,
                    "VM.PowerMgmt": 1,
                    "VM.Audit": 1,
                },
                "storage": {"Datastore.Allocate": 1, "Datastore.AllocateSpace": 1, "Datastore.Audit": 1},
                "nodes": {"Sys.Audit": 1},
                "access": {},
                "dc": {"Sys.Audit": 1},
            },
        }

    def verify_ticket(self, ticket: str) -> str | None:
        """The user of a valid, unexpired ticket, else None."""
        ticket = unquote(ticket)
        plain, sep, signature = ticket.rpartition("::")
        if not sep:
            return None
        parts = plain.split(":")
        if len(parts) != 3 or parts[0] != "PVE":
            return None
        if not hmac.compare_digest(self._sign(plain), signature):
            return None
        try:
            issued = int(parts[2], 16)
        except ValueError:
            return None
        if self.clock.now() - issued > TICKET_LIFETIME:
            return None
        return parts[1]

    def verify_csrf(self, token: str | None, user: str) -> bool:
        if not token:
            return False
        hextime, sep, signature = token.partition(":")
        if not sep:
            return False
        return hmac.compare_digest(self._sign(hextime + ":" + user), signature)

    def login(self, username: str, password: str, realm: str | None) -> str | None:
        """The user a login succeeds for (password or ticket renewal), else None."""
        if realm and "@" not in username:
            username = f"{username}@{realm}"
        if username != self.credentials.pve_user:
            return None
        if hmac.compare_digest(password.encode(), self.credentials.pve_password.encode()):
            return username
        renewed = self.verify_ticket(password)
        return username if renewed == username else None

    # -- per request ----------------------------------------------------------------------------------
    def identify(self, method: str, headers: dict[str, str], cookies: dict[str, str]) -> Identity | None:
        header = headers.get("Authorization", "")
        if header.startswith("PVEAPIToken="):
            token_id, sep, secret = header.removeprefix("PVEAPIToken=").strip().rpartition("=")
            if not sep:
                return None
            creds = self.credentials
            if token_id == creds.pve_token_id and hmac.compare_digest(
                secret.encode(), creds.pve_token_secret.encode()
            ):
                return Identity(user=token_id, via_ticket=False)
            return None
        ticket = cookies.get(COOKIE_NAME)
        if ticket:
            user = self.verify_ticket(ticket)
            if user is None:
                return None
            csrf_ok = method in ("GET", "HEAD") or self.verify_csrf(headers.get(CSRF_HEADER), user)
            return Identity(user=user, via_ticket=True, csrf_ok=csrf_ok)
        return None
