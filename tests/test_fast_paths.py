"""The speed-ups must not change a byte: renderings joined (the CLI renders each file as it goes)
against one pass of the JSON and CSV writers, and the lazy weight tables against an eager walk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regaudit.audit import audit_path
from regaudit.render import join, render
from regaudit.render.csv_render import render_csv_many
from regaudit.render.json_render import render_json, sanitize
from regaudit.sources import read_model
from regaudit.sources.keras_h5 import LegacyWeights, V3Weights, v3_weights

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".h5", ".keras"))


def reference_json(value: object) -> str:
    """json.dumps of the whole value in one pass, as render_json writes one report."""
    return json.dumps(sanitize(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.fixture(scope="module")
def reports() -> list[dict]:
    return [audit_path(str(p), display_name=p.name).to_dict() for p in FILES]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), max_size=4))
def test_json_join_is_json_dumps_for_arbitrary_reports(values: list[dict]) -> None:
    """Strings with newlines, NaN, deep nesting: joining stays what json.dumps of the list is."""
    expected = reference_json(values[0]) if len(values) == 1 else reference_json(values)
    assert join([render_json(v) for v in values], "json") == expected


def test_csv_join_of_single_renderings_is_one_csv_writer_pass(reports: list[dict]) -> None:
    for chosen in ([], reports[:1], reports[:2], reports[5:17], reports):
        assert join([render(r, "csv") for r in chosen], "csv") == render_csv_many(chosen)


def test_json_join_of_single_renderings_is_json_dumps(reports: list[dict]) -> None:
    for chosen in (reports[:2], reports[5:17], reports):
        assert join([render(r, "json") for r in chosen], "json") == reference_json(chosen)
    assert join([render(reports[0], "json")], "json") == reference_json(reports[0])
    assert join([], "json") == reference_json([])


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_lazy_weight_tables_agree_with_an_eager_walk(path: Path) -> None:
    with read_model(str(path)) as source:
        weights = source.weights
        if not isinstance(weights, (LegacyWeights, V3Weights)):
            pytest.skip("no HDF5 weights in this file")
        everything = dict(weights.items())
        # Asking before and after the full walk gives the same tensors, in the same order.
        fresh = type(weights)(weights._group)
        assert bool(fresh) == bool(everything)
        if isinstance(weights, LegacyWeights):
            tops = {key.split("/", 1)[0] for key in everything}
            for top in tops:
                lazy = LegacyWeights(weights._group).under(top)
                assert list(lazy) == [k for k in everything if k.startswith(f"{top}/")]
                assert list(weights.under(top)) == list(lazy)
        else:
            assert list(everything) == list(v3_weights(weights._group))
            for key in everything:
                lazy = V3Weights(weights._group)
                assert key in lazy and lazy[key].path == key
                assert lazy[key].stats() == everything[key].stats()
            missing = V3Weights(weights._group)
            for key in ("nope/0", "vars/0", "../0", "", "layers//0"):
                assert key not in missing
                with pytest.raises(KeyError):
                    missing[key]
