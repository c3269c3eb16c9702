from __future__ import annotations

import pytest

from overt.errors import ModelError
from overt.samples import SAMPLE_IMAGES, sample_image
from overt.vision.imageio import read_image


@pytest.mark.parametrize(
    ("name", "shape"), [("yaoming", (287, 233, 3)), ("gdp", (665, 500, 3)), ("players", (800, 1237, 3))]
)
def test_samples_ship_with_the_model_package(name: str, shape: tuple[int, int, int]) -> None:
    assert name in SAMPLE_IMAGES
    assert read_image(sample_image(name)).shape == shape


def test_unknown_sample() -> None:
    with pytest.raises(ModelError, match="unknown sample image 'lena'"):
        sample_image("lena")
