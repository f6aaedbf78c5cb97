"""Screenshots of the playground in three states, for docs/guide/playground.md (needs Debian's chromium).

Run:  python docs/make_screenshots.py   (writes docs/playground_*.png)
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from losslab.web import create_app

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OUT = Path(__file__).parent


def main():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("body[data-ready=true]")
        page.wait_for_load_state("networkidle")
        page.screenshot(path=OUT / "playground_start.png")
        page.select_option("#loss", "svm")
        for _ in range(40):
            page.click("#step")
        page.wait_for_function("document.querySelector('#step-count').textContent === '40'")
        page.click("#points-table tbody tr:nth-child(3)")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(500)
        page.screenshot(path=OUT / "playground_svm_trained.png")
        page.select_option("#dataset", "spiral")
        page.select_option("#model", "mlp")
        page.fill("#hidden", "32")
        page.dispatch_event("#hidden", "change")
        page.click("#generate")
        page.select_option("#optimizer", "adam")
        page.evaluate(
            "document.getElementById('lr').value = -1.5; document.getElementById('lr').dispatchEvent(new Event('change'))"
        )
        page.wait_for_load_state("networkidle")
        for _ in range(40):
            page.click("#step")
        page.wait_for_function("+document.querySelector('#step-count').textContent >= 40")
        page.wait_for_timeout(800)
        page.screenshot(path=OUT / "playground_mlp_spiral.png")
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
