"""The three patch types of the lab's Kubernetes API."""

from __future__ import annotations

import pytest

from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.patch import apply_patch, json_patch, merge_patch, strategic_merge_patch

POD = {
    "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}},
    "spec": {
        "containers": [
            {
                "name": "app",
                "image": "app:1",
                "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
                "ports": [{"containerPort": 80}],
                "volumeMounts": [{"name": "data", "mountPath": "/data"}],
            },
            {"name": "side", "image": "side:1"},
        ],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "finalizers": ["a"],
    },
}


def test_merge_patch_rfc7386() -> None:
    out = merge_patch(
        POD, {"metadata": {"labels": {"a": None, "c": "3"}}, "spec": {"containers": [{"name": "x"}]}}
    )
    assert out["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert out["spec"]["containers"] == [{"name": "x"}]  # lists replace wholesale
    assert POD["metadata"]["labels"] == {"a": "1", "b": "2"}  # input untouched


def test_strategic_merges_lists_by_merge_key() -> None:
    patch = {
        "spec": {
            "containers": [
                {
                    "name": "app",
                    "image": "app:2",
                    "env": [{"name": "Y", "value": "two"}, {"name": "Z", "value": "3"}],
                }
            ]
        }
    }
    out = strategic_merge_patch(POD, patch)
    app, side = out["spec"]["containers"]
    assert (app["image"], side["image"]) == ("app:2", "side:1")
    assert app["env"] == [
        {"name": "X", "value": "1"},
        {"name": "Y", "value": "two"},
        {"name": "Z", "value": "3"},
    ]
    assert app["ports"] == [{"containerPort": 80}]


def test_strategic_patch_directives() -> None:
    out = strategic_merge_patch(
        POD,
        {
            "spec": {
                "containers": [{"name": "side", "$patch": "delete"}],
                "$setElementOrder/containers": [{"name": "app"}],
            }
        },
    )
    assert [c["name"] for c in out["spec"]["containers"]] == ["app"]
    out = strategic_merge_patch(
        POD, {"spec": {"volumes": [{"name": "new", "emptyDir": {}}, {"$patch": "replace"}]}}
    )
    assert out["spec"]["volumes"] == [{"name": "new", "emptyDir": {}}]
    out = strategic_merge_patch(POD, {"spec": {"finalizers": ["b"]}})
    assert out["spec"]["finalizers"] == ["a", "b"]
    out = strategic_merge_patch(POD, {"spec": {"$deleteFromPrimitiveList/finalizers": ["a"]}})
    assert out["spec"]["finalizers"] == []
    out = strategic_merge_patch(
        POD,
        {
            "spec": {
                "containers": [{"name": "app", "volumeMounts": [{"mountPath": "/data", "readOnly": True}]}]
            }
        },
    )
    assert out["spec"]["containers"][0]["volumeMounts"] == [
        {"name": "data", "mountPath": "/data", "readOnly": True}
    ]


def test_json_patch_rfc6902() -> None:
    ops = [
        {"op": "add", "path": "/metadata/labels/c~1d", "value": "x"},
        {"op": "replace", "path": "/spec/containers/0/image", "value": "app:3"},
        {"op": "remove", "path": "/spec/containers/1"},
        {"op": "add", "path": "/spec/volumes/-", "value": {"name": "v2"}},
        {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/copied"},
        {"op": "move", "from": "/metadata/labels/b", "path": "/metadata/labels/moved"},
        {"op": "test", "path": "/metadata/name", "value": "p"},
    ]
    out = json_patch(POD, ops)
    assert out["metadata"]["labels"] == {"a": "1", "c/d": "x", "copied": "1", "moved": "2"}
    assert [c["image"] for c in out["spec"]["containers"]] == ["app:3"]
    assert out["spec"]["volumes"][-1] == {"name": "v2"}


@pytest.mark.parametrize(
    "ops",
    [
        [{"op": "test", "path": "/metadata/name", "value": "other"}],
        [{"op": "replace", "path": "/metadata/missing/deep", "value": 1}],
        [{"op": "remove", "path": "/spec/containers/9"}],
    ],
)
def test_json_patch_failures_are_invalid(ops: list[dict[str, object]]) -> None:
    with pytest.raises(ApiError) as info:
        json_patch(POD, ops)
    assert info.value.code == 422


def test_unknown_patch_type_and_non_object_result() -> None:
    with pytest.raises(ApiError) as info:
        apply_patch(POD, {}, "apply")
    assert info.value.code == 415
    with pytest.raises(ApiError) as info:
        apply_patch(POD, [{"op": "replace", "path": "", "value": 3}], "json")
    assert info.value.code == 400
