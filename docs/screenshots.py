"""Take the README's screenshots from the built page: `.venv/bin/python docs/screenshots.py`.

docs/screenshot.png: the `conv` example at 1280 px; docs/screenshot-phone.png: the top of the
same page at 390 px (two device pixels per CSS pixel, as phones have). Both in light mode.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import build  # noqa: E402

SHOTS = {  # file: (viewport width, device scale, height of the picture in CSS px or None)
    "screenshot.png": (1280, 1, None),
    "screenshot-phone.png": (390, 2, 1500),
}


def main() -> None:
    build.ensure_built()
    server = build.make_server(0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/?example=conv"
    with sync_playwright() as p:
        browser = p.chromium.launch(**build.chromium_launch_options())
        for name, (width, scale, height) in SHOTS.items():
            context = browser.new_context(
                viewport={"width": width, "height": height or 900},
                device_scale_factor=scale,
                color_scheme="light",
                reduced_motion="reduce",
                service_workers="block",
            )
            page = context.new_page()
            page.goto(url)
            expect(page.locator("section.file[data-complete]")).to_have_count(1, timeout=90_000)
            page.screenshot(path=str(ROOT / "docs" / name), full_page=height is None)
            context.close()
            print(f"docs/{name}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
