"""Lazy access to the optional ``dlib`` package and its model files (``overt[dlib]``).

``dlib`` is imported only when a dlib backend is built, never when ``overt`` is imported.
Loaded models are cached per process (they are large and immutable).
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

from overt.errors import BackendUnavailableError, ModelError
from overt.vision.models import ModelRegistry

INSTALL_HINT = "pip install 'overt[dlib]'"


def import_dlib() -> ModuleType:
    """The ``dlib`` module, or ``BackendUnavailableError`` with the install command."""
    try:
        import dlib
    except ImportError as exc:
        raise BackendUnavailableError(f"the dlib backend needs the dlib package: {INSTALL_HINT}") from exc
    module: ModuleType = dlib
    return module


_lock = threading.Lock()
_loaded: dict[tuple[str, str], Any] = {}


def load_dlib_model(registry: ModelRegistry, model_id: str, loader: str) -> Any:
    """Verify ``model_id``'s file (sha256) and load it with ``dlib.<loader>(path)``, once per process."""
    dlib = import_dlib()
    spec = registry.get(model_id)
    if spec.format != "dlib":
        raise ModelError(f"model {model_id} is not a dlib model")
    path = registry.verified_path(model_id)
    key = (str(path.resolve()), loader)
    with _lock:
        model = _loaded.get(key)
        if model is None:
            try:
                model = getattr(dlib, loader)(str(path))
            except RuntimeError as exc:
                raise ModelError(f"cannot load dlib model {model_id}: {exc}") from exc
            _loaded[key] = model
    return model
