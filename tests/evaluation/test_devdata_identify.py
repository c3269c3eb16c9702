"""1:N identification on ../shared/dev-data faces (ORL, deepface) with pinned results.

Pinned on arcface_w600k_mbf + scrfd_500m_bnkps, seed 0, non-mated share 0.5 (BENCHMARKS.md,
"Identification (1:N)"). Tolerances allow for ONNX Runtime / BLAS differences between machines.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from overt.cli.app import main
from overt.config import build_engine
from overt.evaluation.identify import EmbeddedImage, embed_images
from overt.evaluation.run import IdentifyOptions, IdentifyRun, engine_embed_fn, make_split, run_identify

pytestmark = [pytest.mark.devdata, pytest.mark.slow]


@pytest.fixture(scope="module")
def orl_run(dev_data: Path) -> IdentifyRun:
    opts = IdentifyOptions(identities=dev_data / "faces" / "orl", n_boot=300, n_perm=500)
    split = make_split(opts)
    embed = engine_embed_fn(build_engine())
    cache: dict[Path, EmbeddedImage] = embed_images(split.all_images(), embed)
    return run_identify(opts, embed, {"model_id": "arcface_w600k_mbf"}, split=split, cache=cache)


def test_orl_identification(orl_run: IdentifyRun) -> None:
    c = orl_run.data["counts"]
    assert (c["identities"], c["images"], c["enrolled_subjects"]) == (40, 400, 20)
    assert (c["mated_searches"], c["nonmated_searches"]) == (180, 200)
    assert c["mated_searches_without_face"] + c["nonmated_searches_without_face"] == 0
    assert orl_run.data["rank1"] >= 0.99
    t = orl_run.data["fnir_at_fpir"]
    assert t["0.01"]["measurable"] is True
    assert t["0.01"]["fnir"] <= 0.01
    assert t["0.01"]["threshold"] == pytest.approx(0.3206, abs=0.03)
    assert t["0.001"]["measurable"] is False
    assert t["1/6000"]["measurable"] is False
    assert t["1/6000"]["at_smallest_measurable_fpir"]["fnir"] <= 0.02
    sizes = orl_run.data["watchlist_sizes"]
    assert [s["reached"] for s in sizes] == [30, 30, 30]  # 20 enrolled + 10 borrowed, never synthesised
    assert all(s["complete"] is False for s in sizes)


def test_orl_fairness_on_arbitrary_groups(orl_run: IdentifyRun, dev_data: Path, tmp_path: Path) -> None:
    # Groups unrelated to the faces (odd/even subject number): nothing may be flagged.
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "identity,parity\n" + "".join(f"s{k},{'odd' if k % 2 else 'even'}\n" for k in range(1, 41)), encoding="utf-8"
    )
    opts = IdentifyOptions(identities=dev_data / "faces" / "orl", groups_csv=groups, n_boot=300, n_perm=500)
    run = run_identify(opts, engine_embed_fn(build_engine()), {}, split=orl_run.result.split, cache=orl_run.cache)
    fair = run.data["fairness"]
    assert fair["significant"] == []
    assert {g["group"] for g in fair["groups"]} == {"odd", "even"}
    assert run.npl_png is not None


def test_deepface_identify_cli(dev_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = dev_data / "faces" / "deepface"
    ids = tmp_path / "ids"
    with (src / "identities.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            d = ids / row["identity_id"]
            d.mkdir(parents=True, exist_ok=True)
            (d / row["image"]).symlink_to(src / row["image"])
    report = tmp_path / "deepface.html"
    assert main(["eval", "identify", "--identities", str(ids), "--report", str(report), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    c = data["counts"]
    assert (c["identities"], c["images"], c["enrolled_subjects"]) == (13, 62, 7)
    assert (c["mated_searches"], c["nonmated_searches"]) == (22, 33)
    assert data["rank1"] >= 0.95
    assert data["rank5"] == pytest.approx(1.0)
    assert all(not v["measurable"] for v in data["fnir_at_fpir"].values())  # 33 non-mated searches
    fb = data["fnir_at_fpir"]["0.01"]["at_smallest_measurable_fpir"]
    assert fb["fpir"] == pytest.approx(1 / 33, abs=1e-4)
    assert fb["fnir"] <= 0.1
    assert report.stat().st_size > 10_000


def test_talking_heads_video_through_pipeline(
    dev_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One enrolled clip (still = its first frame) and one clip of someone not on the list."""
    import cv2

    clips = dev_data / "videos" / "talking_heads"
    cap = cv2.VideoCapture(str(clips / "d18.mp4"))
    ok, frame = cap.read()
    cap.release()
    assert ok
    cv2.imwrite(str(tmp_path / "still.png"), frame)
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(
        f"video,subject,stills\n{clips / 'd18.mp4'},p1,still.png\n{clips / 'd20.mp4'},,\n", encoding="utf-8"
    )
    assert main(["eval", "video", "--manifest", str(manifest), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    listed, other = data["videos"]
    assert listed["true_alerts"] == ["p1"]
    assert listed["false_alerts"] == 0
    assert listed["frames"] == 216
    assert other["alerts"] == 0
    assert other["frames"] == 175
    # Faces processed = faces searched against the watch list (the one definition, see
    # pipeline/counters.py): one search per embedded probe, and a track is re-embedded only every
    # so often, so far fewer than the frames; each clip's face is searched.
    for video in (listed, other):
        assert video["faces_processed"] == video["probes_embedded"] > 0
    assert data["totals"]["faces_processed"] == listed["faces_processed"] + other["faces_processed"]
