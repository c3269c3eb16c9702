"""``overt eval identify`` and ``overt calibrate`` on a tiny identities folder made from a sample photo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from overt.cli.app import main
from overt.evaluation.profiles import load_profile
from tests.evaluation.tiny_faces import make_identities


@pytest.fixture(scope="module")
def tiny_ids(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_identities(tmp_path_factory.mktemp("ids"), n_ids=12, per_id=3)


def test_identify_json_report_groups_exclude(
    tiny_ids: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    groups = tmp_path / "groups.csv"
    groups.write_text(
        "identity,row\n" + "".join(f"p{k:02d},{'left' if k < 6 else 'right'}\n" for k in range(12)),
        encoding="utf-8",
    )
    exclude = tmp_path / "exclude.txt"
    exclude.write_text("p11\n", encoding="utf-8")
    report = tmp_path / "out" / "report.html"
    det = tmp_path / "out" / "det.png"
    argv = ["eval", "identify", "--identities", str(tiny_ids), "--groups", str(groups), "--exclude", str(exclude)]
    argv += ["--sizes", "3,20", "--report", str(report), "--det", str(det), "--bootstrap", "200", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    c = data["counts"]
    assert c["identities"] == 11
    assert c["excluded_identities"] == 1
    assert c["images"] == 33
    assert c["mated_searches"] + c["nonmated_searches"] + c["enrolment_images"] == 33
    assert data["meta"]["model_sha256"]
    assert data["meta"]["excluded"] == ["p11"]
    assert data["meta"]["command"].startswith("overt ")
    assert data["rank1"] >= 0.9  # flips and darkened copies of the same face
    assert data["fnir_at_fpir"]["1/6000"]["measurable"] is False
    assert data["fnir_at_fpir"]["1/6000"]["threshold"] is None
    assert "not measurable" in data["fnir_at_fpir"]["1/6000"]["note"]
    sizes = {s["requested"]: s for s in data["watchlist_sizes"]}
    assert sizes[3]["reached"] == 3
    assert sizes[20]["complete"] is False
    assert sizes[20]["reached"] < 20
    assert data["fairness"]["groups"]
    assert "Holm" in data["fairness"]["method"]
    assert {g["group"] for g in data["fairness"]["groups"]} == {"left", "right"}
    curves = data["fairness"]["by_threshold"]
    assert len(curves["attributes"]["row"]["left"]["fnir"]) == len(curves["thresholds"])
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "data:image/png;base64," in html
    assert "data:image/jpeg;base64," in html  # thumbnails of the worst pairs
    assert "p11" not in json.dumps(data["highest_nonmated_pairs"])
    assert det.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_identify_table_output(tiny_ids: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "identify", "--identities", str(tiny_ids), "--sizes", "5"]) == 0
    out = capsys.readouterr().out
    assert "FNIR at FPIR" in out
    assert "rank-1" in out
    assert "not measurable" in out


def test_calibrate_writes_profile(tiny_ids: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["calibrate", "--identities", str(tiny_ids), "--target-fpir", "1/18", "--watchlist-size", "6"]
    argv += ["--profile", "tiny", "--data-dir", str(tmp_path), "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["profile_path"] == str(tmp_path / "profiles" / "tiny.json")
    prof = load_profile("tiny", tmp_path)
    assert prof.watchlist_size == 6
    assert prof.target_fpir == pytest.approx(1 / 18)
    assert prof.measured_fpir <= 1 / 18
    assert prof.model_id == "arcface_w600k_mbf"
    assert len(prof.model_sha256) == 64
    assert prof.data.file_list_sha256
    assert prof.command.startswith("overt ")


def test_calibrate_unmeasurable_target_is_one_line_error(
    tiny_ids: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["calibrate", "--identities", str(tiny_ids), "--watchlist-size", "6", "--profile", "tiny"]
    argv += ["--data-dir", str(tmp_path)]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "not measurable" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "profiles" / "tiny.json").exists()


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["eval", "identify", "--identities", "/nonexistent/ids"], 3),
        (["eval", "identify", "--identities", "{ids}", "--sizes", "ten"], 3),
        (["calibrate", "--identities", "{ids}", "--watchlist-size", "5", "--profile", "Bad Name"], 2),
        (["calibrate", "--identities", "{ids}", "--watchlist-size", "5", "--profile", "x", "--target-fpir", "2"], 3),
    ],
)
def test_bad_input_is_a_clear_error(
    tiny_ids: Path, argv: list[str], code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([a.replace("{ids}", str(tiny_ids)) for a in argv]) == code
    assert capsys.readouterr().err.startswith("overt: error:")
