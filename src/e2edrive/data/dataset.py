"""A PyTorch dataset over a directory of clips.

Each clip's video is decoded once ever (a uint8 cache beside the clips, `frame_cache.py`) and loaded into
one array when the dataset is built; samples are then slices of memory, gathered a batch at a time.
A sample is:

    frames      (T, C, H, W) uint8     frames at CONTEXT_OFFSETS_FRAMES (clamped at the clip start)
    speed_mps   (1,) float32
    command     (N_COMMANDS,) float32  one-hot
    trajectory  (TRAJECTORY_POINTS, 2) float32  future ego positions in the current ego frame, metres
    controls    (2,) float32           expert [steer_rad, accel_mps2] at this frame
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from e2edrive.core.errors import UserError
from e2edrive.core.io import (
    COMMANDS,
    CONTEXT_OFFSETS_FRAMES,
    N_COMMANDS,
)
from e2edrive.data.build import MANIFEST, read_manifest, split_of
from e2edrive.data.check import CheckConfig, check_clip
from e2edrive.data.clip import FUTURE_FRAMES, LABEL_STREAMS, future_trajectory, list_clips, read_clip
from e2edrive.data.frame_cache import cached_frames


def _lacks_labels(meta: dict) -> str | None:
    lacking = [s for s in LABEL_STREAMS if s in set(meta.get("missing_streams", []))]
    return f"no {', '.join(lacking)} to learn from" if lacking else None


@dataclass(frozen=True)
class DatasetConfig:
    split: str = "train"
    """'train', 'val' or 'all'."""
    val_fraction: float = 0.1
    camera: str = "front"
    include_crashed: bool = False
    max_clips: int | None = None
    """Use only the first N clips of the split (calibration, quick looks)."""

    def __post_init__(self) -> None:
        if self.split not in ("train", "val", "all"):
            raise ValueError(f"split={self.split!r} must be train, val or all")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction={self.val_fraction} outside [0, 1)")


class ClipDataset(Dataset):
    def __init__(self, root: Path | list[Path], config: DatasetConfig = DatasetConfig()) -> None:
        self.config = config
        roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]
        frames, speeds, commands, trajs, controls, index, weights = [], [], [], [], [], [], []
        self.clip_names: list[str] = []
        self.weights: torch.Tensor | None = None
        chosen: dict[str, np.ndarray] | None = None  # clip id → (frame, weight) rows, from a built dataset
        if len(roots) == 1 and (roots[0] / MANIFEST).exists():
            manifest, samples = read_manifest(roots[0])
            wanted = [c for c in manifest["clips"] if config.split in ("all", c["split"])]
            clip_paths = [Path(c["path"]) for c in wanted]
            table = samples.to_pydict()
            chosen = {}
            for cid, f, w in zip(table["clip_id"], table["frame_index"], table["weight"]):
                chosen.setdefault(cid, []).append((f, w))
            chosen = {k: np.array(v) for k, v in chosen.items()}
        else:
            clip_paths = [
                p
                for r in roots
                for p in list_clips(r)
                if config.split == "all" or split_of(p.name, config.val_fraction) == config.split
            ]
        offset = 0
        for clip_path in clip_paths:
            if config.max_clips is not None and len(self.clip_names) >= config.max_clips:
                break
            problem = check_clip(clip_path, CheckConfig(decode_video=False))
            clip = None if problem else read_clip(clip_path)
            problem = problem or _lacks_labels(clip.meta)
            if problem:
                warnings.warn(f"skipping clip {clip_path.name}: {problem}", stacklevel=2)
                continue
            try:
                video = cached_frames(clip_path, config.camera)
            except Exception as exc:  # noqa: BLE001 - a bad clip is skipped, never fatal
                warnings.warn(f"skipping clip {clip_path.name}: {exc}", stacklevel=2)
                continue
            if clip.meta.get("expert_crashed") and not config.include_crashed:
                continue
            s = clip.signals
            n = min(len(video), clip.n_frames)
            if n <= FUTURE_FRAMES:
                continue
            valid = np.arange(0, n - FUTURE_FRAMES)
            w = np.ones(len(valid))
            if chosen is not None:
                rows = chosen.get(clip_path.name, np.zeros((0, 2)))
                rows = rows[rows[:, 0] < len(valid)]
                valid, w = rows[:, 0].astype(int), rows[:, 1]
                if len(valid) == 0:
                    continue
            frames.append(video[:n])
            speeds.append(s["speed_mps"][:n].astype(np.float32))
            commands.append(np.array([COMMANDS.index(c) for c in s["command"][:n]], np.int64))
            trajs.append(np.stack([future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t) for t in valid]))
            controls.append(
                np.stack([s["expert_steer_rad"][valid], s["expert_accel_mps2"][valid]], -1).astype(np.float32)
            )
            # (global frame of t, first global frame of this clip)
            index.append(np.stack([valid + offset, np.full_like(valid, offset)], -1))
            weights.append(w)
            offset += n
            self.clip_names.append(clip_path.name)
        if not frames:
            where = ", ".join(map(str, roots))
            raise UserError(f"no usable clips for split {config.split!r} under {where}")
        self.frames = torch.from_numpy(np.concatenate(frames)).permute(0, 3, 1, 2).contiguous()  # (N, C, H, W)
        self.speeds = torch.from_numpy(np.concatenate(speeds))
        self.commands = torch.from_numpy(np.concatenate(commands))
        self.trajectories = torch.from_numpy(np.concatenate(trajs))
        self.controls = torch.from_numpy(np.concatenate(controls))
        self.index = torch.from_numpy(np.concatenate(index))
        self.offsets = torch.tensor(CONTEXT_OFFSETS_FRAMES)
        if chosen is not None:
            self.weights = torch.from_numpy(np.concatenate(weights)).double()

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, ids: torch.Tensor) -> dict[str, torch.Tensor]:
        """Gather a batch by sample ids without a per-sample Python loop."""
        t, first = self.index[ids, 0], self.index[ids, 1]
        frame_ids = torch.maximum(t[:, None] + self.offsets[None, :], first[:, None])  # (B, T)
        return {
            "frames": self.frames[frame_ids],  # (B, T, C, H, W) uint8
            "speed_mps": self.speeds[t][:, None],
            "command": torch.nn.functional.one_hot(self.commands[t], N_COMMANDS).float(),
            "trajectory": self.trajectories[ids],
            "controls": self.controls[ids],
        }

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        b = self.batch(torch.tensor([i]))
        return {k: v[0] for k, v in b.items()}
