"""The speed-ups must not change a byte: the JSON encoder against json.dumps, the CLI's join of
single renderings against render_many, and the lazy weight tables against an eager walk."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from regaudit.audit import audit_path
from regaudit.render import FORMATS, MANY, join, render
from regaudit.render.json_render import render_json, sanitize
from regaudit.sources import read_model
from regaudit.sources.keras_h5 import LegacyWeights, V3Weights, v3_weights

FIXTURES = Path(__file__).parent / "fixtures"
FILES = sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".h5", ".keras"))


def reference_json(value: object) -> str:
    """What render_json gave before it had its own encoder."""
    return json.dumps(sanitize(value), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@pytest.fixture(scope="module")
def reports() -> list[dict]:
    return [audit_path(str(p), display_name=p.name).to_dict() for p in FILES]


def test_json_encoder_matches_json_dumps_on_every_fixture(reports: list[dict]) -> None:
    assert len(reports) >= 60
    for report in reports:
        assert render_json(report) == reference_json(report)


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
@given(json_values)
def test_json_encoder_matches_json_dumps_on_arbitrary_values(value: object) -> None:
    assert render_json({"v": value}) == reference_json({"v": value})


def test_json_encoder_falls_back_for_what_it_does_not_know() -> None:
    odd = {"keys": {1: "int key"}, "deep": [[[[["x"]]]]], "nan": math.nan}
    assert render_json(odd) == reference_json(odd)


@pytest.mark.parametrize("fmt", FORMATS)
def test_join_of_single_renderings_is_render_many(reports: list[dict], fmt: str) -> None:
    for chosen in (reports[:1], reports[:2], reports[5:17], reports):
        assert join([render(r, fmt) for r in chosen], fmt) == MANY[fmt](chosen)
    assert join([], fmt) == MANY[fmt]([])


def test_json_array_of_several_reports_is_json_dumps_of_the_list(reports: list[dict]) -> None:
    assert join([render(r, "json") for r in reports], "json") == reference_json(reports)


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
                assert lazy[key].shape == everything[key].shape
            missing = V3Weights(weights._group)
            for key in ("nope/0", "vars/0", "../0", "", "layers//0"):
                assert key not in missing
                with pytest.raises(KeyError):
                    missing[key]
