"""The playground in a real browser: Playwright driving Debian's Chromium (installed by .ci/run)."""

import base64
import json
import os
import socket
import threading
import time

import pytest

pytest.importorskip("playwright")
pytest.importorskip("uvicorn")
import uvicorn
from playwright.sync_api import sync_playwright

from losslab.web import create_app, playground

CHROMIUM = "/usr/bin/chromium"
# .ci/run installs Debian's chromium; a bare development machine may not have it
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (apt-get install chromium)"
)

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def server():
    # compile any loss kernels before the clock of a page's wait starts
    state = {**playground.make_points("blobs", 3, 5), "optimizer": "sgd", "lr": 0.1}
    for loss in playground.LOSSES:
        playground.step({**state, "loss": loss}, 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(url)
    page.wait_for_selector("body[data-ready=true]", timeout=60_000)
    return page


def settle(page):
    page.wait_for_timeout(400)  # the page serialises its requests; let the queue drain
    page.wait_for_load_state("networkidle", timeout=60_000)


def page_state(page):
    encoded = page.evaluate("location.hash").split("#s=", 1)[1]
    return json.loads(base64.b64decode(encoded).decode("utf-8"))


def test_add_points_change_loss_step_and_the_loss_falls(server, browser):
    page = open_page(browser, server)
    n_before = len(page_state(page)["points"])
    page.click("#class-1")
    page.click("#canvas", position={"x": 12, "y": 12})  # the corners of the box hold no points
    page.click("#canvas", position={"x": 508, "y": 508})
    settle(page)
    assert len(page_state(page)["points"]) == n_before + 2
    assert page.locator("#points-table tbody tr").count() == n_before + 2
    page.select_option("#loss", "svm")
    settle(page)
    first_row = page.text_content("#points-table tbody tr:first-child")
    total_before = float(page.text_content("#total-loss"))
    for _ in range(20):
        page.click("#step")
    page.wait_for_function(
        "document.querySelector('#step-count').textContent === '20'", timeout=60_000
    )
    settle(page)
    assert float(page.text_content("#total-loss")) < total_before
    assert page.text_content("#points-table tbody tr:first-child") != first_row


def test_switching_loss_shows_exactly_what_the_python_api_computes(server, browser):
    page = open_page(browser, server)
    for loss in ("svm", "crammer_singer", "squared_hinge", "focal", "softmax"):
        page.select_option("#loss", loss)
        settle(page)
        state = page_state(page)
        shown = float(page.text_content("#total-loss"))
        expected = playground.evaluate(
            {k: v for k, v in state.items() if k not in ("add_class", "dataset", "n_per_class")}
        )
        assert shown == pytest.approx(expected["total_loss"], abs=6e-5), loss


def test_reloading_the_shared_url_restores_the_state(server, browser):
    page = open_page(browser, server)
    page.select_option("#loss", "focal")
    for _ in range(5):
        page.click("#step")
    page.wait_for_function(
        "document.querySelector('#step-count').textContent === '5'", timeout=60_000
    )
    settle(page)
    url, total, rows = (
        page.url,
        page.text_content("#total-loss"),
        page.locator("#points-table tbody tr").count(),
    )
    again = open_page(browser, url)
    settle(again)
    assert again.input_value("#loss") == "focal"
    assert again.text_content("#total-loss") == total
    assert again.locator("#points-table tbody tr").count() == rows
    assert again.text_content("#step-count") == "5"


def test_shift_click_deletes_and_drag_moves_a_point(server, browser):
    page = open_page(browser, server)
    state = page_state(page)
    x, y, _ = state["points"][0]
    px, py = (x + 3) / 6 * 520, (3 - y) / 6 * 520
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + px, box["y"] + py)
    page.mouse.down()
    page.mouse.move(box["x"] + px + 40, box["y"] + py + 40)
    page.mouse.up()
    settle(page)
    moved = page_state(page)["points"][0]
    assert moved[0] > x and moved[1] < y
    n = len(page_state(page)["points"])
    mx, my = (moved[0] + 3) / 6 * 520, (3 - moved[1]) / 6 * 520
    page.click("#canvas", position={"x": mx, "y": my}, modifiers=["Shift"])
    settle(page)
    assert len(page_state(page)["points"]) == n - 1
