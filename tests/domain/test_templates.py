from __future__ import annotations

import math

import numpy as np
import pytest

from overt.domain.templates import Template, cosine_similarity
from overt.errors import InputError

VEC = np.array([0.123456, -0.654321, 0.5, 0.25], np.float32)


def test_normalises_and_freezes() -> None:
    t = Template(vector=VEC * 3, model_id="m")
    assert abs(float(np.linalg.norm(t.vector)) - 1.0) < 1e-6
    assert t.dim == 4
    assert not t.vector.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        t.vector[0] = 1.0


def test_copies_its_input() -> None:
    v = VEC / np.linalg.norm(VEC)
    t = Template(vector=v, model_id="m")
    v[0] = 99.0
    assert t.vector[0] != 99.0


@pytest.mark.parametrize(
    "vector",
    [
        np.zeros(4, np.float32),
        np.array([1.0, math.nan, 0.0], np.float32),
        np.array([1.0, math.inf, 0.0], np.float32),
        np.zeros((2, 2), np.float32),
        np.zeros(0, np.float32),
    ],
)
def test_rejects_bad_vectors(vector: np.ndarray) -> None:
    with pytest.raises(InputError):
        Template(vector=vector, model_id="m")


def test_rejects_empty_model_id() -> None:
    with pytest.raises(InputError):
        Template(vector=VEC, model_id="")


def test_repr_str_and_fstring_are_redacted() -> None:
    t = Template(vector=VEC, model_id="arcface")
    texts = [repr(t), str(t), f"{t}", f"{t!r}", f"{t:}", repr([t]), repr({"t": t})]
    texts.append("%s" % t)  # noqa: UP031 - old-style formatting must be redacted too
    for text in texts:
        assert "redacted" in text
        assert "arcface" in text or "Template" in text
        for number in ("0.1", "0.6", "0.5", "0.2", "123", "654", "e-0"):
            assert number not in text, text


def test_equality_is_identity() -> None:
    a = Template(vector=VEC, model_id="m")
    b = Template(vector=VEC, model_id="m")
    assert a == a
    assert a != b


def test_cosine_similarity() -> None:
    a = Template(vector=np.array([1.0, 0.0], np.float32), model_id="m")
    b = Template(vector=np.array([0.0, 1.0], np.float32), model_id="m")
    c = Template(vector=np.array([-1.0, 0.0], np.float32), model_id="m")
    assert cosine_similarity(a, a) == pytest.approx(1.0)
    assert cosine_similarity(a, b) == pytest.approx(0.0)
    assert cosine_similarity(a, c) == pytest.approx(-1.0)


def test_cosine_refuses_mixed_models_and_sizes() -> None:
    a = Template(vector=np.array([1.0, 0.0], np.float32), model_id="m")
    with pytest.raises(InputError, match="different models"):
        cosine_similarity(a, Template(vector=np.array([1.0, 0.0], np.float32), model_id="n"))
    with pytest.raises(InputError, match="sizes"):
        cosine_similarity(a, Template(vector=np.array([1.0, 0.0, 0.0], np.float32), model_id="m"))
