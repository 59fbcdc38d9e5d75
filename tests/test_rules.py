"""Each regularizer form x target x mode against shared/spec/dl4j-import-rules.md (§3, §5, §7)."""

from __future__ import annotations

from typing import Any

import pytest

from regaudit.audit import audit_source
from regaudit.coeffs import shortest
from regaudit.report import Report
from regaudit.sources.model import JSON_CONFIG, LEGACY_H5, ModelSource

K1_L2 = {"l1": 0.0, "l2": 0.009999999776482582, "name": "WeightRegularizer"}
K1_L1 = {"name": "L1L2Regularizer", "l1": 0.01, "l2": 0.0}
K1_ZERO = {"l1": 0.0, "l2": 0.0, "name": "WeightRegularizer"}
K1_CUSTOM = {"name": "ScaledL2", "factor": 0.05}
L1L2_L2 = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}
L1L2_L1 = {"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.0}}
L1L2_ZERO = {"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.0}}
L2 = {"class_name": "L2", "config": {"l2": 0.01}}
L1 = {"class_name": "L1", "config": {"l1": 0.01}}
NEW = {"module": "keras.regularizers", "registered_name": None}
NEW_L2 = {**NEW, "class_name": "L2", "config": {"l2": 0.01}}
NEW_L2_ZERO = {**NEW, "class_name": "L2", "config": {"l2": 0.0}}
NEW_L1L2_L2 = {**NEW, "class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}
NEW_L1L2_L1 = {**NEW, "class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.0}}
FN_STRING = "sum_sq_reg"
FN_K3 = {"module": "builtins", "class_name": "function", "config": "pkg>f", "registered_name": "function"}
CUSTOM = {"class_name": "ScaledL2", "config": {"factor": 0.05}}
ORTHO = {"class_name": "OrthogonalRegularizer", "config": {"factor": 0.01, "mode": "rows"}}
ORTHO_ZERO = {"class_name": "OrthogonalRegularizer", "config": {"factor": 0.0, "mode": "rows"}}


def layer(cls: str, name: str = "layer_a", **config: Any) -> dict:
    return {"class_name": cls, "config": {"name": name, **config}}


def audit(layers: list[dict], version: str | None = "2.2.4", fmt: str = LEGACY_H5,
          training: dict | None = None, root: str = "Sequential") -> Report:
    source = ModelSource(
        file_name="unit.h5",
        format=fmt,
        keras_version=version,
        backend="tensorflow",
        model_config={"class_name": root, "config": {"name": "m", "layers": layers}},
        training_config=training,
        root_attributes=frozenset({"keras_version", "backend"} if version else {"backend"}),
    )
    return audit_source(source)


def outcomes(report: Report, target: str | None = None) -> list[tuple[str, str]]:
    return [(f.outcome, f.outcome_lenient) for f in report.findings
            if target is None or f.target == target]


KERNEL_CASES = [
    ("K1 l2", K1_L2, "altered", "altered"),
    ("K1 l1", K1_L1, "applied", "applied"),
    ("K1 zero", K1_ZERO, "noop", "noop"),
    ("K1 custom keys", K1_CUSTOM, "error", "warned"),
    ("L1L2 l2", L1L2_L2, "altered", "altered"),
    ("L1L2 l1", L1L2_L1, "applied", "applied"),
    ("L1L2 zero", L1L2_ZERO, "noop", "noop"),
    ("L2 class", L2, "dropped", "dropped"),
    ("L1 class", L1, "dropped", "dropped"),
    ("NEW L2", NEW_L2, "error", "warned"),
    ("NEW L2 zero", NEW_L2_ZERO, "error", "noop"),
    ("NEW L1L2 l2", NEW_L1L2_L2, "error", "altered"),
    ("NEW L1L2 l1", NEW_L1L2_L1, "error", "applied"),
    ("FN string", FN_STRING, "error", "error"),
    ("FN Keras 3", FN_K3, "error", "warned"),
    ("custom", CUSTOM, "dropped", "dropped"),
    ("orthogonal", ORTHO, "dropped", "dropped"),
    ("orthogonal zero", ORTHO_ZERO, "noop", "noop"),
]


@pytest.mark.parametrize(("label", "reg", "strict", "lenient"), KERNEL_CASES,
                         ids=[c[0] for c in KERNEL_CASES])
def test_dense_kernel(label: str, reg: Any, strict: str, lenient: str) -> None:
    field = "W_regularizer" if label.startswith("K1") else "kernel_regularizer"
    report = audit([layer("Dense", units=2, **{field: reg})])
    assert outcomes(report, "kernel") == [(strict, lenient)]


BIAS_CASES = [
    ("K1 l2", K1_L2, "error", "error"),
    ("K1 zero", K1_ZERO, "error", "error"),
    ("L1L2", L1L2_L1, "dropped", "dropped"),
    ("L1L2 zero", L1L2_ZERO, "noop", "noop"),
    ("L2 class", L2, "dropped", "dropped"),
    ("NEW L2", NEW_L2, "error", "warned"),
    ("NEW L1L2", NEW_L1L2_L1, "error", "warned"),
    ("FN string", FN_STRING, "error", "error"),
    ("FN Keras 3", FN_K3, "error", "warned"),
    ("custom", CUSTOM, "dropped", "dropped"),
]


@pytest.mark.parametrize(("label", "reg", "strict", "lenient"), BIAS_CASES,
                         ids=[c[0] for c in BIAS_CASES])
def test_dense_bias(label: str, reg: Any, strict: str, lenient: str) -> None:
    field = "b_regularizer" if label.startswith("K1") else "bias_regularizer"
    report = audit([layer("Dense", units=2, **{field: reg})])
    assert outcomes(report, "bias") == [(strict, lenient)]


@pytest.mark.parametrize("reg", [L1L2_L2, L2, NEW_L2, FN_STRING, FN_K3, CUSTOM])
def test_activity_regularizer_never_read(reg: Any) -> None:
    report = audit([layer("Dense", units=2, activity_regularizer=reg)])
    assert outcomes(report, "activity") == [("dropped", "dropped")]
    assert report.findings[0].recommended.startswith("no DL4J equivalent")


def test_zero_activity_is_noop() -> None:
    assert outcomes(audit([layer("Dense", activity_regularizer=L1L2_ZERO)])) == [("noop", "noop")]


@pytest.mark.parametrize(("cls", "field", "target"), [
    ("LSTM", "recurrent_regularizer", "recurrent"),
    ("SimpleRNN", "U_regularizer", "recurrent"),
    ("SeparableConv2D", "pointwise_regularizer", "pointwise"),
    ("Embedding", "embeddings_regularizer", "embeddings"),
    ("PReLU", "alpha_regularizer", "alpha"),
])
def test_never_read_fields_drop(cls: str, field: str, target: str) -> None:
    report = audit([layer(cls, **{field: L1L2_L1})])
    assert outcomes(report, target) == [("dropped", "dropped")]
    assert "NEVER_READ" in report.findings[0].codes


@pytest.mark.parametrize(("cls", "reg", "strict", "lenient"), [
    ("LSTM", L1L2_L1, "altered", "altered"),  # also regularizes the recurrent weights
    ("SimpleRNN", L1L2_L1, "altered", "altered"),
    ("Conv2D", L1L2_L1, "applied", "applied"),
    ("Conv2DTranspose", L1L2_L2, "altered", "altered"),
])
def test_kernel_on_other_layers(cls: str, reg: Any, strict: str, lenient: str) -> None:
    assert outcomes(audit([layer(cls, kernel_regularizer=reg)])) == [(strict, lenient)]


@pytest.mark.parametrize(("cls", "reg", "strict", "lenient"), [
    ("DepthwiseConv2D", L1L2_L1, "applied", "applied"),
    ("DepthwiseConv2D", NEW_L1L2_L1, "applied", "applied"),  # no unknown-field check here
    ("DepthwiseConv2D", L2, "dropped", "dropped"),
    ("DepthwiseConv2D", FN_STRING, "error", "error"),
    ("DepthwiseConv2D", FN_K3, "dropped", "dropped"),
    ("SeparableConv2D", L1L2_L1, "altered", "altered"),  # also covers the pointwise weights
    ("SeparableConv1D", L1L2_L1, "error", "error"),  # layer class unknown to the importer
])
def test_depthwise(cls: str, reg: Any, strict: str, lenient: str) -> None:
    # Functional, after a Conv2D: where DL4J can find a DepthwiseConv2D's input channels.
    conv = {**layer("Conv2D", "conv"), "inbound_nodes": [[["in", 0, 0, {}]]]}
    dw = {**layer(cls, depthwise_regularizer=reg), "inbound_nodes": [[["conv", 0, 0, {}]]]}
    report = audit([layer("InputLayer", "in"), conv, dw], root="Model")
    assert outcomes(report) == [(strict, lenient)]


@pytest.mark.parametrize(("root", "chain", "fails"), [
    ("Sequential", ["Conv2D"], True),  # layers are linked only after they are built
    ("Model", [], True),  # the walk reaches the model's input
    ("Model", ["BatchNormalization", "Activation"], True),
    ("Model", ["Conv2D", "BatchNormalization", "Activation"], False),
    ("Model", ["Dense"], False),
])
def test_depthwise_input_channels(root: str, chain: list[str], fails: bool) -> None:
    entries, previous = [layer("InputLayer", "in")], "in"
    for i, cls in enumerate([*chain, "DepthwiseConv2D"]):
        name = f"l{i}"
        init = {"depthwise_initializer": "glorot_uniform"} if cls == "DepthwiseConv2D" else {}
        entries.append({**layer(cls, name, **init), "inbound_nodes": [[[previous, 0, 0, {}]]]})
        previous = name
    codes = [b.code for b in audit(entries, root=root).blocking]
    assert codes == (["INPUT_CHANNELS_UNKNOWN"] if fails else [])


def test_batchnorm_gamma_beta() -> None:
    report = audit([layer("BatchNormalization", gamma_regularizer=L1L2_L2,
                          beta_regularizer=L1L2_ZERO)])
    assert outcomes(report, "gamma") == [("error", "warned")]
    assert outcomes(report, "beta") == [("error", "noop")]


def test_unknown_layers_are_errors_in_both_modes() -> None:
    report = audit([layer("GRU", kernel_regularizer=L1L2_L1),
                    layer("LayerNormalization", "ln", gamma_regularizer=L1L2_L1)])
    assert outcomes(report) == [("error", "error"), ("error", "error")]
    assert {b.code for b in report.blocking} == {"UNSUPPORTED_LAYER"}
    assert report.verdict()["importable_lenient"] is False


def test_activity_regularization_layer_is_one_error_even_when_zero() -> None:
    report = audit([layer("ActivityRegularization", l1=0.0, l2=0.0)])
    assert [(f.target, f.layer_class) for f in report.findings] == [
        ("activity", "ActivityRegularization")]
    assert outcomes(report) == [("error", "error")]


def test_nested_model_regularizers_error() -> None:
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        layer("Dense", "deep", kernel_regularizer=L1L2_L1)]}}
    report = audit([inner, layer("Dense", "outer", kernel_regularizer=L1L2_L1)])
    by_layer = {f.layer: (f.outcome, f.outcome_lenient, f.layer_path) for f in report.findings}
    assert by_layer["deep"] == ("error", "error", ["inner", "deep"])
    assert by_layer["outer"] == ("applied", "applied", ["outer"])
    assert [(b.layer, b.code) for b in report.blocking] == [("inner", "NESTED_MODEL")]


def test_wrappers() -> None:
    report = audit([
        layer("TimeDistributed", "td", layer=layer("Dense", "d", kernel_regularizer=L1L2_L1)),
        layer("Bidirectional", "bi", merge_mode="concat",
              layer=layer("LSTM", "l", kernel_regularizer=L1L2_L1)),
        layer("Bidirectional", "bad_inner", merge_mode="concat",
              layer=layer("GRU", "g", kernel_regularizer=L1L2_L1)),
        layer("Bidirectional", "bad_merge", merge_mode=None,
              layer=layer("LSTM", "l2", kernel_regularizer=L1L2_L1)),
        layer("TimeDistributed", "td2", layer=layer("TimeDistributed", "td3",
                                                    layer=layer("Dense", "d3"))),
    ])
    got = {f.layer: (f.outcome, f.wrapper) for f in report.findings}
    assert got["d"] == ("applied", "TimeDistributed")
    assert got["l"] == ("altered", "Bidirectional")
    assert got["g"][0] == "error" and got["l2"][0] == "error"
    assert {b.layer: b.code for b in report.blocking} == {
        "bad_inner": "BIDIRECTIONAL_INNER", "bad_merge": "BIDIRECTIONAL_MERGE_MODE",
        "td2": "UNSUPPORTED_LAYER"}


def test_keras3_bidirectional_gives_both_directions() -> None:
    fwd = layer("LSTM", "forward_lstm", kernel_regularizer=NEW_L2)
    bwd = layer("LSTM", "backward_lstm", kernel_regularizer=NEW_L2)
    report = audit([layer("Bidirectional", "bi", merge_mode="concat", layer=fwd,
                          backward_layer=bwd)], version="3.1.0")
    assert [f.layer_path for f in report.findings] == [["bi", "forward_lstm"],
                                                       ["bi", "backward_lstm"]]
    assert outcomes(report) == [("error", "error")] * 2
    assert report.blocking[0].code == "KERAS_MAJOR_VERSION"


def test_keras1_embedding_w_regularizer_is_read_as_embeddings() -> None:
    report = audit([layer("Embedding", W_regularizer=K1_L2)], version="1.2.2")
    assert [(f.target, f.outcome) for f in report.findings] == [("embeddings", "altered")]


def test_shared_regularizer_object_gives_one_finding_per_layer() -> None:
    report = audit([layer("Dense", "a", kernel_regularizer=L1L2_L1),
                    layer("Dense", "b", kernel_regularizer=L1L2_L1)])
    assert [f.layer for f in report.findings] == ["a", "b"]


def test_verdict_strict_vs_lenient() -> None:
    report = audit([layer("Dense", kernel_regularizer=NEW_L2)], version="2.15.0")
    verdict = report.verdict()
    assert (verdict["importable_strict"], verdict["importable_lenient"]) == (False, True)
    assert verdict["blocking"][0]["layer"] == "layer_a"
    assert verdict["blocking"][0]["modes"] == ["strict"]


def test_json_without_version_assumes_keras1_and_judges_both_lists() -> None:
    report = audit([layer("Conv2D", kernel_regularizer=L1L2_L1),
                    layer("Convolution2D", "c1", W_regularizer=K1_L1)], version=None,
                   fmt=JSON_CONFIG)
    assert outcomes(report) == [("applied", "applied")] * 2
    assert any(n.code == "KERAS_VERSION_ASSUMED" for n in report.notes)


def test_legacy_h5_without_version_does_not_import() -> None:
    report = audit([layer("Dense", kernel_regularizer=L1L2_L1)], version=None)
    assert report.blocking[0].code == "KERAS_VERSION_MISSING"
    assert outcomes(report) == [("error", "error")]


ADAM_231 = {"learning_rate": 0.001, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.0,
            "epsilon": 1e-07, "amsgrad": False}


@pytest.mark.parametrize(("training", "version", "strict", "lenient"), [
    ({"optimizer_config": {"class_name": "Custom>AdamW", "config": {"weight_decay": 0.004}},
      "loss": "mse"}, "2.15.0", "error", "dropped"),
    ({"optimizer_config": {"class_name": "Adam", "config": {**ADAM_231, "weight_decay": 0.01}},
      "loss": "mse"}, "2.15.0", "dropped", "dropped"),
    ({"optimizer_config": {"class_name": "Adam", "config": ADAM_231}, "loss": "mse"}, "2.3.1",
     "noop", "noop"),
    ({"optimizer": {"class_name": "AdamW", "config": {"weight_decay": 0.004}}}, "3.1.0", "error",
     "error"),
    (None, "2.3.1", "noop", "noop"),
])
def test_weight_decay(training: dict | None, version: str, strict: str, lenient: str) -> None:
    report = audit([layer("Dense")], version=version, training=training)
    assert (report.training.outcome, report.training.outcome_lenient) == (strict, lenient)
    if training and strict != "noop" and "weight_decay" in str(training):
        assert report.training.recommended.startswith(".weightDecay(")


def test_recommended_settings_double_l2() -> None:
    report = audit([layer("Dense", kernel_regularizer=L1L2_L2,
                          bias_regularizer={"class_name": "L1L2",
                                            "config": {"l1": 0.0010000000474974513, "l2": 0.0}})])
    assert [f.recommended for f in report.findings] == [".l2(0.02)", ".l1Bias(0.001)"]
    assert report.findings[0].dl4j_equivalent == "L2Regularization(0.01)"


@pytest.mark.parametrize(("raw", "shown"), [
    (0.009999999776482582, "0.01"), (0.0010000000474974513, "0.001"),
    (9.999999747378752e-05, "0.0001"), (0.021, "0.021"), (0.02199999988079071, "0.022"),
    (0.0, "0"), (5.0, "5"),
])
def test_float32_shortest_display(raw: float, shown: str) -> None:
    assert shortest(raw) == shown


def test_explicit_backward_layer_is_never_read_in_keras2() -> None:
    fwd = layer("LSTM", "fwd", kernel_regularizer=L1L2_L1)
    bwd = layer("LSTM", "bwd", kernel_regularizer=L1L2_L2)
    report = audit([layer("Bidirectional", "bi", merge_mode="sum", layer=fwd, backward_layer=bwd)])
    got = {f.layer: (f.outcome, f.codes[0]) for f in report.findings}
    assert got == {"fwd": ("altered", "IMPORTED"), "bwd": ("dropped", "BACKWARD_LAYER_IGNORED")}


def test_rules_doc_is_current() -> None:
    from pathlib import Path

    from regaudit.rulesdoc import markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "import-rules.md"
    assert doc.read_text() == markdown(), "run: python -m regaudit.rulesdoc > docs/import-rules.md"


def test_rules_page_is_the_same_document_with_anchors() -> None:
    """docs/import-rules.html (bundled into dist/) holds what the .md holds, with the anchors
    GitHub gives the .md's headings, so the page's legend links work on both."""
    import html as html_lib
    import re

    from regaudit.rulesdoc import anchor, html, markdown

    page = html()
    assert page.startswith("<!doctype html>") and "<script" not in page
    headings = re.findall(r"^## (.+)$", markdown(), flags=re.M)
    assert {"Outcomes", "Modes", "Forms", "L2 convention"} <= set(headings)
    ids = re.findall(r'<h2 id="([^"]+)">', page)
    assert ids == [anchor(h) for h in headings]
    assert anchor("L2 convention") == "l2-convention"
    words = html_lib.unescape(re.sub(r"<[^>]+>", "", page))
    for line in markdown().splitlines():  # every paragraph and list item, as text
        if line and line[0] not in "#|":
            assert line.lstrip("- ").replace("`", "") in words, line


def test_report_schema_code_table_is_current() -> None:
    from pathlib import Path

    from regaudit.rulesdoc import with_schema_codes

    doc = Path(__file__).resolve().parents[1] / "docs" / "report-schema.md"
    assert doc.read_text() == with_schema_codes(doc.read_text()), (
        "run: python -m regaudit.rulesdoc --schema docs/report-schema.md")
