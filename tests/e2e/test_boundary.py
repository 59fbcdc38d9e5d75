"""Issues 14 and 15 in the page: a file that points outside itself, declares more than it stores,
or has parts that cannot be read gets its report with the CLI's notes; a Cancel button stops an
audit and leaves the page usable. (tests/e2e/test_hostile.py also compares every such file's
JSON download with the CLI's, byte for byte.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import pytest
from e2e_support import AUDIT_TIMEOUT_MS, BOOT_TIMEOUT_MS, ROOT, Site, cli
from playwright.sync_api import expect

sys.path.insert(0, str(ROOT / "tests" / "bad_inputs"))
import make_bad_inputs as bad  # noqa: E402

# case -> the note it must show, and the kernel's penalty note in its row
NOTES = {
    "outside_storage.h5": ("WEIGHTS_OUTSIDE_FILE", "weights stored outside the file: not read"),
    "outside_dev_zero.h5": ("WEIGHTS_OUTSIDE_FILE", "weights stored outside the file: not read"),
    "outside_link_group.h5": ("WEIGHTS_OUTSIDE_FILE", "weights stored outside the file: not read"),
    "outside_virtual.h5": ("WEIGHTS_OUTSIDE_FILE", "weights stored outside the file: not read"),
    "soft_link_loop.h5": ("WEIGHTS_OUTSIDE_FILE", "weights stored outside the file: not read"),
    "sparse_1tib.h5": ("WEIGHTS_OVER_BUDGET", "weights beyond the file's read budget: not read"),
    "zeros_gzip_4gib.h5": ("WEIGHTS_OVER_BUDGET", "weights beyond the file's read budget: not read"),
    "layer_chunk_corrupt.h5": ("WEIGHTS_UNREADABLE", "weights unreadable: not read"),
    "version_opaque.h5": ("KERAS_VERSION_UNREADABLE", None),
    "training_broken.h5": ("TRAINING_CONFIG_UNREADABLE", None),
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("boundary")
    bad.make_all(folder, set(NOTES))
    return folder


def test_the_page_shows_the_notes(site: Site, cases: Path) -> None:
    site.open()
    site.audit(*(cases / name for name in NOTES))
    for name, (code, penalty_note) in NOTES.items():
        section = site.section(name)
        expect(section).to_have_attribute("data-report", "")
        expect(section.locator(f'li.note[data-code="{code}"]')).to_be_visible()
        if penalty_note:
            expect(section.locator("tr.finding", has_text="kernel")).to_contain_text(penalty_note)
    expect(site.section("version_opaque.h5").locator("section.report")).to_have_attribute(
        "data-verdict-strict", "unknown")
    assert site.errors == [] and site.external == []


def slow_file(folder: Path) -> Path:
    """A real file padded to 128 MiB, whose kernel declares 1.5 GiB of fill values: within the
    read budget (16 times the file), so the page sums it all, which takes seconds."""
    path = folder / "slow.h5"
    bad.good_h5_with(bad.new_kernel(shape=(384, 2**20), dtype="float32", chunks=(1, 2**20)))(path)
    with h5py.File(path, "r+") as f:
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # the space is the file's, not written
        space = h5py.h5s.create_simple((128 * 2**20,))
        h5py.h5d.create(f.id, b"padding", h5py.h5t.NATIVE_UINT8, space, dcpl=dcpl)
    assert path.stat().st_size >= 128 * 2**20
    return path


def cancel_while_auditing(site: Site, name: str) -> None:
    """Click the section's Cancel once the audit has started; it says it was cancelled."""
    cancel = site.section(name).locator("button.cancel")
    expect(cancel).to_be_visible(timeout=AUDIT_TIMEOUT_MS)
    cancel.click()
    expect(site.section(name)).to_have_attribute("data-error", "Cancelled: the audit was "
                                                 "stopped before it finished; nothing of it "
                                                 "is reported.")


def test_cancel_stops_the_audit_and_the_page_goes_on(site: Site, tmp_path: Path) -> None:
    slow, good = slow_file(tmp_path), bad.GOOD_H5
    page = site.open()
    page.set_input_files("input[type=file]", [str(slow), str(good)])
    cancel_while_auditing(site, slow.name)
    expect(page.locator("html")).to_have_attribute("data-state", "booting")
    # A new worker boots and audits the file that was waiting; then the page takes more.
    expect(site.section(good.name)).to_have_attribute("data-report", "", timeout=BOOT_TIMEOUT_MS)
    site.wait_done(2)
    assert site.download(good.name, "json") == cli(good)
    again = tmp_path / "again.h5"
    again.write_bytes(good.read_bytes())
    site.audit(again)
    expect(site.section(again.name)).to_have_attribute("data-report", "")
    assert site.errors == [] and site.external == []


def test_a_finished_audit_has_no_cancel_button(site: Site) -> None:
    site.open()
    site.audit(bad.GOOD_H5)
    expect(site.section(bad.GOOD_H5.name).locator("button.cancel")).to_have_count(0)

