"""The lab's control API over HTTP: faults, request counts, clock, world summary, bad input."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def _call(lab: Any, method: str, path: str, body: Any = None, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(lab.info["control_url"] + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_world_summary(lab: Any) -> None:
    status, world = _call(lab, "GET", "")
    assert status == 200
    assert world["clock"]["time_scale"] == 20.0
    assert set(world["pve"]["nodes"]) == set(lab.info["proxmox"]["nodes"])
    assert world["pve"]["templates"] == 3
    assert set(world["clusters"]) == {"host", "dev", "prod"}
    assert world["clusters"]["host"]["kind"] == "host" and world["clusters"]["host"]["objects"]["nodes"] >= 3
    assert (
        world["workspaces"]["prod"]["plan"] == "dedicated" and world["workspaces"]["dev"]["plan"] == "shared"
    )
    assert world["urls"]["k3s"] == lab.info["k3s"]["url"]


def test_faults_crud_and_effect(lab: Any) -> None:
    status, added = _call(
        lab, "POST", "/faults", {"faults": ["metrics:GET:/metrics-never$:error=503", {"api": "pve", "path": "/nowhere$",
                                                                                       "latency": 0.1}]}
    )  # fmt: skip
    assert status == 201 and len(added["faults"]) == 2
    ids = [r["id"] for r in added["faults"]]
    assert added["faults"][0]["error"] == 503 and added["faults"][1]["latency"] == 0.1
    status, one = _call(lab, "POST", "/faults", {"spec": "metrics:GET:/$:error=500:count=1"})
    assert status == 201
    ids.append(one["faults"][0]["id"])
    # the rule applies to the metrics server's index page exactly once
    base = lab.info["metrics_url"].rsplit("/", 1)[0]
    try:
        urllib.request.urlopen(base + "/", timeout=30)
        raise AssertionError("expected the injected 500")
    except urllib.error.HTTPError as exc:
        assert exc.code == 500
    with urllib.request.urlopen(base + "/", timeout=30) as resp:
        assert resp.status == 200
    status, listed = _call(lab, "GET", "/faults")
    mine = {r["id"]: r for r in listed["faults"] if r["id"] in ids}
    assert set(mine) == set(ids) and mine[ids[2]]["fired"] == 1
    for rule_id in ids:
        assert _call(lab, "DELETE", f"/faults/{rule_id}") == (200, {"removed": 1})
    assert _call(lab, "DELETE", f"/faults/{ids[0]}")[0] == 404


def test_request_counts(lab: Any) -> None:
    status, before = _call(lab, "GET", "/requests?api=metrics")
    assert status == 200
    urllib.request.urlopen(lab.info["metrics_url"], timeout=30).read()
    status, after = _call(lab, "GET", f"/requests?api=metrics&since={before['last_seq']}&records=5")
    assert status == 200 and after["count"] == 1 and after["mutating"] == 0
    assert after["records"][0]["path"] == "/metrics" and after["records"][0]["status"] == 200
    status, kube = _call(lab, "GET", "/requests?api=kube:*&mutating=false")
    assert status == 200 and kube["mutating"] == 0 and set(kube["by_method"]) <= {"GET", "HEAD", "OPTIONS"}
    status, _ = _call(lab, "GET", "/requests?mutating=maybe")
    assert status == 400


def test_clock_advance_and_bad_input(lab: Any) -> None:
    before = lab.world.clock.now()
    status, body = _call(lab, "POST", "/clock/advance", {"seconds": 1})
    assert status == 200 and body["now"] >= before + 1
    assert _call(lab, "POST", "/clock/advance", {"seconds": -5})[0] == 400
    assert _call(lab, "POST", "/clock/advance", {"minutes": 5})[0] == 400
    status, err = _call(lab, "POST", "/faults", raw=b"{not json")
    assert status == 400 and "invalid JSON" in err["error"]
    status, err = _call(lab, "POST", "/faults", {"spec": "pve:error=418"})
    assert status == 400 and "error must be one of" in err["error"]
    status, err = _call(lab, "POST", "/faults", {"api": "pve", "error": 500, "colour": "red"})
    assert status == 400 and "colour" in err["error"]
    assert _call(lab, "DELETE", "/faults/abc")[0] == 400
