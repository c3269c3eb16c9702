"""Nothing personal reaches the public: every public URL and every exported file is searched for the
subject references, reasons, user names, camera names and image bytes a run left in the store."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from overt.cli.app import main
from tests.public_helpers import PublicWorld, build_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublicWorld]:
    w = build_world(tmp_path_factory.mktemp("leaks"))
    yield w
    w.running.server.stop()
    w.running.store.db.dispose()


def _needles(world: PublicWorld) -> list[tuple[str, bytes]]:
    out = [(s, s.encode()) for s in world.secrets]
    out += [(s, s.lower().encode()) for s in world.secrets]
    for i, img in enumerate(world.images):
        out.append((f"image {i} (raw)", img[200:264]))  # a run of compressed bytes, unique to that image
        out.append((f"image {i} (base64)", base64.b64encode(img)[:64]))
    return out


def _public_urls(world: PublicWorld) -> list[str]:
    deps = [world.ended, world.active, world.upcoming, world.cancelled, world.draft]
    files = ["", "index.html", "retention.html", "rights.html", "deployments.json", "deployments.csv", "feed.atom",
             "style.css"]  # fmt: skip
    return [f"/public/{f}" for f in files] + [f"/public/deployments/{d}.html" for d in deps]


def test_no_public_url_or_exported_file_holds_anything_personal(
    world: PublicWorld, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fetched: dict[str, bytes] = {}
    with httpx.Client(base_url=world.running.url, timeout=30) as anon:
        for url in _public_urls(world):
            r = anon.get(url)
            if url.endswith(f"/{world.draft}.html"):
                assert r.status_code == 404  # a draft is not public at all
                continue
            assert r.status_code == 200, url
            fetched[url] = r.content
    out = tmp_path / "site"
    assert main(["publish", "--out", str(out), "--data-dir", str(world.running.data_dir)]) == 0
    capsys.readouterr()
    exported = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert f"deployments/{world.ended}.html" in exported
    assert f"deployments/{world.draft}.html" not in exported
    assert len(exported) == 7 + 4  # fixed files + the four public deployments
    everything = {**fetched, **{f"export:{k}": v for k, v in exported.items()}}
    for name, needle in _needles(world):
        for where, body in everything.items():
            assert needle not in body, f"{name} leaked into {where}"
    # what must be there is there
    page = fetched[f"/public/deployments/{world.ended}.html"].decode()
    assert "4321" in page
    assert "Confirmed alerts" in page
    assert "Published late, reason: Urgent: a missing child" in page
