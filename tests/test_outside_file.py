"""Issue 15: a model file never makes regaudit read anything outside itself.

Hostile copies of a real Keras 2.3.1 file (tests/bad_inputs/make_bad_inputs.py) point the
regularized kernel at another file in every way HDF5 offers. The CLI reports them like the
original, with the kernel's penalty "weights stored outside the file: not read" and one note;
changing the outside files between two runs changes nothing; HDF5's own switches and the
explicit checks each refuse on their own; a FIFO in a folder is skipped, not waited on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "bad_inputs"))
import make_bad_inputs as bad  # noqa: E402

from regaudit.audit import audit_path  # noqa: E402
from regaudit.sources import h5py_backend  # noqa: E402
from regaudit.sources.h5problems import StoredOutside  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE_CASES = {
    "outside_storage.h5": "external raw storage",
    "outside_dev_zero.h5": "external raw storage",
    "outside_link.h5": "an external link",
    "outside_link_group.h5": "an external link",
    "outside_link_weights.h5": "an external link",
    "outside_virtual.h5": "a virtual dataset",
    "soft_link_loop.h5": "a soft link",
}
KERNEL_IN_FILE = "dense_reg/dense_reg/kernel:0"
NOT_READ = "weights stored outside the file: not read"
HANG_GUARD_S = 120  # a run that never ends fails here instead of holding the suite


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("outside")
    bad.make_all(folder, set(OUTSIDE_CASES) | {"user_block.h5", "split_driver-m.h5"})
    return folder


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run([sys.executable, "-m", "regaudit", *map(str, args)], env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)


def without(report: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in keys}


@pytest.fixture(scope="module")
def original() -> dict[str, Any]:
    return json.loads(cli(bad.GOOD_H5, "--format", "json").stdout)


@pytest.mark.parametrize("name", sorted(OUTSIDE_CASES))
def test_outside_data_is_noted_not_read_and_the_rest_is_reported(
    cases: Path, original: dict[str, Any], name: str
) -> None:
    proc = cli(cases / name, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    report = json.loads(proc.stdout)
    [note] = [n for n in report["notes"] if n["code"] == "WEIGHTS_OUTSIDE_FILE"]
    assert OUTSIDE_CASES[name] in note["message"]
    assert "not followed, nothing outside the file is read" in note["message"]
    # Every finding as in the original, except the penalties of the weights that are elsewhere.
    for mine, theirs in zip(report["findings"], original["findings"], strict=True):
        if mine["penalty"] is None and theirs["penalty"] is not None:
            assert mine["penalty_note"] == NOT_READ
            assert theirs["penalty"]["tensors"][0].startswith("dense_reg/")
            mine, theirs = without(mine, "penalty", "penalty_note"), without(theirs, "penalty",
                                                                              "penalty_note")
        assert mine == theirs
    kernel = next(f for f in report["findings"] if f["target"] == "kernel")
    assert (kernel["penalty"], kernel["penalty_note"]) == (None, NOT_READ)
    for key in ("training", "verdict", "summary", "importer", "schema"):
        assert report[key] == original[key]


@pytest.mark.parametrize("name", sorted(OUTSIDE_CASES))
def test_the_report_does_not_depend_on_the_outside_files(
    tmp_path: Path, cases: Path, name: str
) -> None:
    folder = tmp_path / "run"
    shutil.copytree(cases, folder)
    first = cli(folder / name, "--format", "json")
    bad.outside_files(folder, value=-123.5)  # other numbers where the links and storage point
    second = cli(folder / name, "--format", "json")
    (folder / bad.OUTSIDE_BIN).unlink()  # and then no outside file at all
    (folder / bad.OTHER_H5).unlink()
    third = cli(folder / name, "--format", "json")
    assert first.returncode == second.returncode == third.returncode == 0
    assert first.stdout == second.stdout == third.stdout


def test_nothing_outside_is_even_opened(tmp_path: Path, cases: Path) -> None:
    """The outside files replaced by FIFOs with no writer: opening one for reading would block
    for ever (the run would hit HANG_GUARD_S), so a report proves HDF5 never opened them."""
    folder = tmp_path / "fifos"
    shutil.copytree(cases, folder)
    for name in (bad.OUTSIDE_BIN, bad.OTHER_H5):
        (folder / name).unlink()
        os.mkfifo(folder / name)
    names = sorted(OUTSIDE_CASES)
    proc = cli(*(folder / n for n in names), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert [r["source"]["file"] for r in json.loads(proc.stdout)] == names


# Run in a fresh interpreter: audits every hostile file in-process and prints what Python's
# audit hooks saw opened (files, descriptors) and any socket use.
AUDIT_HOOK = """
import json, sys
from regaudit.audit import audit_path
from regaudit.render import render
from regaudit.sources import hdf5
hdf5.backend()  # h5py and numpy imported before the hook: their own files are not in question
seen = []
sys.addaudithook(lambda event, args: seen.append((event, str(args[0]) if args else ""))
                 if event == "open" or event.startswith(("socket.", "urllib.", "http.")) else None)
for path in sys.argv[1:]:
    render(audit_path(path).to_dict(), "json")
print(json.dumps(seen))
"""


def test_python_opens_only_the_model_files_and_no_socket(cases: Path) -> None:
    paths = [str(cases / n) for n in sorted(OUTSIDE_CASES)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.run([sys.executable, "-c", AUDIT_HOOK, *paths], env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD_S, check=True)
    seen = json.loads(proc.stdout)
    assert not [e for e in seen if e[0] != "open"]  # no socket, no URL
    python_files = (sys.prefix, sys.base_prefix, sys.exec_prefix)
    others = {p for _, p in seen
              if p not in paths and not p.isdigit() and not p.startswith(python_files)}
    assert others == set()
    assert set(paths) <= {p for _, p in seen}  # the hook saw the files it should


def test_a_real_outside_file_would_have_changed_the_numbers(cases: Path) -> None:
    """The control: h5py followed by name reads the outside numbers (7.0 each), so the tests
    above would see them if regaudit read them."""
    for name in ("outside_storage.h5", "outside_link.h5", "outside_virtual.h5"):
        with h5py.File(cases / name, "r") as f:
            assert float(np.asarray(f[bad.KERNEL]).sum()) == 7.0 * 32


# --- HDF5's own switches, each without the explicit checks -------------------------------


def test_link_access_list_refuses_external_links_by_itself(cases: Path) -> None:
    with h5py.File(cases / "outside_link.h5", "r") as f:
        group = f["model_weights/dense_reg/dense_reg"].id
        assert h5py.h5o.open(group, b"kernel:0") is not None  # the default follows the link
        # The link's file is "opened" as the empty in-memory file: no HDF5 signature there.
        with pytest.raises(KeyError, match="file signature not found"):
            h5py.h5o.open(group, b"kernel:0", lapl=h5py_backend.LAPL)


def test_file_object_driver_keeps_virtual_sources_in_the_file_by_itself(cases: Path) -> None:
    """Opened as the backend opens it, the virtual dataset read straight through h5py (no
    check in between) maps onto this file only: its source is missing, so fill values."""
    f = h5py_backend.H5pyBackend().open(str(cases / "outside_virtual.h5"))
    try:
        values = np.asarray(f._f[bad.KERNEL])
    finally:
        f.close()
    assert values.shape == (8, 4) and not values.any()


# --- the explicit checks, each without HDF5's switches ------------------------------------


@pytest.fixture
def switches_off(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Files opened by name (HDF5's POSIX driver) and links looked up with h5py's defaults."""
    def by_name(self: object, source: Any) -> Any:
        return h5py_backend._File(h5py.File(source, "r"))
    monkeypatch.setattr(h5py_backend.H5pyBackend, "open", by_name)
    monkeypatch.setattr(h5py_backend, "LAPL", h5py.h5p.create(h5py.h5p.LINK_ACCESS))
    yield


@pytest.mark.parametrize("name", sorted(OUTSIDE_CASES))
def test_explicit_checks_refuse_by_themselves(
    switches_off: None, cases: Path, name: str
) -> None:
    report = audit_path(str(cases / name)).to_dict()
    kernel = next(f for f in report["findings"] if f["target"] == "kernel")
    assert kernel["penalty_note"] == NOT_READ
    assert [n["code"] for n in report["notes"]] == ["WEIGHTS_OUTSIDE_FILE"]


def test_external_storage_is_refused_even_when_read_directly(cases: Path) -> None:
    """No HDF5 switch governs external raw storage (HDF5 opens it by name, and an absolute
    name ignores H5Pset_efile_prefix): the dataset itself refuses to be summed."""
    f = h5py_backend.H5pyBackend().open(str(cases / "outside_dev_zero.h5"))
    try:
        node = f.get(bad.KERNEL)
        assert node is not None and node.outside and "external raw storage" in node.outside
        with pytest.raises(StoredOutside):
            node.stats()
    finally:
        f.close()


# --- special files, user blocks, other drivers --------------------------------------------


def test_a_fifo_in_a_folder_is_skipped_not_waited_on(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    folder.mkdir()
    os.mkfifo(folder / "pipe.h5")
    shutil.copyfile(bad.GOOD_H5, folder / "good.h5")
    proc = cli(folder, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["source"]["file"] == "good.h5"
    assert proc.stderr.splitlines() == [
        f"regaudit: {folder / 'pipe.h5'}: skipped: a FIFO, not a regular file"
    ]
    # Named on its own, or through a glob, it is refused as before.
    alone = cli(folder / "pipe.h5")
    assert alone.returncode == 2 and "not a regular file" in alone.stderr
    globbed = cli(str(folder / "*.h5"), "--format", "json")
    assert "skipped: a FIFO" in globbed.stderr
    assert json.loads(globbed.stdout)["source"]["file"] == "good.h5"


def test_a_fifo_is_refused_by_the_reader_itself(tmp_path: Path) -> None:
    from regaudit.errors import UnreadableFile

    os.mkfifo(tmp_path / "pipe.h5")
    with pytest.raises(UnreadableFile, match="a FIFO, not a regular file: nothing was read"):
        audit_path(str(tmp_path / "pipe.h5"))


def test_a_user_block_is_skipped_as_hdf5_skips_it(
    cases: Path, original: dict[str, Any]
) -> None:
    report = json.loads(cli(cases / "user_block.h5", "--format", "json").stdout)
    assert without(report, "source") == without(original, "source")


def test_a_split_driver_file_does_not_open_its_raw_data_file(cases: Path) -> None:
    raw = cases / "split_driver-r.h5"
    raw.write_bytes(b"")  # were it opened, reading it would fail differently
    proc = cli(cases / "split_driver-m.h5")
    assert proc.returncode == 2
    assert "multi driver should be used" in proc.stderr
