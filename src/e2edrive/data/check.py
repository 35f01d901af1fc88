"""Clip validation and quarantine: a bad clip is moved aside with a one-line reason, never silently used."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_text
from e2edrive.data.clip import OPTIONAL_SIGNAL_SCHEMA, SCHEMA_VERSION, SIGNAL_SCHEMA, read_video

QUARANTINE = "quarantine"
REASON_FILE = "REASON.txt"


@dataclass(frozen=True)
class CheckConfig:
    max_gap_s: float = 0.15
    """Largest allowed step between consecutive timestamps (1.5 frames at 10 Hz)."""
    decode_video: bool = True

    def __post_init__(self) -> None:
        if self.max_gap_s <= 0:
            raise ValueError(f"max_gap_s={self.max_gap_s} must be positive")


def check_signals(path: Path, config: CheckConfig = CheckConfig()) -> tuple[str | None, int]:
    """Validate signals.parquet; returns (problem or None, row count)."""
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - any read failure is the reason
        return f"signals.parquet unreadable: {type(exc).__name__}", 0
    for field in SIGNAL_SCHEMA:
        if field.name not in table.column_names:
            return f"signals column {field.name!r} missing", table.num_rows
        actual = table.schema.field(field.name).type
        if actual != field.type:
            return f"signals column {field.name!r} has type {actual}, expected {field.type}", table.num_rows
    for field in OPTIONAL_SIGNAL_SCHEMA:
        if field.name in table.column_names and table.schema.field(field.name).type != field.type:
            actual = table.schema.field(field.name).type
            return f"signals column {field.name!r} has type {actual}, expected {field.type}", table.num_rows
    if table.num_rows == 0:
        return "signals.parquet has no rows", 0
    for field in SIGNAL_SCHEMA:
        if pa.types.is_floating(field.type):
            values = table.column(field.name).drop_null().to_numpy()
            if values.size and not np.all(np.isfinite(values)):
                return f"signals column {field.name!r} has NaN or inf", table.num_rows
    t = table.column("time_s").to_numpy()
    steps = np.diff(t)
    if steps.size and np.any(steps <= 0):
        return "timestamps not strictly increasing", table.num_rows
    if steps.size and steps.max() > config.max_gap_s + 1e-9:
        return f"timestamp gap {steps.max():.3f} s > {config.max_gap_s} s", table.num_rows
    return None, table.num_rows


def check_clip(clip: Path, config: CheckConfig = CheckConfig()) -> str | None:
    """The first problem found in a clip, as one line, or None when it is valid."""
    clip = Path(clip)
    try:
        meta = json.loads((clip / "meta.json").read_text())
    except Exception as exc:  # noqa: BLE001
        return f"meta.json unreadable: {type(exc).__name__}"
    if meta.get("schema_version") != SCHEMA_VERSION:
        return f"schema_version {meta.get('schema_version')!r} != {SCHEMA_VERSION}"
    cameras = meta.get("cameras") or []
    missing = set(meta.get("missing_streams", []))
    if not cameras and "video" not in missing:
        return "no cameras in meta.json and video not declared missing"
    if "calibration" not in missing and any("intrinsics" not in c or "name" not in c for c in cameras):
        return "camera calibration missing from meta.json"
    problem, rows = check_signals(clip / "signals.parquet", config)
    if problem:
        return problem
    for cam in cameras:
        video = clip / f"{cam['name']}.mp4"
        if not video.exists() or video.stat().st_size == 0:
            return f"{video.name} missing or empty"
        if config.decode_video:
            try:
                frames = read_video(video)
            except Exception as exc:  # noqa: BLE001
                return f"{video.name} does not decode: {type(exc).__name__}"
            if len(frames) != rows:
                return f"{video.name} has {len(frames)} frames but signals have {rows} rows"
    return None


def quarantine(root: Path, clip: Path, reason: str) -> Path:
    dest_root = Path(root) / QUARANTINE
    dest_root.mkdir(exist_ok=True)
    dest = dest_root / clip.name
    if dest.exists():
        shutil.rmtree(dest)
    shutil.move(str(clip), dest)
    atomic_write_text(dest / REASON_FILE, reason.replace("\n", " ") + "\n")
    return dest


def check_dir(root: Path, config: CheckConfig = CheckConfig(), move: bool = True) -> dict:
    """Check every clip under root; bad ones go to root/quarantine/<clip>/ with REASON.txt."""
    ok, bad = [], {}
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such directory of clips")
    # Every visible directory, not only those with a meta.json: a clip missing it is bad, not absent.
    candidates = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != QUARANTINE)
    for clip in candidates:
        reason = check_clip(clip, config)
        if reason is None:
            ok.append(clip.name)
        else:
            bad[clip.name] = reason
            if move:
                quarantine(root, clip, reason)
    return {"ok": ok, "quarantined": bad}
