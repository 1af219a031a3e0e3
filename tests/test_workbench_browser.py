"""The workbench page in a real browser: headless Chromium driven by Selenium.

Loads the page, uploads the bundled tee, nests it (the marker drawn while it improves;
``WORKBENCH_SCREENSHOT=docs/workbench.png`` saves the page when it is done), counts the drawn
pieces against the marker file, drags a piece onto another and sees the collision, compacts,
downloads marker.json and checks it with `nest verify`'s file check. Then plans an order for
the graded tee entered on the page and checks what is shown against the plan's files
(``WORKBENCH_PLAN_SCREENSHOT=docs/workbench-plan.png`` saves the plan shown). Skipped without Chromium and its
driver (Debian's ``chromium`` and ``chromium-driver``; CI installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver")

from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from nesting.verify_file import verify_file  # noqa: E402
from planning.verify import verify_plan  # noqa: E402
from workbench import create_app  # noqa: E402

TEE = Path(__file__).resolve().parents[1] / "patterns" / "examples" / "tee.dxf"
GRADED = Path(__file__).resolve().parents[1] / "planning" / "examples" / "tee-graded.dxf"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs chromium and chromedriver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """The workbench on a free local port, in a thread, on a fresh workspace."""
    workspace = tmp_path / "workspace"
    port = free_port()
    config = uvicorn.Config(create_app(workspace), host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/", workspace
    running.should_exit = True
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1600,1000"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=DRIVER))
    driver.downloads = downloads
    yield driver
    driver.quit()


def wait(driver, condition, seconds=90):
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.2).until(lambda d: condition(d))
    except TimeoutException:
        raise AssertionError(f"timed out; the page says: status {status(driver)!r}, "
                             f"message {driver.find_element(By.ID, 'message').text!r}") from None


def status(driver) -> str:
    return driver.find_element(By.ID, "status").text


def test_upload_nest_drag_compact_download(server, browser):
    url, workspace = server
    browser.get(url)
    browser.find_element(By.ID, "upload").send_keys(str(TEE))
    wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#pieces tbody tr")) == 4)
    assert browser.find_elements(By.CSS_SELECTOR, "#pieces tbody tr svg path")  # thumbnails
    seconds = "10" if os.environ.get("WORKBENCH_SCREENSHOT") else "3"  # a denser marker for the picture
    for name, value in (("width", "1500"), ("sizes", "M=2"), ("time", seconds)):
        field = browser.find_element(By.ID, f"opt-{name}")
        field.clear()
        field.send_keys(value)
    browser.find_element(By.ID, "nest").click()
    # the marker is drawn as it improves, before the verified one: every piece, flagged unverified
    wait(browser, lambda d: "searching… (unverified)" in d.find_element(By.ID, "marker-summary").text
         and len(d.find_elements(By.CSS_SELECTOR, "#marker g.piece")) == 10)
    wait(browser, lambda d: status(d).startswith("done"))
    assert "failed" not in status(browser) and not browser.find_element(By.ID, "message").text

    folder = workspace / "markers" / "tee-001"
    placed = json.loads((folder / "marker.json").read_text())["pieces"]
    pieces = browser.find_elements(By.CSS_SELECTOR, "#marker g.piece")
    assert len(pieces) == len(placed) == 10
    assert browser.find_elements(By.CSS_SELECTOR, "#chart polyline.curve")  # utilization over time
    assert not browser.find_elements(By.CSS_SELECTOR, "#marker g.piece.collides")
    if os.environ.get("WORKBENCH_SCREENSHOT"):  # how docs/workbench.png is made
        ActionChains(browser).move_to_element(pieces[0]).perform()
        browser.save_screenshot(os.environ["WORKBENCH_SCREENSHOT"])

    def drag_front_onto_back():
        drawn = browser.find_elements(By.CSS_SELECTOR, "#marker g.piece")
        front = next(g for g in drawn if g.get_attribute("data-name") == "FRONT")
        back = next(g for g in drawn if g.get_attribute("data-name") == "BACK")
        ActionChains(browser).move_to_element(front).click_and_hold().move_by_offset(5, 5) \
            .move_to_element(back).release().perform()
        wait(browser, lambda d: "overlaps" in d.find_element(By.ID, "violations").text
             and len(d.find_elements(By.CSS_SELECTOR, "#marker g.piece.collides")) >= 2, 30)

    drag_front_onto_back()
    browser.find_element(By.ID, "undo").click()
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#marker g.piece.collides")
         and not d.find_element(By.ID, "violations").text, 30)
    drag_front_onto_back()
    assert all(link.get_attribute("class") == "disabled"
               for link in browser.find_elements(By.CSS_SELECTOR, "#downloads a"))  # an edit is not offered

    time_field = browser.find_element(By.ID, "compact-time")
    time_field.clear()
    time_field.send_keys("3")
    wait(browser, lambda d: d.find_element(By.ID, "compact").is_enabled(), 30)
    browser.find_element(By.ID, "compact").click()
    wait(browser, lambda d: status(d).startswith("done: wrote markers/tee-002/"))  # one read: it changes
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, "#marker g.piece.collides"), 10)
    assert browser.find_element(By.ID, "violations").text == ""
    assert len(browser.find_elements(By.CSS_SELECTOR, "#marker g.piece")) == 10

    browser.find_element(By.CSS_SELECTOR, "#downloads a[data-format=json]").click()
    downloaded = browser.downloads / "tee-002.json"
    wait(browser, lambda d: downloaded.exists(), 20)
    assert verify_file(downloaded) == []
    assert len(json.loads(downloaded.read_text())["pieces"]) == 10
    assert downloaded.read_bytes() == (workspace / "markers" / "tee-002" / "marker.json").read_bytes()


def test_enter_an_order_and_see_its_plan(server, browser):
    url, workspace = server
    browser.get(url)
    browser.find_element(By.ID, "upload").send_keys(str(GRADED))
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#order-sizes input"))
    fields = {"opt-width": "1500", "opt-spacing": "2", "order-S": "2", "order-M": "3", "order-table": "3200",
              "order-max-plies": "5", "order-garments": "3", "order-end": "20", "plan-time": "4"}
    for name, value in fields.items():
        field = browser.find_element(By.ID, name)
        field.clear()
        field.send_keys(value)
    browser.find_element(By.ID, "write-order").click()
    assert "[order]" in browser.find_element(By.ID, "order-text").get_attribute("value")
    browser.find_element(By.ID, "plan").click()
    wait(browser, lambda d: d.find_element(By.ID, "plan-status").text.startswith("done"))
    assert not browser.find_element(By.ID, "message").text

    folder = workspace / "plans" / "tee-graded-order-001"
    assert verify_plan(folder / "plan.json") == []
    plan = json.loads((folder / "plan.json").read_text())
    assert plan["order"] == {"S": 2, "M": 3}
    lays = browser.find_elements(By.CSS_SELECTOR, "#plan-lays tbody tr")
    assert [row.find_elements(By.TAG_NAME, "td")[4].text for row in lays] == [str(lay["plies"]) for lay in plan["lays"]]
    assert f"{plan['totals']['fabric_m']:.2f} m of fabric" in browser.find_element(By.ID, "plan-summary").text
    figures = browser.find_elements(By.CSS_SELECTOR, "#plan-markers figure")
    assert {f.get_attribute("data-marker") for f in figures} == {lay["marker"] for lay in plan["lays"]}
    for figure in figures:  # each marker drawn, piece for piece
        placed = json.loads((folder / figure.get_attribute("data-marker")).read_text())["pieces"]
        assert len(figure.find_elements(By.CSS_SELECTOR, "g.piece")) == len(placed)
    if os.environ.get("WORKBENCH_PLAN_SCREENSHOT"):  # how docs/workbench-plan.png is made
        browser.execute_script("document.getElementById('plan-result').scrollIntoView()")
        browser.save_screenshot(os.environ["WORKBENCH_PLAN_SCREENSHOT"])
    browser.find_element(By.CSS_SELECTOR, "#plan-downloads a[data-file='plan.json']").click()
    downloaded = browser.downloads / "tee-graded-order-001-plan.json"
    wait(browser, lambda d: downloaded.exists(), 20)
    assert downloaded.read_bytes() == (folder / "plan.json").read_bytes()
