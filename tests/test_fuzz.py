"""Arbitrary JSON configs and regularizer dicts: findings or the package's own error, nothing else."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from regaudit.audit import audit_source
from regaudit.errors import RegauditError
from regaudit.render import render
from regaudit.sources.model import LEGACY_H5, ModelSource

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                    st.text(max_size=8))
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=6), children, max_size=4)),
    max_leaves=20,
)
FIELDS = ["kernel_regularizer", "bias_regularizer", "W_regularizer", "b_regularizer",
          "activity_regularizer", "depthwise_regularizer", "gamma_regularizer", "x_regularizer"]
regularizer_dicts = st.one_of(
    json_values,
    st.fixed_dictionaries({"class_name": st.sampled_from(["L1L2", "L1", "L2", "function", "X"]),
                           "config": json_values},
                          optional={"module": json_values, "registered_name": json_values,
                                    "l1": json_values, "l2": json_values}),
)
layers = st.fixed_dictionaries({
    "class_name": st.one_of(st.sampled_from(["Dense", "LSTM", "Bidirectional", "TimeDistributed",
                                             "Sequential", "BatchNormalization", "GRU",
                                             "ActivityRegularization", "DepthwiseConv2D"]),
                            json_values),
    "config": st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS + ["name", "layer",
                                                                               "layers", "cell"]),
                                                     regularizer_dicts, max_size=5)),
})
configs = st.one_of(
    json_values,
    st.fixed_dictionaries({"class_name": st.sampled_from(["Sequential", "Functional", "Model", "X"]),
                           "config": st.one_of(json_values,
                                               st.fixed_dictionaries({"layers": st.lists(layers, max_size=5)}),
                                               st.lists(layers, max_size=5))}),
)


def _audit(config: object, training: object, version: object) -> None:
    source = ModelSource("fuzz.h5", LEGACY_H5, version, None,
                         config if isinstance(config, dict) else {"config": config},
                         training if isinstance(training, dict) else None)
    try:
        report = audit_source(source).to_dict()
    except RegauditError:
        return
    assert_plain(report)  # JSON's own types all the way down: what every renderer reads
    assert json.loads(render(report, "json"))["summary"] == report["summary"]


def assert_plain(value: object, where: str = "report") -> None:
    """Dicts with string keys, lists, strings (a StrEnum is one), numbers, booleans and None
    only: no dataclass, set, tuple or bytes that json.dumps would refuse or a renderer would
    misread."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), f"{where}: key {key!r}"
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_plain(item, f"{where}[{i}]")
    else:
        assert value is None or isinstance(value, str | int | float), f"{where}: {value!r}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs, json_values, st.one_of(st.none(), st.sampled_from(["1.2.2", "2.3.1", "3.0.1", "x"])))
# Found by this test: a wrapped layer whose config is not an object.
@example({"class_name": "Sequential", "config": {"layers": [{"class_name": "TimeDistributed",
          "config": {"layer": {"class_name": "L1L2", "config": 1}}}]}}, {}, None)
def test_arbitrary_configs_give_findings_or_our_error(config, training, version) -> None:
    _audit(config, training, version)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), regularizer_dicts, st.sampled_from(["Dense", "LSTM", "BatchNormalization", "DepthwiseConv2D"]))
def test_arbitrary_regularizers(field, reg, cls) -> None:
    _audit({"class_name": "Sequential", "config": {"layers": [{"class_name": cls, "config": {field: reg}}]}},
           {"optimizer_config": reg}, "2.3.1")
