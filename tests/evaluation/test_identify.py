"""Splits, galleries and searches on hand-made templates (no model needed)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from overt.errors import InputError
from overt.evaluation.dataset import (
    ImageRecord,
    Split,
    default_split,
    read_exclude,
    read_groups,
    read_split,
    scan_distractors,
    scan_identities,
    with_distractors,
)
from overt.evaluation.identify import EmbeddedImage, build_gallery, evaluate, search, sized_run
from overt.evaluation.metrics import NO_RANK


def _v(*xs: float) -> np.ndarray:
    a = np.array(xs, np.float32)
    return a / np.linalg.norm(a)


def _e(*xs: float) -> EmbeddedImage:
    return EmbeddedImage(_v(*xs), (0.0, 0.0, 10.0, 10.0))


NOFACE = EmbeddedImage(None, None, "no face")


def _rec(name: str, ident: str) -> ImageRecord:
    return ImageRecord(Path(f"/d/{ident}/{name}"), ident)


def test_search_scores_ranks_and_failures() -> None:
    a0, b0, b1 = _rec("0", "A"), _rec("0", "B"), _rec("1", "B")
    a1, a2, b2, c0, c1 = _rec("1", "A"), _rec("2", "A"), _rec("2", "B"), _rec("0", "C"), _rec("1", "C")
    cache = {
        a0.path: _e(1, 0, 0),
        b0.path: _e(0, 1, 0),
        b1.path: NOFACE,  # a gallery image without a face: reported, subject B still has b0
        a1.path: _e(0.9, 0.1, 0),  # mate A rank 1
        b2.path: _e(0.8, 0.6, 0),  # mate B scores 0.6 but A scores 0.8: rank 2
        a2.path: NOFACE,  # mated probe without a face: a miss
        c0.path: _e(0, 0, 1),
        c1.path: NOFACE,
    }
    g = build_gallery([a0, b0, b1], cache)
    assert g.subject_ids == ("A", "B")
    assert g.failed_images == (b1.path,)
    mated = search(g, [a1, b2, a2], cache, mated=True)
    assert mated.score[0] == pytest.approx(float(_v(0.9, 0.1, 0)[0]))
    assert mated.rank.tolist() == [1, 2, NO_RANK]
    assert mated.score[1] == pytest.approx(0.6)
    assert mated.score[2] == -math.inf
    assert mated.failed.tolist() == [False, False, True]
    assert g.template_paths[int(mated.template[1])] == b0.path
    non = search(g, [c0, c1], cache, mated=False)
    assert non.score[0] == pytest.approx(0.0, abs=1e-6)
    assert non.score[1] == -math.inf
    assert non.failed.tolist() == [False, True]


def test_subject_score_is_max_over_templates() -> None:
    a0, a1, p = _rec("0", "A"), _rec("1", "A"), _rec("2", "A")
    cache = {a0.path: _e(1, 0), a1.path: _e(0, 1), p.path: _e(0.1, 1)}
    g = build_gallery([a0, a1], cache)
    s = search(g, [p], cache, mated=True)
    assert s.score[0] == pytest.approx(float(_v(0.1, 1)[1]))
    assert g.template_paths[int(s.template[0])] == a1.path


def _folder(tmp_path: Path, counts: dict[str, int]) -> Path:
    for ident, n in counts.items():
        (tmp_path / ident).mkdir(parents=True)
        for j in range(n):
            (tmp_path / ident / f"{j:02d}.jpg").write_bytes(b"x")
    return tmp_path


def test_default_split_is_seeded_and_holds_out_identities(tmp_path: Path) -> None:
    ids = scan_identities(_folder(tmp_path, {f"id{i:02d}": 3 if i < 10 else 1 for i in range(14)}))
    s1 = default_split(ids, nonmated_share=0.5, seed=3)
    s2 = default_split(ids, nonmated_share=0.5, seed=3)
    assert s1 == s2
    assert len(s1.nonmated_ids) == 7  # 5 of 10 multi-image + 2 of 4 single-image identities
    assert not set(s1.nonmated_ids) & set(s1.enrolled_ids)
    assert all(r.path.name == "00.jpg" for r in s1.enrol)  # first image enrols
    assert {r.identity for r in s1.mated} <= set(s1.enrolled_ids)
    assert len(s1.nonmated) == 5 * 3 + 2
    assert s1.file_list_sha256(tmp_path) == s2.file_list_sha256(tmp_path)
    s3 = default_split(ids, nonmated_share=0.5, seed=4)
    assert s3.nonmated_ids != s1.nonmated_ids


def test_exclude_and_split_csv_and_groups(tmp_path: Path) -> None:
    root = _folder(tmp_path / "ids", {"a": 3, "b": 3, "c": 2})
    ex = tmp_path / "exclude.txt"
    ex.write_text("# label errors\nb\n\n", encoding="utf-8")
    assert read_exclude(ex) == {"b"}
    s = default_split(scan_identities(root), nonmated_share=0.0, exclude=read_exclude(ex))
    assert s.enrolled_ids == ["a", "c"]
    assert s.excluded == ("b",)
    csvf = tmp_path / "split.csv"
    csvf.write_text("path,role\na/00.jpg,enrol\na/01.jpg,probe\nc/00.jpg,probe\nb/00.jpg,enrol\n", encoding="utf-8")
    sp = read_split(csvf, root, exclude={"b"})
    assert sp.enrolled_ids == ["a"]
    assert [r.identity for r in sp.mated] == ["a"]
    assert [r.identity for r in sp.nonmated] == ["c"]
    bad = tmp_path / "bad.csv"
    bad.write_text("path,role\na/00.jpg,maybe\n", encoding="utf-8")
    with pytest.raises(InputError, match="role"):
        read_split(bad, root)
    g = tmp_path / "groups.csv"
    g.write_text("identity,sex,age\na,F,young\nb,M,old\nc,M,\n", encoding="utf-8")
    groups = read_groups(g, exclude={"b"})
    assert groups == {"sex": {"a": "F", "c": "M"}, "age": {"a": "young"}}


def test_distractor_folder_and_clash(tmp_path: Path) -> None:
    d = tmp_path / "extra"
    (d / "x").mkdir(parents=True)
    (d / "x" / "1.png").write_bytes(b"x")
    (d / "loose.jpg").write_bytes(b"x")
    found = scan_distractors(d)
    assert sorted(found) == ["distractor:loose", "distractor:x"]
    base = Split(enrol=(_rec("0", "A"),), mated=(_rec("1", "A"),), nonmated=(_rec("0", "C"),))
    s = with_distractors(base, found)
    assert s.distractor_ids == ["distractor:loose", "distractor:x"]


def _synthetic(
    n_ids: int, per_id: int, dim: int = 64, noise: float = 0.35, seed: int = 0
) -> tuple[Split, dict[Path, EmbeddedImage]]:
    rng = np.random.default_rng(seed)
    scan_like = {f"s{i:03d}": [Path(f"/d/s{i:03d}/{j}.png") for j in range(per_id)] for i in range(n_ids)}
    cache: dict[Path, EmbeddedImage] = {}
    for paths in scan_like.values():
        centre = rng.normal(size=dim)
        for p in paths:
            v = centre / np.linalg.norm(centre) + noise * rng.normal(size=dim) / math.sqrt(dim)
            cache[p] = EmbeddedImage((v / np.linalg.norm(v)).astype(np.float32))
    return default_split(scan_like, nonmated_share=0.5, seed=seed), cache


def test_evaluate_and_watchlist_sizes_never_synthesise() -> None:
    split, cache = _synthetic(80, 3)
    res = evaluate(split, cache, sizes=(10, 40, 100))
    assert res.rank1 == pytest.approx(1.0)
    t01 = res.targets[0]
    assert t01.label == "0.01"
    assert t01.choice.measurable
    assert not res.targets[2].choice.measurable  # 1/6000
    assert res.targets[2].fallback is not None
    assert res.targets[2].fallback.measurable
    by = {s.requested: s for s in res.sizes}
    assert by[10].reached == 10
    assert by[10].complete
    assert by[40].reached == 40
    assert by[40].borrowed_nonmated == 0
    # 100 needs 60 more: at most half of the 40 non-mated identities may be borrowed.
    assert by[100].reached == 60
    assert not by[100].complete
    assert by[100].borrowed_nonmated == 20
    assert by[100].nonmated_searches == 60
    assert "not reached" in str(by[100].to_json()["note"])


def test_sized_run_uses_folder_distractors_first() -> None:
    split, cache = _synthetic(20, 3)
    extra = {f"distractor:{i}": [Path(f"/x/{i}.png")] for i in range(5)}
    rng = np.random.default_rng(1)
    for paths in extra.values():
        v = rng.normal(size=64)
        cache[paths[0]] = EmbeddedImage((v / np.linalg.norm(v)).astype(np.float32))
    s = with_distractors(split, extra)
    run = sized_run(s, cache, 14)
    assert (run.gallery.size, run.folder_distractors, run.borrowed) == (14, 4, 0)


def test_wrong_subject_alerts_on_mated_searches() -> None:
    a0, b0, pa, pb = _rec("0", "A"), _rec("0", "B"), _rec("1", "A"), _rec("1", "B")
    cache = {a0.path: _e(1, 0), b0.path: _e(0, 1), pa.path: _e(1, 0.2), pb.path: _e(1, 0.5)}
    g = build_gallery([a0, b0], cache)
    s = search(g, [pa, pb], cache, mated=True)
    assert s.other is not None
    # pb: mate B scores 0.447, A scores 0.894 -> at 0.5, B is missed and A is alerted instead.
    assert s.rank.tolist() == [1, 2]
    assert s.misidentified_at(0.5) == pytest.approx(0.5)
    assert s.misidentified_at(0.95) == 0.0


def test_borrowing_takes_identities_with_fewest_images_first() -> None:
    rng = np.random.default_rng(2)
    ids = {f"m{i:02d}": [Path(f"/d/m{i:02d}/{j}.png") for j in range(2)] for i in range(10)}
    held = {f"n{i:02d}": [Path(f"/d/n{i:02d}/{j}.png") for j in range(1 if i < 4 else 5)] for i in range(8)}
    unit = {p: _v(*rng.normal(size=8)) for v in (*ids.values(), *held.values()) for p in v}
    cache = {p: EmbeddedImage(v) for p, v in unit.items()}
    split = Split(
        enrol=tuple(ImageRecord(v[0], k) for k, v in ids.items()),
        mated=tuple(ImageRecord(v[1], k) for k, v in ids.items()),
        nonmated=tuple(ImageRecord(p, k) for k, v in held.items() for p in v),
    )
    run = sized_run(split, cache, 13)  # 10 enrolled + 3 borrowed
    assert run.borrowed == 3
    assert len(run.nonmated) == 4 * 1 + 4 * 5 - 3  # three single-image identities left the searches
