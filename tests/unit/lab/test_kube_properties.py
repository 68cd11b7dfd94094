"""Property tests for the selector and patch engines behind the lab's Kubernetes API."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hks_tui.lab.kube.patch import json_patch, merge_patch, strategic_merge_patch
from hks_tui.lab.kube.selectors import labels_match, parse_label_selector

_name = st.from_regex(r"[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?", fullmatch=True)
_key = st.one_of(_name, st.builds(lambda p, n: f"{p}.io/{n}", _name, _name))
labels_st = st.dictionaries(_key, _name, max_size=6)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text("abc", max_size=3))
json_obj = st.recursive(
    st.dictionaries(st.text("xyz", min_size=1, max_size=2), json_leaf, max_size=3),
    lambda inner: st.dictionaries(
        st.text("xyz", min_size=1, max_size=2), st.one_of(json_leaf, inner), max_size=3
    ),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(labels_st, st.data())
def test_selectors_built_from_labels_match_them(labels: dict[str, str], data: st.DataObject) -> None:
    if not labels:
        assert labels_match("", labels)
        return
    chosen = data.draw(st.lists(st.sampled_from(sorted(labels)), min_size=1, unique=True))
    equality = ",".join(f"{k}={labels[k]}" for k in chosen)
    assert labels_match(equality, labels)
    assert labels_match(",".join(f"{k} in ({labels[k]},zz-other)" for k in chosen), labels)
    assert labels_match(",".join(chosen), labels)  # existence
    assert not labels_match(",".join(f"!{k}" for k in chosen), labels)
    assert not labels_match(",".join(f"{k}!={labels[k]}" for k in chosen), labels)
    assert len(parse_label_selector(equality)) == len(chosen)


@settings(max_examples=60, deadline=None)
@given(json_obj, json_obj)
def test_merge_patch_is_idempotent_and_sets_every_patched_value(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    once = merge_patch(target, patch)
    assert merge_patch(once, patch) == once
    for key, value in patch.items():
        if value is None:
            assert key not in once
        elif not isinstance(value, dict):
            assert once[key] == value


@settings(max_examples=50, deadline=None)
@given(json_obj, json_obj)
def test_strategic_merge_equals_merge_patch_without_lists(
    target: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert strategic_merge_patch(target, patch) == merge_patch(target, patch)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.integers(0, 9)),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c", "e"]), st.integers(0, 9)),
        max_size=5,
        unique_by=lambda t: t[0],
    ),
)
def test_strategic_merge_of_keyed_lists(
    original: list[tuple[str, int]], patch: list[tuple[str, int]]
) -> None:
    target = {"spec": {"containers": [{"name": n, "v": v, "keep": True} for n, v in original]}}
    patched = strategic_merge_patch(target, {"spec": {"containers": [{"name": n, "v": v} for n, v in patch]}})
    merged = {c["name"]: c for c in patched["spec"]["containers"]}
    assert set(merged) == {n for n, _ in original} | {n for n, _ in patch}
    for n, v in patch:
        assert merged[n]["v"] == v
    for n, _ in original:
        assert merged[n]["keep"] is True  # fields the patch does not mention survive
    assert [c["name"] for c in patched["spec"]["containers"]][: len(original)] == [n for n, _ in original]


@settings(max_examples=50, deadline=None)
@given(json_obj, st.text("pq", min_size=1, max_size=3), json_leaf)
def test_json_patch_add_then_remove_restores(target: dict[str, Any], key: str, value: Any) -> None:
    if key in target:
        return
    added = json_patch(target, [{"op": "add", "path": f"/{key}", "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": f"/{key}"}]) == target
