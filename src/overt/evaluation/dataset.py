"""Identity folders, enrolment/probe splits, exclusions and group labels for 1:N evaluation.

Layout: ``DIR/<identity>/<image>`` (LFW, ORL, ...). Images directly inside ``DIR`` are ignored.
The *split* decides which identities are on the watch list and which images enrol:

* Default rule: a seeded share of identities (``nonmated_share``) is held out as **non-mated**
  (people not on the list; every one of their images is a non-mated search). The held-out
  share is drawn separately from identities with several images and from those with one, so
  both roles get both kinds. For every enrolled identity the first image (natural file-name order)
  enrols and the rest are **mated** probes; an enrolled identity with one image only enrols.
* ``--split CSV`` (columns ``path,role`` with role ``enrol`` or ``probe``, optional
  ``identity``; paths relative to DIR): identities with an ``enrol`` row are on the list, probes
  of other identities are non-mated. Images the CSV does not name are not used.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from overt.errors import InputError

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".pgm", ".ppm", ".bmp", ".tif", ".tiff", ".webp"})


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One image and the identity label it belongs to."""

    path: Path
    identity: str


@dataclass(frozen=True, slots=True)
class Split:
    """Who enrols with which images, and which images search.

    ``enrol``: gallery images of listed subjects. ``mated``: probes of listed subjects.
    ``nonmated``: probes of people not on the list. ``distractors``: gallery-only images of
    extra identities (never searched), used to grow the watch list.
    """

    enrol: tuple[ImageRecord, ...]
    mated: tuple[ImageRecord, ...]
    nonmated: tuple[ImageRecord, ...]
    distractors: tuple[ImageRecord, ...] = ()
    rule: str = "first image enrols, the rest probe"
    seed: int = 0
    nonmated_share: float = 0.0
    excluded: tuple[str, ...] = field(default=())

    @property
    def enrolled_ids(self) -> list[str]:
        return sorted({r.identity for r in self.enrol})

    @property
    def nonmated_ids(self) -> list[str]:
        return sorted({r.identity for r in self.nonmated})

    @property
    def distractor_ids(self) -> list[str]:
        return sorted({r.identity for r in self.distractors})

    def all_images(self) -> list[Path]:
        return sorted({r.path for r in (*self.enrol, *self.mated, *self.nonmated, *self.distractors)})

    def file_list_sha256(self, root: Path | None = None) -> str:
        """sha256 of the sorted (role, identity, relative path) list: identifies the data used."""
        h = hashlib.sha256()
        for role, recs in (
            ("enrol", self.enrol),
            ("mated", self.mated),
            ("nonmated", self.nonmated),
            ("distractor", self.distractors),
        ):
            for r in sorted(recs, key=lambda x: (x.identity, str(x.path))):
                p = r.path
                if root is not None:
                    with contextlib.suppress(ValueError):
                        p = p.relative_to(root)
                h.update(f"{role}\t{r.identity}\t{p.as_posix()}\n".encode())
        return h.hexdigest()


def natural_key(name: str) -> list[tuple[int, int | str]]:
    """Sort key that orders ``2.jpg`` before ``10.jpg`` (zero-padded names sort as usual)."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", name) if t]


def _is_image(p: Path) -> bool:
    return p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def scan_identities(root: str | Path) -> dict[str, list[Path]]:
    """``{identity: sorted image paths}`` for ``root/<identity>/<image>`` (symlinks followed)."""
    d = Path(root)
    if not d.is_dir():
        raise InputError(f"{d}: not a folder of identities")
    out: dict[str, list[Path]] = {}
    for sub in sorted(p for p in d.iterdir() if p.is_dir() and not p.name.startswith(".")):
        imgs = sorted((p for p in sub.iterdir() if _is_image(p)), key=lambda p: natural_key(p.name))
        if imgs:
            out[sub.name] = imgs
    if not out:
        raise InputError(f"{d}: no identity folders with images (expected DIR/<identity>/<image>)")
    return out


def scan_distractors(root: str | Path) -> dict[str, list[Path]]:
    """Extra faces: each sub-folder is one identity; each loose image is an identity of its own."""
    d = Path(root)
    if not d.is_dir():
        raise InputError(f"{d}: distractor folder not found")
    out: dict[str, list[Path]] = {}
    for p in sorted(d.iterdir()):
        if p.name.startswith("."):
            continue
        if p.is_dir():
            imgs = sorted((q for q in p.iterdir() if _is_image(q)), key=lambda q: natural_key(q.name))
            if imgs:
                out[f"distractor:{p.name}"] = imgs
        elif _is_image(p):
            out[f"distractor:{p.stem}"] = [p]
    if not out:
        raise InputError(f"{d}: no distractor images found")
    return out


def read_exclude(path: str | Path) -> set[str]:
    """Identities to drop, one per line (``#`` comments and blank lines ignored)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read exclude list: {exc}") from exc
    return {ln.split("#", 1)[0].strip() for ln in text.splitlines()} - {""}


def default_split(
    identities: dict[str, list[Path]],
    *,
    nonmated_share: float = 0.5,
    seed: int = 0,
    exclude: Iterable[str] = (),
    enrol_per_subject: int = 1,
) -> Split:
    """Hold out a seeded share of identities as non-mated; the first image(s) of the rest enrol."""
    if not 0.0 <= nonmated_share < 1.0:
        raise InputError(f"nonmated share must be in [0, 1), got {nonmated_share}")
    if enrol_per_subject < 1:
        raise InputError("enrol_per_subject must be >= 1")
    excl = set(exclude)
    ids = sorted(i for i in identities if i not in excl)
    if len(ids) < 2:
        raise InputError(f"need at least 2 identities, found {len(ids)}")
    rng = random.Random(seed)
    multi = [i for i in ids if len(identities[i]) > enrol_per_subject]
    single = [i for i in ids if len(identities[i]) <= enrol_per_subject]
    held: set[str] = set()
    for pool in (multi, single):
        shuffled = pool[:]
        rng.shuffle(shuffled)
        held.update(shuffled[: round(nonmated_share * len(shuffled))])
    enrol: list[ImageRecord] = []
    mated: list[ImageRecord] = []
    nonmated: list[ImageRecord] = []
    for i in ids:
        imgs = identities[i]
        if i in held:
            nonmated.extend(ImageRecord(p, i) for p in imgs)
        else:
            enrol.extend(ImageRecord(p, i) for p in imgs[:enrol_per_subject])
            mated.extend(ImageRecord(p, i) for p in imgs[enrol_per_subject:])
    if not enrol:
        raise InputError("no identity left to enrol (lower the non-mated share)")
    rule = "first image enrols, the rest probe" if enrol_per_subject == 1 else f"first {enrol_per_subject} enrol"
    return Split(
        enrol=tuple(enrol),
        mated=tuple(mated),
        nonmated=tuple(nonmated),
        rule=rule,
        seed=seed,
        nonmated_share=nonmated_share,
        excluded=tuple(sorted(excl & set(identities))),
    )


def read_split(
    csv_path: str | Path,
    root: str | Path,
    *,
    exclude: Iterable[str] = (),
) -> Split:
    """Split from a CSV ``path,role[,identity]``; identity defaults to the parent folder's name."""
    cp, base = Path(csv_path), Path(root)
    try:
        with cp.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{cp}: cannot read split CSV: {exc}") from exc
    if not rows:
        raise InputError(f"{cp}: empty split CSV")
    cols = {c.strip().lower(): c for c in rows[0] if c is not None}
    if "path" not in cols or "role" not in cols:
        raise InputError(f"{cp}: needs columns path,role[,identity] (found: {', '.join(cols)})")
    excl = set(exclude)
    enrol_rows: list[ImageRecord] = []
    probe_rows: list[ImageRecord] = []
    for n, row in enumerate(rows, start=2):
        raw = (row.get(cols["path"]) or "").strip()
        role = (row.get(cols["role"]) or "").strip().lower()
        if not raw:
            raise InputError(f"{cp}: line {n}: empty path")
        p = Path(raw)
        p = p if p.is_absolute() else base / p
        ident = (row.get(cols["identity"]) or "").strip() if "identity" in cols else ""
        ident = ident or p.parent.name
        if ident in excl:
            continue
        if role in ("enrol", "enroll", "gallery"):
            enrol_rows.append(ImageRecord(p, ident))
        elif role in ("probe", "search"):
            probe_rows.append(ImageRecord(p, ident))
        else:
            raise InputError(f"{cp}: line {n}: role must be enrol or probe, got {role!r}")
    if not enrol_rows:
        raise InputError(f"{cp}: no enrol rows")
    listed = {r.identity for r in enrol_rows}
    return Split(
        enrol=tuple(enrol_rows),
        mated=tuple(r for r in probe_rows if r.identity in listed),
        nonmated=tuple(r for r in probe_rows if r.identity not in listed),
        rule=f"split CSV {cp.name}",
        excluded=tuple(sorted(excl)),
    )


def with_distractors(split: Split, distractors: dict[str, list[Path]], *, per_identity: int = 1) -> Split:
    """Add gallery-only distractor identities (their first ``per_identity`` images enrol)."""
    clash = set(distractors) & ({r.identity for r in split.enrol} | {r.identity for r in split.nonmated})
    if clash:
        raise InputError(f"{len(clash)} distractor identities clash with evaluation identities")
    recs = tuple(ImageRecord(p, i) for i, paths in sorted(distractors.items()) for p in paths[:per_identity])
    return Split(
        enrol=split.enrol,
        mated=split.mated,
        nonmated=split.nonmated,
        distractors=split.distractors + recs,
        rule=split.rule,
        seed=split.seed,
        nonmated_share=split.nonmated_share,
        excluded=split.excluded,
    )


def read_groups(path: str | Path, *, exclude: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """``{attribute: {identity: value}}`` from a CSV whose first column (or ``identity``) names
    the identity and whose other columns are user-defined attributes. Empty cells are skipped."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{p}: cannot read groups CSV: {exc}") from exc
    if not header or len(header) < 2:
        raise InputError(f"{p}: groups CSV needs an identity column and at least one attribute column")
    names = [h.strip() for h in header]
    id_col = names.index("identity") if "identity" in names else 0
    excl = set(exclude)
    out: dict[str, dict[str, str]] = {n: {} for j, n in enumerate(names) if j != id_col}
    for n, row in enumerate(rows, start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(names):
            raise InputError(f"{p}: line {n}: expected {len(names)} fields, got {len(row)}")
        ident = row[id_col].strip()
        if ident in excl:
            continue
        for j, name in enumerate(names):
            if j != id_col and row[j].strip():
                out[name][ident] = row[j].strip()
    return out
