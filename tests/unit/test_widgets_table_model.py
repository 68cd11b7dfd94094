"""TableModel: keyed replace, stable sort with numeric/quantity keys, filter (incl. narrowing), widths."""

from __future__ import annotations

import pytest

from hks_tui.widgets.table_cells import column_sort_keys
from hks_tui.widgets.table_model import Column, Row, TableModel, default_format, natural_sort_key

COLUMNS = [
    Column("name", "Name"),
    Column("status", "Status"),
    Column("size", "Size", align="right"),
    Column("note", "Note", optional=True, visible=False),
]


def model_with(rows: list[tuple[str, str, object, str]]) -> TableModel:
    model = TableModel(columns=list(COLUMNS))
    model.replace(Row(r[0], r) for r in rows)
    return model


def test_natural_sort_key_orders_quantities_numerically() -> None:
    values = ["2Gi", "512Mi", "1.5Ti", "100", "250m", "abc", None, "", 3, "Bob"]
    ordered = sorted(values, key=natural_sort_key)
    assert ordered[:6] == ["250m", 3, "100", "512Mi", "2Gi", "1.5Ti"]
    assert ordered[6:8] == ["abc", "Bob"]
    assert set(ordered[8:]) == {None, ""}


def test_default_format() -> None:
    assert default_format(None) == ""
    assert default_format(12) == "12"
    assert default_format("a\nb") == "a …"


def test_replace_is_keyed_and_counts() -> None:
    model = model_with([("a", "Running", 1, ""), ("b", "Running", 2, ""), ("c", "Pending", 3, "")])
    added, removed = model.replace(
        [
            Row("b", ("b", "Failed", 2, "")),
            Row("d", ("d", "Running", 4, "")),
            Row("a", ("a", "Running", 1, "")),
        ]
    )
    assert (added, removed) == (1, 1)
    assert model.view == ["b", "d", "a"]
    assert model.values["b"][1] == "Failed"


def test_rows_from_mappings_and_styles() -> None:
    model = TableModel(columns=list(COLUMNS))
    model.replace([Row("x", {"name": "x", "size": "1Gi"}, styles={"status": "bold red"})])
    assert model.values["x"] == ("x", None, "1Gi", None)
    assert model.styles["x"] == (None, "bold red", None, None)
    with pytest.raises(ValueError):
        model.upsert(Row("y", ("too", "short")))


def test_sort_is_stable_and_numeric() -> None:
    model = model_with(
        [
            ("a", "Running", "2Gi", ""),
            ("b", "Pending", "512Mi", ""),
            ("c", "Running", "10Gi", ""),
            ("d", "Pending", "1Gi", ""),
        ]
    )
    model.set_sort("size")
    assert model.view == ["b", "d", "a", "c"]
    model.set_sort("size", reverse=True)
    assert model.view == ["c", "a", "d", "b"]
    model.set_sort("status")
    assert model.view == ["b", "d", "a", "c"]  # ties keep insertion order
    model.set_sort("status", reverse=True)
    assert model.view == ["a", "c", "b", "d"]  # reverse keeps ties stable too
    model.set_sort(None)
    assert model.view == ["a", "b", "c", "d"]


def test_integer_column_sorts_numerically() -> None:
    model = model_with([("a", "", 10, ""), ("b", "", 9, ""), ("c", "", 100, "")])
    model.set_sort("size")
    assert model.view == ["b", "a", "c"]


def test_filter_case_insensitive_over_visible_columns_only() -> None:
    model = model_with(
        [("web-1", "Running", 1, "secret"), ("db-1", "RUNNING", 2, ""), ("web-2", "Pending", 3, "")]
    )
    model.set_filter("running")
    assert model.view == ["web-1", "db-1"]
    model.set_filter("secret")
    assert model.view == []  # the hidden "note" column is not searched
    model.set_column_visible("note", True)
    assert model.view == ["web-1"]


def test_filter_narrowing_matches_full_recompute() -> None:
    rows = [(f"pod-{i}", "Running" if i % 3 else "Pending", i, "") for i in range(300)]
    model = model_with(rows)
    model.set_sort("size", reverse=True)
    for text in ("p", "po", "pod-1", "pod-12"):
        model.set_filter(text)
        narrowed = list(model.view)
        fresh = model_with(rows)
        fresh.set_sort("size", reverse=True)
        fresh.set_filter(text)
        assert narrowed == fresh.view, text


def test_upsert_and_remove_keep_filter_index_consistent() -> None:
    model = model_with([("a", "Running", 1, ""), ("b", "Pending", 2, ""), ("c", "Running", 3, "")])
    model.set_filter("pend")
    assert model.view == ["b"]
    model.upsert(Row("a", ("a", "Pending", 1, "")))
    model.upsert(Row("z", ("z", "Pending", 9, "")))
    assert model.view == ["a", "b", "z"]
    model.upsert(Row("b", ("b", "Running", 2, "")))
    assert model.view == ["a", "z"]
    model.remove("a")
    assert model.view == ["z"]
    assert model.versions["b"] == 1
    assert model.upsert(Row("z", ("z", "Pending", 9, ""))) is False


def test_auto_widths_clamp_and_fixed() -> None:
    columns = [
        Column("name", "N", max_width=10),
        Column("size", "Size", width=6),
        Column("x", "X", min_width=5),
    ]
    model = TableModel(columns=columns)
    model.replace([Row("a", ("a" * 30, 1, "é")), Row("b", ("b", 2, "日本"))])
    assert model.auto_widths() == {"name": 10, "size": 6, "x": 5}
    model.replace([])
    assert model.auto_widths()["name"] == 3  # header plus room for the sort arrow


@pytest.mark.parametrize(
    "column",
    [
        [3, 1.5, 2],
        ["b", "A", "c", "a"],
        ["2Gi", "512Mi", "1.5Ti", "250m", "7"],
        ["x", "2Gi", "", None, 3, "Bob"],
        ["10", "9", "word"],
    ],
)
def test_column_sort_keys_order_like_natural_sort_key(column: list[object]) -> None:
    fast = column_sort_keys(column)
    by_fast = sorted(range(len(column)), key=lambda i: fast[i])
    by_natural = sorted(range(len(column)), key=lambda i: natural_sort_key(column[i]))
    assert by_fast == by_natural
