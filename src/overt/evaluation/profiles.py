"""Model profiles: a threshold calibrated for a target FPIR and watch-list size, with provenance.

A profile lives at ``<data-dir>/profiles/<name>.json``. The data directory is ``--data-dir``,
else ``$OVERT_DATA_DIR``, else a per-user folder (``$XDG_DATA_HOME/overt`` or
``~/.local/share/overt`` on Linux, ``~/Library/Application Support/overt`` on macOS,
``%LOCALAPPDATA%\\overt`` on Windows). Profile names are short slugs chosen by the operator
(``^[a-z0-9][a-z0-9_.-]{0,63}$``); they must not name people. Deployments read a profile with
:func:`load_profile` and show its expected false alerts per 1,000 faces and its miss rate.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from pydantic import ConfigDict, Field, ValidationError

from overt.config import StrictModel, default_data_dir
from overt.errors import ConfigError, InputError, StorageError

PROFILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
SCHEMA = "overt.profile/1"


def profile_path(name: str, data_dir: str | Path | None = None) -> Path:
    if not PROFILE_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(f"profile name must match {PROFILE_NAME.pattern} (got {name!r})")
    root = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    return root / "profiles" / f"{name}.json"


class CalibrationData(StrictModel):
    """What the threshold was measured on."""

    identities_dir: str = Field(description="Folder of identities (as given on the command line).")
    file_list_sha256: str = Field(description="sha256 of the sorted (role, identity, path) list used.")
    identities: int = Field(ge=0)
    images: int = Field(ge=0)
    enrolled_subjects: int = Field(ge=0)
    mated_searches: int = Field(ge=0)
    nonmated_searches: int = Field(ge=0, description="Non-mated searches at the calibrated watch-list size.")
    distractor_identities: int = Field(ge=0)
    excluded_identities: int = Field(ge=0)
    split_rule: str
    seed: int
    detection_failures: int = Field(ge=0, description="Images in which no face was found (counted, not dropped).")


class ModelProfile(StrictModel):
    """A calibrated operating point for one model. ``min_similarity``: alert when score >= it."""

    schema_: str = Field(default=SCHEMA, alias="schema")
    name: str
    model_id: str
    model_sha256: str
    detector_id: str
    detector_sha256: str
    min_similarity: float = Field(ge=-1.0, le=1.0, description="Alert threshold (higher is stricter).")
    target_fpir: float = Field(gt=0, lt=1)
    measured_fpir: float = Field(ge=0, le=1, description="FPIR measured at min_similarity.")
    watchlist_size: int = Field(ge=1, description="Requested watch-list size.")
    watchlist_size_reached: int = Field(ge=1, description="Gallery size actually simulated.")
    tpir: float = Field(ge=0, le=1)
    fnir: float = Field(ge=0, le=1)
    rank: int = Field(ge=1, description="Rank at which a mate counts as found (1: top candidate only).")
    expected_false_alerts_per_1000_faces: float = Field(
        ge=0, description="1000 x target FPIR: false alerts expected per 1,000 faces of people not on the list."
    )
    measured_false_alerts_per_1000_faces: float = Field(ge=0)
    data: CalibrationData
    created_utc: str
    command: str
    overt_version: str

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def save_profile(profile: ModelProfile, data_dir: str | Path | None = None) -> Path:
    """Write ``<data-dir>/profiles/<name>.json`` atomically (temp file + rename)."""
    path = profile_path(profile.name, data_dir)
    text = profile.model_dump_json(indent=2, by_alias=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".profile-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise StorageError(f"cannot write profile {profile.name}: {exc}") from exc
    return path


def load_profile(name: str, data_dir: str | Path | None = None) -> ModelProfile:
    """Read a profile written by ``overt calibrate``; a clear error when missing or invalid."""
    path = profile_path(name, data_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"profile {name!r} not found in {path.parent} (run `overt calibrate`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"cannot read profile {name!r}: {exc}") from exc
    try:
        return ModelProfile.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise InputError(f"profile {name!r} is invalid: {loc}: {first['msg']}") from None
