from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from overt.errors import InputError
from overt.evaluation.pairs import (
    best_threshold,
    evaluate_scores,
    plot_roc,
    read_csv_pairs,
    read_lfw_pairs,
    roc_points,
    run_pairs,
    tar_at_far,
)


def test_lfw_pairs_with_header_folds(tmp_path: Path) -> None:
    # 2 folds of 1 genuine + 1 impostor pair each.
    pf = tmp_path / "pairs.txt"
    pf.write_text("2\t1\nAlice\t1\t2\nAlice\t1\tBob\t3\nBob\t2\t3\nCarol\t1\tAlice\t12\n", encoding="utf-8")
    pairs = read_lfw_pairs(pf, tmp_path / "lfw")
    assert [p.fold for p in pairs] == [0, 0, 1, 1]
    assert [p.same for p in pairs] == [True, False, True, False]
    assert pairs[0].path_a == tmp_path / "lfw" / "Alice" / "Alice_0001.jpg"
    assert pairs[0].path_b == tmp_path / "lfw" / "Alice" / "Alice_0002.jpg"
    assert pairs[3].path_b == tmp_path / "lfw" / "Alice" / "Alice_0012.jpg"


def test_lfw_pairs_without_header_deal_into_ten_folds(tmp_path: Path) -> None:
    pf = tmp_path / "pairs.txt"
    pf.write_text("\n".join(f"P{i} 1 2" for i in range(12)) + "\n\n", encoding="utf-8")
    assert [p.fold for p in read_lfw_pairs(pf, tmp_path)] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


@pytest.mark.parametrize(
    ("text", "match"),
    [("", "empty"), ("A 1\n", "3 or 4 fields"), ("A 1 2 3 4\n", "3 or 4 fields"), ("A x 2\n", "bad image number")],
)
def test_lfw_pairs_errors(tmp_path: Path, text: str, match: str) -> None:
    pf = tmp_path / "pairs.txt"
    pf.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_lfw_pairs(pf, tmp_path)


def test_lfw_pairs_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_lfw_pairs(tmp_path / "nope.txt", tmp_path)


def test_csv_pairs_file_x_file_y_yes_no(tmp_path: Path) -> None:
    cf = tmp_path / "p.csv"
    cf.write_text("file_x,file_y,decision\na.jpg,b.jpg,Yes\na.jpg,/abs/c.jpg,No\nb.jpg,d.jpg,yes\n", encoding="utf-8")
    pairs = read_csv_pairs(cf)
    assert [p.same for p in pairs] == [True, False, True]
    assert pairs[0].path_a == tmp_path / "a.jpg"
    assert pairs[1].path_b == Path("/abs/c.jpg")
    # Genuine and impostor pairs are dealt into folds separately.
    assert [p.fold for p in pairs] == [0, 0, 1]
    other = read_csv_pairs(cf, tmp_path / "imgs")
    assert other[0].path_a == tmp_path / "imgs" / "a.jpg"


def test_csv_pairs_path_a_columns(tmp_path: Path) -> None:
    cf = tmp_path / "p.csv"
    cf.write_text("path_a,path_b,same\nx.png,y.png,1\nx.png,z.png,0\nx.png,z.png,true\nx.png,z.png,FALSE\n")
    assert [p.same for p in read_csv_pairs(cf)] == [True, False, True, False]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "no pairs"),
        ("a,b,c\n1,2,3\n", "needs columns"),
        ("path_a,path_b,same\nx,y,maybe\n", "line 2"),
        ("path_a,path_b,same\n,y,1\n", "empty path"),
    ],
)
def test_csv_pairs_errors(tmp_path: Path, text: str, match: str) -> None:
    cf = tmp_path / "p.csv"
    cf.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        read_csv_pairs(cf)


def test_best_threshold_separable() -> None:
    s = np.array([0.1, 0.2, 0.8, 0.9])
    y = np.array([False, False, True, True])
    t = best_threshold(s, y)
    assert 0.2 < t <= 0.8
    assert best_threshold(np.array([math.inf, -math.inf]), np.array([False, True])) == 0.0


def test_ten_fold_known_answer() -> None:
    # 10 folds of 10 pairs: genuine 0.9, impostor 0.1, except one impostor at 0.95 in each fold.
    # Whatever threshold each fold picks, that impostor is accepted: accuracy exactly 0.9.
    scores, same, folds = [], [], []
    for k in range(10):
        scores += [0.9] * 5 + [0.1] * 4 + [0.95]
        same += [True] * 5 + [False] * 5
        folds += [k] * 10
    res = evaluate_scores(scores, same, folds)
    assert res.pairs == 100
    assert res.genuine == 50
    assert res.impostor == 50
    assert res.accuracy == pytest.approx(0.9)
    assert res.accuracy_std == pytest.approx(0.0)
    assert len(res.fold_accuracies) == 10
    assert 0.1 < res.threshold <= 0.9


def test_ten_fold_threshold_is_chosen_on_other_folds() -> None:
    # Fold 0's impostors score 0.6, every other fold's 0.0; genuines score 0.5 everywhere.
    # Trained without fold 0, the threshold sits under 0.5, so fold 0's impostors are all accepted.
    scores, same, folds = [], [], []
    for k in range(10):
        scores += [0.5] * 5 + ([0.6] if k == 0 else [0.0]) * 5
        same += [True] * 5 + [False] * 5
        folds += [k] * 10
    res = evaluate_scores(scores, same, folds)
    assert res.fold_accuracies[0] == pytest.approx(0.5)
    assert res.fold_accuracies[1:] == pytest.approx((1.0,) * 9)
    assert res.accuracy == pytest.approx(0.95)


def test_failures_are_errors_never_dropped() -> None:
    scores = [0.9, math.nan, 0.1, math.nan] * 5
    same = [True, True, False, False] * 5
    folds = [i % 10 for i in range(20)]
    res = evaluate_scores(scores, same, folds)
    assert res.pairs == 20
    assert res.detect_failures == 10
    assert res.accuracy == pytest.approx(0.5)


def test_tar_at_far_by_hand() -> None:
    imp = np.linspace(0.0, 0.99, 100)  # 100 impostors 0.00 .. 0.99
    gen = np.array([0.5, 0.97, 0.985, 0.995, 1.0])
    s = np.concatenate([gen, imp])
    y = np.concatenate([np.ones(5, bool), np.zeros(100, bool)])
    # FAR 1e-2 allows 1 of 100 impostors: threshold just above the 2nd highest (0.98).
    tar, t = tar_at_far(s, y, 1e-2)
    assert 0.98 < t < 0.9801
    assert tar == pytest.approx(3 / 5)
    assert float(np.mean(imp >= t)) <= 1e-2
    # FAR 1e-3 allows none: just above 0.99.
    tar, t = tar_at_far(s, y, 1e-3)
    assert 0.99 < t < 0.9901
    assert tar == pytest.approx(2 / 5)
    nan_tar, _ = tar_at_far(gen, np.ones(5, bool), 1e-2)
    assert math.isnan(nan_tar)


def test_tar_at_far_with_failed_impostor() -> None:
    s = np.array([0.9, math.inf, 0.1])
    y = np.array([True, False, False])
    tar, t = tar_at_far(s, y, 1e-3)
    assert tar == 0.0
    assert math.isinf(t)


def test_run_pairs_embeds_each_image_once(tmp_path: Path) -> None:
    from overt.evaluation.pairs import Pair

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    vecs = {a: np.array([1.0, 0.0], np.float32), b: np.array([0.8, 0.6], np.float32), c: None}
    seen: list[Path] = []

    def embed(p: Path) -> np.ndarray | None:
        seen.append(p)
        return vecs[p]

    pairs = [Pair(a, b, True, 0), Pair(a, c, False, 1), Pair(b, c, True, 0)]
    progress: list[tuple[int, int]] = []
    res, scores = run_pairs(pairs, embed, progress=lambda i, n: progress.append((i, n)))
    assert sorted(seen) == sorted([a, b, c])
    assert progress[-1] == (3, 3)
    assert scores[0] == pytest.approx(0.8)
    assert math.isnan(scores[1])
    assert math.isnan(scores[2])
    assert res.images == 3
    assert res.failed_images == 1
    assert res.detect_failures == 2


def test_roc_and_plot(tmp_path: Path) -> None:
    s = np.array([0.9, 0.8, 0.3, 0.1, math.nan])
    y = np.array([True, True, False, False, True])
    far, tar = roc_points(s, y)
    assert far[-1] == 1.0
    assert tar[-1] == 1.0
    assert tar[1] == pytest.approx(2 / 3)
    out = plot_roc(s, y, tmp_path / "sub" / "roc.png", title="t")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
