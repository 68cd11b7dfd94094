"""Label and field selectors as the apiserver parses them."""

from __future__ import annotations

import pytest

from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.selectors import labels_match, parse_field_selector, parse_label_selector

LABELS = {"app": "web", "tier": "front", "env": "prod"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("env in (prod, staging)", True),
        ("env notin (prod)", False),
        ("env in (dev),app=web", False),
        ("tier", True),
        ("!tier", False),
        ("!missing", True),
        ("app=web,tier=front,env", True),
        ("", True),
    ],
)
def test_label_selector_operators(selector: str, expected: bool) -> None:
    assert labels_match(selector, LABELS) is expected


def test_label_selector_objects() -> None:
    sel = {
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod"]},
            {"key": "gone", "operator": "DoesNotExist"},
        ],
    }
    assert labels_match(sel, LABELS)
    assert not labels_match(
        {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["front"]}]}, LABELS
    )
    assert labels_match({"app": "web"}, LABELS)


@pytest.mark.parametrize("bad", ["app=we b", "a b c", "app in (x", "-bad=1", "x=,", "app=" + "v" * 64])
def test_label_selector_syntax_errors_are_400(bad: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_label_selector(bad)
    assert info.value.code == 400 and info.value.reason == "BadRequest"


def test_field_selectors() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running"},
    }
    assert parse_field_selector("pods", "spec.nodeName=n1,status.phase!=Failed")(pod)
    assert not parse_field_selector("pods", "metadata.name==q")(pod)
    assert parse_field_selector("pods", "metadata.namespace=ns")(pod)
    assert parse_field_selector("pods", "spec.nodeName=")({"metadata": {"name": "x"}})
    event = {"metadata": {"name": "e"}, "involvedObject": {"kind": "Pod", "name": "p", "uid": "u"}}
    assert parse_field_selector("events", "involvedObject.name=p,involvedObject.kind=Pod")(event)
    with pytest.raises(ApiError) as info:
        parse_field_selector("configmaps", "spec.nodeName=n1")
    assert info.value.code == 400
    assert "field label not supported: spec.nodeName" in info.value.message
