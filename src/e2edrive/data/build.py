"""Versioned datasets: a manifest of clips + content hashes, a split by episode, optional mining and balance.

    OUT/<name>-<version>/manifest.json   clips (id, path, sha256 per file, split), config, counts
    OUT/<name>-<version>/samples.parquet one row per usable frame: clip_id, frame_index, split, weight

The version is a hash of the clip contents and the build config: the same inputs always give the same
version, and any changed byte gives a new one. `e2edrive train --data OUT/<name>-<version>` trains on it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive import __version__
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.core.io import FRAME_DT_S
from e2edrive.data.check import CheckConfig, check_clip
from e2edrive.data.clip import FUTURE_FRAMES, LABEL_STREAMS, list_clips, read_clip
from e2edrive.data.triggers import TriggerConfig, find_events

MANIFEST = "manifest.json"
SAMPLES = "samples.parquet"


@dataclass(frozen=True)
class BuildConfig:
    name: str = "dataset"
    val_fraction: float = 0.1
    test_fraction: float = 0.1
    mine: tuple[str, ...] = ()
    """Trigger names; when given, only frames within window_s of such an event are kept."""
    window_s: float = 3.0
    balance: bool = True
    """Weight frames by 1 / (frames in their speed x curvature x command bin), so rare driving counts."""
    speed_bin_mps: float = 5.0
    curvature_edges_per_m: tuple[float, ...] = (0.001, 0.005)
    triggers: TriggerConfig = field(default_factory=TriggerConfig)

    def __post_init__(self) -> None:
        if self.val_fraction < 0 or self.test_fraction < 0 or self.val_fraction + self.test_fraction >= 1:
            raise ValueError(f"val_fraction={self.val_fraction} + test_fraction={self.test_fraction} must be in [0, 1)")
        if self.window_s <= 0 or self.speed_bin_mps <= 0:
            raise ValueError("window_s and speed_bin_mps must be positive")


def split_of(clip_id: str, val_fraction: float, test_fraction: float = 0.0) -> str:
    """Deterministic split by episode: a hash of the clip id, stable across machines and runs."""
    h = int(hashlib.sha256(clip_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < val_fraction:
        return "val"
    if h < val_fraction + test_fraction:
        return "test"
    return "train"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _bins(signals: dict[str, np.ndarray], config: BuildConfig) -> np.ndarray:
    speed = signals["speed_mps"].astype(float)
    yaw_rate = (
        np.gradient(np.unwrap(signals["yaw_rad"].astype(float)), FRAME_DT_S) if len(speed) > 1 else np.zeros_like(speed)
    )
    curvature = np.abs(yaw_rate) / np.maximum(speed, 1.0)
    speed_bin = np.floor(speed / config.speed_bin_mps).astype(int)
    curve_bin = np.digitize(curvature, config.curvature_edges_per_m)
    return np.array([f"{s}|{c}|{cmd}" for s, c, cmd in zip(speed_bin, curve_bin, signals["command"])])


def build_dataset(root: Path, out: Path, config: BuildConfig = BuildConfig()) -> Path:
    root, out = Path(root).resolve(), Path(out)
    clips, rows = [], {"clip_id": [], "frame_index": [], "split": [], "bin": []}
    for path in list_clips(root):
        if check_clip(path, CheckConfig(decode_video=False)):
            continue
        clip = read_clip(path)
        if set(clip.meta.get("missing_streams", [])) & set(LABEL_STREAMS):  # nothing to learn from
            continue
        split = split_of(path.name, config.val_fraction, config.test_fraction)
        files = {f.name: _sha256(f) for f in sorted(path.iterdir()) if f.is_file()}
        clips.append({"clip_id": path.name, "path": str(path), "split": split, "sha256": files})
        n = clip.n_frames - FUTURE_FRAMES
        if n <= 0:
            continue
        keep = np.ones(n, bool)
        if config.mine:
            keep[:] = False
            pad = round(config.window_s / FRAME_DT_S)
            for e in find_events(path.name, clip.signals, config.triggers):
                if e["trigger"] in config.mine:
                    keep[max(0, e["frame_start"] - pad) : min(n, e["frame_end"] + pad + 1)] = True
        frames = np.flatnonzero(keep)
        rows["clip_id"] += [path.name] * len(frames)
        rows["frame_index"] += frames.tolist()
        rows["split"] += [split] * len(frames)
        rows["bin"] += _bins(clip.signals, config)[frames].tolist()
    if not clips:
        raise UserError(f"no usable clips under {root}")
    bins = np.array(rows["bin"])
    split_arr = np.array(rows["split"])
    weights = np.ones(len(bins))
    if config.balance and len(bins):
        for split in np.unique(split_arr):
            in_split = split_arr == split
            _, inverse, counts = np.unique(bins[in_split], return_inverse=True, return_counts=True)
            w = 1.0 / counts[inverse]
            weights[in_split] = w / w.mean()
    content = json.dumps([[c["clip_id"], c["sha256"]] for c in clips], sort_keys=True)
    cfg = asdict(config)
    version = hashlib.sha256((content + json.dumps(cfg, sort_keys=True)).encode()).hexdigest()[:12]
    target = out / f"{config.name}-{version}"
    tmp = out / f".tmp-{config.name}-{version}"
    tmp.mkdir(parents=True, exist_ok=True)
    samples = pa.table({**{k: rows[k] for k in ("clip_id", "frame_index", "split", "bin")}, "weight": weights})
    pq.write_table(samples, tmp / SAMPLES)
    counts = {
        s: {"clips": sum(c["split"] == s for c in clips), "samples": int((split_arr == s).sum())}
        for s in ("train", "val", "test")
    }
    manifest = {
        "name": config.name,
        "version": version,
        "package_version": __version__,
        "source_root": str(root),
        "config": cfg,
        "counts": counts,
        "clips": clips,
    }
    atomic_write_json(tmp / MANIFEST, manifest)
    if target.exists():
        import shutil

        shutil.rmtree(target)
    tmp.rename(target)
    return target


def read_manifest(path: Path) -> tuple[dict, pa.Table]:
    path = Path(path)
    return json.loads((path / MANIFEST).read_text()), pq.read_table(path / SAMPLES)
