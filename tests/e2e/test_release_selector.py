"""The DL4J release selector: each report says which releases import the file; choosing another
release audits the files again for it, downloads equal `regaudit --importer RELEASE`, and the
choice is remembered."""

from __future__ import annotations

import subprocess
import sys

from e2e_support import FIXTURES, Site
from playwright.sync_api import expect

FUNCTIONAL = FIXTURES / "keras-2.15.0" / "no_regularizers.h5"  # tf.keras 2.15, root Functional


def cli_json(importer: str) -> bytes:
    return subprocess.run([sys.executable, "-m", "regaudit", "--format", "json", "--importer",
                           importer, str(FUNCTIONAL)], capture_output=True, check=True).stdout


def test_each_report_says_which_releases_import_it(site: Site) -> None:
    page = site.open()
    expect(page.locator("#importer")).to_have_value("dl4j-1.0.0-M2.1")
    site.audit(FUNCTIONAL)
    line = site.section(FUNCTIONAL.name).locator(".report-releases")
    expect(line).to_contain_text("beta7 ✗ · M1 ✗ · M1.1 ✗ · M2 ✓ · M2.1 ✓ · master ✓ (unverified)")
    assert site.download(FUNCTIONAL.name, "json") == cli_json("M2.1")
    assert not site.errors


def test_another_release_audits_again_and_is_remembered(site: Site) -> None:
    page = site.open()
    site.audit(FUNCTIONAL)
    page.select_option("#importer", "dl4j-1.0.0-beta7")
    site.wait_done(1)
    section = site.section(FUNCTIONAL.name)
    expect(section.locator(".verdict[data-mode=strict]")).to_have_attribute("data-verdict", "blocked")
    assert site.download(FUNCTIONAL.name, "json") == cli_json("beta7")
    page.reload()
    site.wait_ready()
    expect(page.locator("#importer")).to_have_value("dl4j-1.0.0-beta7")
    assert not site.errors
