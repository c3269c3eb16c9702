"""The alert card's three images and its checks, in Chromium: probe | watch list | scene frame (every
other face blurred, the alerted face boxed), each click-to-zoom, S zooms the scene; the camera stream's
integrity flags and the liveness (PAD) verdict in an operator's words; axe-core finds nothing.

The alert is what an edge pipeline would post: its scene is made by the pipeline's own redaction
(``overt.pipeline.redact``) from a frame of the sample faces, so the README's zoomed card
(``docs/screenshots/alert-zoomed.png``, with OVERT_UPDATE_SCREENSHOTS=1) shows a real one.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import numpy as np

from overt.config import build_engine
from overt.pipeline.redact import LabelledBox, encode_jpeg, redacted_frame, thumbnail_jpeg
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import sample_image
from overt.vision.imageio import read_image
from tests.web.helpers import BROWSER_MARKS, DOC_SHOTS, World, open_queue, world_fixture
from tests.web.test_console_roles_a11y import _axe

pytestmark = BROWSER_MARKS


def alert_images() -> dict[str, Any]:
    """Probe crop, redacted scene and similarity of the sample face among the sample group's bystanders."""
    engine = build_engine()
    yao, gdp = read_image(sample_image("yaoming")), read_image(sample_image("gdp"))
    clip = SyntheticClip(
        1280,
        720,
        5,
        1.0,
        face_patches(gdp, engine.detect(gdp), margin=0.25)[:3],
        face_patches(yao, engine.detect(yao))[0],
        target_from_s=0.0,
        target_face_px=(150, 151),
        bystander_face_px=110,
    )
    frame = next(iter(clip.frames()))
    dets = engine.detect(frame)
    template = engine.embedder.embed([engine.embedder.align(yao, *_first(engine.detect(yao)))])[0].vector
    crops = [engine.embedder.align(frame, dets.xyxy[i], dets.landmarks5[i]) for i in range(len(dets))]
    sims = [float(t.vector @ template) for t in engine.embedder.embed(crops)]
    target = int(np.argmax(sims))
    blur = np.stack([dets.xyxy[i] for i in range(len(dets)) if i != target]).astype(np.float32)
    scene = redacted_frame(frame, blur, [LabelledBox(dets.xyxy[target], f"1 {sims[target]:.2f}")])
    return {
        "probe_crop_jpeg_b64": b64(encode_jpeg(crops[target])),
        "context_jpeg_b64": b64(thumbnail_jpeg(scene, 480)),
        "scene_jpeg_b64": b64(thumbnail_jpeg(scene, 960)),
        "similarity": round(sims[target], 2),
    }


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _first(dets: Any) -> tuple[Any, Any]:
    return dets.xyxy[0], dets.landmarks5[0]


world = world_fixture("scene")


def wait_loaded(page: Any, selector: str, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(f"[...document.querySelectorAll({selector!r})].every((i) => i.naturalWidth > 0)"):
        assert time.monotonic() < deadline, f"{selector} did not load"
        time.sleep(0.1)


def width(page: Any, selector: str) -> float:
    return float(page.evaluate(f"document.querySelector({selector!r}).getBoundingClientRect().width"))


def test_the_card_shows_probe_watchlist_and_scene_each_zooms_and_says_what_the_checks_found(
    browser: Any, world: World
) -> None:
    page = open_queue(browser, world.url)
    alert = world.raise_alert(
        integrity_flags=["frozen"],
        pad={"backend": "minifas", "score": 0.31, "live": False},
        **alert_images(),
    )
    card = f"#alert-{alert}"
    page.wait_for_selector(card)
    assert page.eval_on_selector_all(f"{card} .faces img", "imgs => imgs.map(i => i.className)") == [
        "probe",
        "ref",
        "scene",
    ]
    wait_loaded(page, f"{card} .faces img")
    assert "every other face blurred" in (page.get_attribute(f"{card} img.scene", "alt") or "")
    assert "cam-1" in (page.get_attribute(f"{card} img.scene", "alt") or "")
    # the checks, in words
    integrity, pad = page.inner_text(f"{card} .integrity"), page.inner_text(f"{card} .pad")
    assert "frozen frames detected" in integrity
    assert "possible photo or screen" in pad
    assert "0.31" in pad
    assert "warn" in (page.get_attribute(f"{card} .pad", "class") or "")
    # click-to-zoom: probe and watch-list images, side by side with the scene
    page.click(f"{card} img.probe")
    page.wait_for_selector(f"{card}.zoomed:not(.zoom-scene)")
    boxes = [
        page.eval_on_selector(f"{card} img.{c}", "i => i.getBoundingClientRect().top")
        for c in ("probe", "ref", "scene")
    ]
    assert max(boxes) - min(boxes) < 40  # one row
    assert width(page, f"{card} img.probe") > 300
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{card}:not(.zoomed)")
    # a click on the scene zooms it largest; S does the same from the keyboard (listed on screen)
    page.click(f"{card} img.scene")
    page.wait_for_selector(f"{card}.zoomed.zoom-scene")
    assert width(page, f"{card} img.scene") > 0.5 * 1366
    assert width(page, f"{card} img.scene") > 2 * width(page, f"{card} img.probe")
    violations = _axe(page)
    assert violations == [], [v["id"] for v in violations]
    DOC_SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOC_SHOTS / "alert-zoomed.png"))
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{card}:not(.zoomed)")
    assert "zoom the scene" in page.inner_text("#shortcuts")
    page.keyboard.press("s")
    page.wait_for_selector(f"{card}.zoomed.zoom-scene")
    page.keyboard.press("s")
    page.wait_for_selector(f"{card}:not(.zoomed)")
    violations = _axe(page)
    assert violations == [], [v["id"] for v in violations]
    # an alert from a sender without a scene frame, PAD or flags: two images, plain words
    plain = world.raise_alert()
    page.wait_for_selector(f"#alert-{plain}")
    assert page.eval_on_selector_all(f"#alert-{plain} .faces img", "imgs => imgs.length") == 2
    assert page.inner_text(f"#alert-{plain} .integrity") == "no problem detected"
    assert page.inner_text(f"#alert-{plain} .pad") == "not run for this camera"
    page.context.close()
    # every scene view was audited, like the crop
    api = world.api("aud")
    viewed = api.get("/api/v1/audit", params={"action": "alert.viewed", "limit": 1000}).json()
    api.close()
    assert any(e["target"] == f"alert:{alert}" and e["details"] == {"scene": True} for e in viewed)
