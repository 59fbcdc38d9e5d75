"""Byte-mutated real Keras files through the h5py reader (and the zip reader): every mutant gives
a report that every renderer can write, or the package's own error. Nothing else: no other
exception, no hang. Each is read as the CLI reads it, in a child process (regaudit.isolate):
the HDF5 C library can crash on a damaged file, and the CLI turns that into AuditCrashed, one
of the package's errors (the one known crash is pinned in tests/test_cli.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regaudit.audit import audit_path
from regaudit.errors import RegauditError
from regaudit.isolate import AuditCrashed, Isolated
from regaudit.render import FORMATS, render

FIXTURES = Path(__file__).parent / "fixtures"
# One of each layout: Keras 2 full model (with optimizer weights), Keras 3 legacy .h5, .keras
# zip, weights-only files of both layouts.
SEEDS = [
    FIXTURES / "keras-2.3.1" / "rnn.h5",
    FIXTURES / "keras-2.15.0" / "adamw_compiled.h5",
    FIXTURES / "keras-3.15.1" / "wrappers.h5",
    FIXTURES / "keras-3.15.1" / "embedding_bn.keras",
    FIXTURES / "keras-2.3.1" / "dense_kernel_bias_activity.weights.h5",
    FIXTURES / "keras-3.15.1" / "dense_kernel_bias_activity.weights.h5",
]
SEED_BYTES = {p.name + p.parent.name: p.read_bytes() for p in SEEDS}


def mutate(data: bytes, edits: list[tuple[float, bytes]], keep: float | None) -> bytes:
    """Overwrite bytes at relative offsets, then optionally truncate to a fraction."""
    out = bytearray(data)
    for where, chunk in edits:
        at = min(int(where * len(out)), len(out) - 1)
        out[at : at + len(chunk)] = chunk
    if keep is not None:
        out = out[: max(1, int(keep * len(out)))]
    return bytes(out)


def audit_and_render(path: str) -> None:
    """In the child: a report every renderer writes, or a RegauditError with a message."""
    try:
        report = audit_path(path).to_dict()
    except RegauditError as e:
        assert str(e).strip(), "an error with no message"
        return
    for fmt in FORMATS:
        render(report, fmt)


@pytest.fixture(scope="module")
def isolated() -> Iterator[Isolated]:
    with Isolated() as child:
        yield child


def check(isolated: Isolated, path: Path) -> None:
    try:
        isolated.run(audit_and_render, str(path))
    except AuditCrashed:
        pass  # what the CLI reports for it, in one line


edits = st.lists(
    st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=16)), min_size=1, max_size=8
)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.sampled_from(sorted(SEED_BYTES)),
    edits=edits,
    keep=st.none() | st.floats(0.05, 1),
)
def test_mutated_real_files(
    isolated: Isolated, tmp_path: Path, seed: str, edits: list, keep: float | None
) -> None:
    path = tmp_path / "mutant.h5"
    path.write_bytes(mutate(SEED_BYTES[seed], edits, keep))
    check(isolated, path)


@pytest.mark.parametrize("seed", sorted(SEED_BYTES))
def test_every_single_byte_flip_in_the_first_kilobytes(
    isolated: Isolated, tmp_path: Path, seed: str
) -> None:
    """The superblock and the first object headers, where a damaged byte matters most: every
    one of the first 2048 bytes inverted, one at a time (every 7th byte, to stay quick)."""
    data = SEED_BYTES[seed]
    path = tmp_path / "flipped.h5"
    for at in range(0, min(2048, len(data)), 7):
        path.write_bytes(data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :])
        check(isolated, path)
