"""The service's page (``GET /``) in a real headless browser: Debian's chromium through chromium-driver and
Selenium (no browser download). An image chosen in the page is predicted, drawn and its JSON shown; the API key is
typed into the page; the screenshot is kept in ``test-artifacts/``. Without a browser the tests skip with a reason
(where ``YOLO_OV_REQUIRE_BROWSER`` is set, as .ci/run sets it once it installed one, they fail instead)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from conftest import DATASETS, ROOT, needs_shared, shared_model

API_KEY = "page-key"
ARTIFACTS = ROOT / "test-artifacts"


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        why = "no headless browser: apt-get install chromium chromium-driver"
        if os.environ.get("YOLO_OV_REQUIRE_BROWSER"):
            pytest.fail(f"{why} (YOLO_OV_REQUIRE_BROWSER is set)")
        pytest.skip(why)
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver), options=options)


@pytest.fixture(scope="module")
def page_service(tmp_path_factory):
    pytest.importorskip("starlette")
    from yolo_openvino import YOLO
    from yolo_openvino.scale import serve

    ir = YOLO(shared_model("yolov8n-seg-shapes")).export(format="openvino",
                                                         output=str(tmp_path_factory.mktemp("page") / "seg"))
    service = serve(ir, port=0, blocking=False, api_key=API_KEY)
    yield service
    service.shutdown()


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


def _predict_in_the_page(browser, url: str, image: str, key: str, answers: int) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    browser.find_element(By.ID, "key").send_keys(key)
    browser.find_element(By.ID, "file").send_keys(image)  # choosing a file predicts it
    WebDriverWait(browser, 60).until(
        lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-done") == str(answers)
        or "error" in (b.find_element(By.ID, "status").get_attribute("class") or ""))
    return browser.find_element(By.ID, "status").text


@needs_shared
@pytest.mark.timeout(300)
def test_an_image_chosen_in_the_page_is_drawn_with_its_json(page_service, browser):
    import urllib.request

    from selenium.webdriver.common.by import By

    image = str(sorted((DATASETS / "shapes-seg" / "images" / "val").glob("*.jpg"))[0])
    status = _predict_in_the_page(browser, page_service.url, image, API_KEY, answers=1)
    shown = json.loads(browser.find_element(By.ID, "json").text)
    request = urllib.request.Request(f"{page_service.url}/predict?conf=0.25&iou=0.7", data=open(image, "rb").read(),
                                     headers={"Authorization": f"Bearer {API_KEY}"})
    direct = json.loads(urllib.request.urlopen(request, timeout=60).read())
    assert len(shown["detections"]) == len(direct["detections"]) > 0 and shown["path"] == Path(image).name
    assert f"{len(direct['detections'])} detection(s)" in status
    # the canvas is the image with the result drawn on it: its pixels differ from the image's own
    changed = browser.execute_script("""
        const c = document.getElementById('canvas'), ctx = c.getContext('2d');
        const drawn = ctx.getImageData(0, 0, c.width, c.height).data;
        return createImageBitmap(document.getElementById('file').files[0]).then((bitmap) => {
            const o = new OffscreenCanvas(c.width, c.height), octx = o.getContext('2d');
            octx.drawImage(bitmap, 0, 0);
            const raw = octx.getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 0; i < raw.length; i += 4) if (raw[i] !== drawn[i]) n++;
            return [c.width, c.height, n];
        });""")
    h, w = direct["orig_shape"]
    assert changed[:2] == [w, h] and changed[2] > 0.01 * w * h, changed
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "page.png"))


@needs_shared
@pytest.mark.timeout(300)
def test_a_wrong_key_typed_into_the_page_is_its_one_line_error(page_service, browser):
    from selenium.webdriver.common.by import By

    image = str(sorted((DATASETS / "shapes-seg" / "images" / "val").glob("*.jpg"))[0])
    status = _predict_in_the_page(browser, page_service.url, image, "wrong", answers=0)
    assert status.startswith("401: missing or wrong API key")
    assert "page-key" not in browser.page_source
    assert browser.find_element(By.ID, "json").text == ""
