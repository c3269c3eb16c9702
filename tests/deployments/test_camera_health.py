"""The console's camera state carries the stream-integrity flags raised now (camera health)."""

from __future__ import annotations

from pathlib import Path

from overt.alerts import MemorySink
from overt.api.live import LiveHub
from overt.deployments.runtime import PipelineSupervisor
from overt.sources.integrity import IntegrityFlag, IntegrityStatus
from overt.store.datadir import init_data_dir


class _Pipeline:
    def __init__(self) -> None:
        self.flags: tuple[IntegrityFlag, ...] = (
            IntegrityFlag("frozen", True, 1, 3.0),
            IntegrityFlag("loop", False, 0, None),
        )

    def integrity(self) -> tuple[IntegrityStatus, ...]:
        return (IntegrityStatus("cam-1", 100, self.flags), IntegrityStatus("cam-2", 100, ()))


def test_camera_message_names_the_suspect_camera_and_its_flags(tmp_path: Path) -> None:
    store = init_data_dir(tmp_path / "data")
    hub = LiveHub()
    sup = PipelineSupervisor(store, 1, ["clip.mp4"], engine_factory=object, sink_factory=MemorySink, live=hub)
    p = _Pipeline()
    sup._health(p)  # type: ignore[arg-type]
    state = hub.get(1)
    assert state is not None
    assert state.camera_connected
    assert state.camera_message == "camera connected; integrity: cam-1 frozen"
    p.flags = (IntegrityFlag("frozen", False, 1, 3.0),)
    sup._health(p)  # type: ignore[arg-type]
    state = hub.get(1)
    assert state is not None
    assert state.camera_message == "camera connected"
    store.db.dispose()
