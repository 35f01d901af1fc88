"""Training samples from directories of clips (or built datasets), read from disk on demand.

Each clip camera's video is decoded once ever into a uint8 .npy beside the clips (`frame_cache.py`); samples
read the frames they need from it with positioned reads (`os.pread`), nothing memory-mapped, so the resident
memory of the trainer and its loader workers does not grow with the data (the page cache holds what is hot).
The labels of every sample (a few dozen floats each) are kept in memory.

`dataset[ids]` (a list of sample ids) and `dataset.batch(ids)` return one batch:

    frames      {camera: (B, T, C, H, W) uint8}  frames at the context offsets (clamped at the clip start)
    speed_mps   (B, 1) float32
    command     (B, N_COMMANDS) float32          one-hot
    trajectory  (B, TRAJECTORY_POINTS, 2) float32  future ego positions in the current ego frame, metres (in a
                                                 clip a learner drove: the expert's plan from that state, and
                                                 only the frames that have one are samples)
    trajectory_known (B, TRAJECTORY_POINTS) bool  which trajectory points are labels: not where collection's
                                                 perturbations pushed the car (`clip.unpushed_points`)
    controls    (B, 2) float32                   expert [steer_rad, accel_mps2] at this frame
    aux         (B, len(AUX_NAMES)) float32      privileged labels (lead gap and closing speed, lane offset, the
                                                 expert's yield decision as 0/1), NaN where there is none (no car
                                                 ahead; no expert in the clip, as in real logs)
    scenario    (B,) int64                       index into dataset.scenarios
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from e2edrive.core.errors import UserError
from e2edrive.core.io import (
    AUX_NAMES,
    COMMANDS,
    CONTEXT_OFFSETS_FRAMES,
    DEFAULT_CAMERAS,
    N_COMMANDS,
    TRAJECTORY_POINTS,
)
from e2edrive.data.build import MANIFEST, read_manifest, split_of
from e2edrive.data.check import CheckConfig, check_clip
from e2edrive.data.clip import (
    FUTURE_FRAMES,
    LABEL_STREAMS,
    future_trajectory,
    list_clips,
    read_clip,
    unpushed_points,
)
from e2edrive.data.frame_cache import ensure_cached

BEND_EDGES_DEG = (-30.0, -10.0, -3.0, 3.0, 10.0, 30.0)
"""Bins of a sample's bend for the balance: straight within ±3°, gentle curves, bends, turns beyond ±30°."""
OPEN_FILES = 256
"""Frame files kept open per process (a full-rig set of 200 clips has 1,000)."""


def _lacks_labels(meta: dict) -> str | None:
    lacking = [s for s in LABEL_STREAMS if s in set(meta.get("missing_streams", []))]
    return f"no {', '.join(lacking)} to learn from" if lacking else None


@dataclass(frozen=True)
class DatasetConfig:
    split: str = "train"
    """'train', 'val' or 'all'."""
    val_fraction: float = 0.1
    cameras: tuple[str, ...] = DEFAULT_CAMERAS
    """The cameras a model reads: every clip must have them."""
    context_offsets_frames: tuple[int, ...] = CONTEXT_OFFSETS_FRAMES
    include_crashed: bool = False
    max_clips: int | None = None
    """Use at most N clips of the split, evenly spread over its clips in order (INT8 calibration, quick looks):
    clips are listed by scenario and source, so the first N were one scenario's expert drives."""

    def __post_init__(self) -> None:
        if self.split not in ("train", "val", "all"):
            raise UserError(f"split={self.split!r} must be train, val or all")
        if not 0.0 <= self.val_fraction < 1.0:
            raise UserError(f"val_fraction={self.val_fraction} outside [0, 1)")
        if not self.cameras:
            raise UserError("a dataset needs at least one camera")


def _signal(signals: dict, name: str, n: int) -> np.ndarray:
    """A label column as floats (null: NaN), all NaN where the clip does not record it."""
    if name not in signals:
        return np.full(n, np.nan)
    values = signals[name]
    if values.dtype == object:  # a bool or float column with nulls
        return np.array([np.nan if v is None else float(v) for v in values])
    return values.astype(np.float64)


def _expert_plans(signals: dict, n: int) -> np.ndarray | None:
    """(n, TRAJECTORY_POINTS, 2) expert plans of a learner-driven clip (NaN where none), or None."""
    column = signals.get("expert_trajectory_m")
    if column is None:
        return None
    out = np.full((n, TRAJECTORY_POINTS, 2), np.nan, np.float32)
    for t, plan in enumerate(column[:n]):
        if plan is not None:
            out[t] = np.asarray(plan, np.float32).reshape(TRAJECTORY_POINTS, 2)
    return out


def _sqrt_shares(keys: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(N,) share of each sample's key in its group, proportional to the square root of the key's samples
    (shares of a group sum to 1), and (N,) the number of samples of each sample's key."""
    _, key_of, key_counts = np.unique(keys, return_inverse=True, return_counts=True)
    root = np.sqrt(key_counts)
    first = np.unique(key_of, return_index=True)[1]  # one sample of each key, for its group
    _, group_of = np.unique(groups, return_inverse=True)
    group_root = np.bincount(group_of[first], weights=root, minlength=group_of.max() + 1)
    return root[key_of] / group_root[group_of], key_counts[key_of]


class FrameFile:
    """One clip camera's decoded frames (an .npy of (N, H, W, 3) uint8), read a frame at a time."""

    _open: OrderedDict[str, int] = OrderedDict()

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        with open(path, "rb") as f:
            major, _ = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if major == 1 else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            self.offset = f.tell()
        if fortran or dtype != np.uint8 or len(shape) != 4:
            raise ValueError(f"{path}: not a C-ordered (N, H, W, C) uint8 frame file")
        self.length, *self.shape_hwc = shape
        self.frame_bytes = int(np.prod(self.shape_hwc))

    def _fd(self) -> int:
        """An open descriptor (pread needs no file position, so one inherited across fork is safe to share)."""
        fds = FrameFile._open
        fd = fds.pop(self.path, None)
        if fd is None:
            fd = os.open(self.path, os.O_RDONLY)
            while len(fds) >= OPEN_FILES:
                os.close(fds.popitem(last=False)[1])
        fds[self.path] = fd
        return fd

    def read_into(self, out: np.ndarray, index: int) -> None:
        """Copy frame `index` into out ((H, W, C) uint8)."""
        data = os.pread(self._fd(), self.frame_bytes, self.offset + index * self.frame_bytes)
        out[...] = np.frombuffer(data, np.uint8).reshape(out.shape)


class ClipDataset(torch.utils.data.Dataset):
    def __init__(self, root: Path | list[Path], config: DatasetConfig = DatasetConfig()) -> None:
        self.config = config
        roots = [Path(root)] if isinstance(root, (str, Path)) else [Path(r) for r in root]
        self.clip_names: list[str] = []
        self.scenarios: list[str] = []
        self.weights: torch.Tensor | None = None
        self.n_sources = len(roots)
        """Directories or built datasets given, with samples or not (`source_weights` takes one share each)."""
        self._files: list[dict[str, FrameFile]] = []  # per clip: camera → frames
        names = ("clip", "t", "speed", "command", "trajectory", "trajectory_known", "controls", "aux", "scenario")
        columns: dict[str, list[np.ndarray]] = {k: [] for k in (*names, "weight", "source")}
        # (clip path, the (frame, weight) rows a built dataset chose, or None: every frame, weight 1, root index)
        clip_paths: list[tuple[Path, np.ndarray | None, int]] = []
        built = False
        for source, r in enumerate(roots):
            if (r / MANIFEST).exists():
                built = True
                manifest, samples = read_manifest(r)
                rows: dict[str, list] = {}
                table = samples.to_pydict()
                for cid, f, w in zip(table["clip_id"], table["frame_index"], table["weight"]):
                    rows.setdefault(cid, []).append((f, w))
                for c in manifest["clips"]:
                    if config.split in ("all", c["split"]) and c["clip_id"] in rows:
                        clip_paths.append((Path(c["path"]), np.array(rows[c["clip_id"]]), source))
            else:
                clip_paths += [
                    (p, None, source)
                    for p in list_clips(r)
                    if config.split == "all" or split_of(p.name, config.val_fraction) == config.split
                ]
        if config.max_clips is not None and len(clip_paths) > config.max_clips:
            spread = np.linspace(0, len(clip_paths) - 1, config.max_clips).round().astype(int)
            clip_paths = [clip_paths[i] for i in spread]
        for clip_path, chosen, source in clip_paths:
            problem = check_clip(clip_path, CheckConfig(decode_video=False))
            clip = None if problem else read_clip(clip_path)
            problem = problem or _lacks_labels(clip.meta)
            if problem:
                warnings.warn(f"skipping clip {clip_path.name}: {problem}", stacklevel=2)
                continue
            # an expert that crashed taught nothing; a learner that crashed is what DAgger is for (its frames
            # whose expert plan ran into the crash have no plan, so they are no samples)
            if (
                clip.meta.get("expert_crashed")
                and not config.include_crashed
                and "expert_trajectory_m" not in clip.signals
            ):
                continue
            lacking = [c for c in config.cameras if not (clip_path / f"{c}.mp4").exists()]
            if lacking:
                raise UserError(
                    f"clip {clip_path.name} has no {', '.join(lacking)} camera, which the model reads "
                    f"(cameras {list(config.cameras)}): record with a rig that has it (collect --rig full)"
                )
            try:
                files = {c: FrameFile(ensure_cached(clip_path, c)) for c in config.cameras}
            except UserError:  # the clip is fine, the machine is not (a full disk): skipping would skip them all
                raise
            except Exception as exc:  # noqa: BLE001 - a clip whose video does not decode is skipped, never fatal
                warnings.warn(f"skipping clip {clip_path.name}: {exc}", stacklevel=2)
                continue
            s = clip.signals
            n = min(clip.n_frames, *(f.length for f in files.values()))
            if n <= FUTURE_FRAMES:
                continue
            planned = _expert_plans(s, n)
            if planned is None:
                valid = np.arange(0, n - FUTURE_FRAMES)
            else:  # a learner drove: the frames the expert planned from, whatever follows them
                valid = np.flatnonzero(np.isfinite(planned[:, 0, 0]))
            w = np.ones(len(valid))
            if chosen is not None:
                keep = np.isin(chosen[:, 0].astype(int), valid)
                valid, w = chosen[keep, 0].astype(int), chosen[keep, 1]
            if len(valid) == 0:
                continue
            scenario = str(clip.meta.get("scenario", "unknown"))
            if scenario not in self.scenarios:
                self.scenarios.append(scenario)
            columns["clip"].append(np.full(len(valid), len(self._files)))
            columns["t"].append(valid)
            columns["speed"].append(s["speed_mps"][valid].astype(np.float32))
            columns["command"].append(np.array([COMMANDS.index(c) for c in s["command"][valid]], np.int64))
            columns["trajectory"].append(
                planned[valid]
                if planned is not None
                else np.stack([future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t) for t in valid])
            )
            columns["trajectory_known"].append(
                np.ones((len(valid), TRAJECTORY_POINTS), bool)
                if planned is not None or "perturbed" not in s
                else unpushed_points(s["perturbed"], valid)
            )
            columns["controls"].append(
                np.stack([s["expert_steer_rad"][valid], s["expert_accel_mps2"][valid]], -1).astype(np.float32)
            )
            columns["aux"].append(
                np.stack([_signal(s, name, clip.n_frames)[valid] for name in AUX_NAMES], -1).astype(np.float32)
            )
            columns["scenario"].append(np.full(len(valid), self.scenarios.index(scenario)))
            columns["weight"].append(w)
            columns["source"].append(np.full(len(valid), source))
            self._files.append(files)
            self.clip_names.append(clip_path.name)
        if not self._files:
            where = ", ".join(map(str, roots))
            raise UserError(f"no usable clips for split {config.split!r} under {where}")
        self._columns = {k: np.concatenate(v) for k, v in columns.items()}
        self.offsets = np.array(config.context_offsets_frames)
        if built:  # a built dataset's balance (plain directories beside it weigh 1 a frame)
            self.weights = torch.from_numpy(self._columns["weight"]).double()

    def __len__(self) -> int:
        return len(self._columns["t"])

    @property
    def sample_scenarios(self) -> np.ndarray:
        """(N,) index into self.scenarios of every sample."""
        return self._columns["scenario"]

    @property
    def sample_sources(self) -> np.ndarray:
        """(N,) index of every sample's root (the directories or built datasets given, in order)."""
        return self._columns["source"]

    @property
    def sample_commands(self) -> np.ndarray:
        """(N,) index into COMMANDS of every sample."""
        return self._columns["command"]

    @property
    def sample_bends(self) -> np.ndarray:
        """(N,) bin of every sample's bend (BEND_EDGES_DEG): the bearing of its label trajectory's last point."""
        end = self._columns["trajectory"][:, -1]
        bearing_deg = np.degrees(np.arctan2(end[:, 1], np.maximum(end[:, 0], 1.0)))
        return np.digitize(bearing_deg, BEND_EDGES_DEG)

    def balanced_weights(self, scenario_shares: dict[str, float] | None = None) -> torch.Tensor:
        """Per-sample weights that give every scenario the same share of a batch (or `scenario_shares`: relative,
        missing 1) and, within it, lift the rarer commands and bends (rare manoeuvres do not drown in straight
        driving): each command's share of its scenario, and each bend bin's share of its command, grows as the
        square root of its samples rather than linearly. Not equal shares: an intersection's 55 frames of `follow`
        past the junction took half of its batches that way, and a bin of 30 frames would be learnt by heart."""
        pairs = self.sample_scenarios * N_COMMANDS + self.sample_commands
        bins = pairs * (len(BEND_EDGES_DEG) + 1) + self.sample_bends
        command_share, _ = _sqrt_shares(pairs, self.sample_scenarios)
        bend_share, bin_samples = _sqrt_shares(bins, pairs)
        shares = np.array([(scenario_shares or {}).get(name, 1.0) for name in self.scenarios])
        return torch.from_numpy(shares[self.sample_scenarios] * command_share * bend_share / bin_samples)

    def source_weights(self, shares: tuple[float, ...], weights: torch.Tensor | None = None) -> torch.Tensor:
        """Per-sample weights giving each root the share of every batch that `shares` asks (one per root, in
        order; a root without samples is left out), keeping the relative weights within a root (`weights`, or
        1 each). DAgger pools expert and on-policy data this way, the on-policy part capped."""
        sources = self.sample_sources
        n_roots = self.n_sources  # every root given, the last too when all its clips were skipped
        if len(shares) != n_roots or any(x < 0 for x in shares):
            raise UserError(f"source shares {shares}: need one non-negative share per data directory ({n_roots})")
        w = torch.ones(len(self), dtype=torch.float64) if weights is None else weights.double().clone()
        for r, share in enumerate(shares):
            mask = torch.from_numpy(sources == r)
            total = w[mask].sum()
            if total > 0:
                w[mask] *= share / total
        if not w.sum() > 0:
            raise UserError(f"source shares {shares} give no data directory with samples a weight")
        return w

    def batch(self, ids: list[int] | np.ndarray | torch.Tensor) -> dict:
        """Read one batch from disk (see the module docstring)."""
        ids = np.asarray(ids, np.int64).reshape(-1)
        col = self._columns
        clips, t = col["clip"][ids], col["t"][ids]
        frame_ids = np.maximum(t[:, None] + self.offsets[None, :], 0)  # (B, T): the clip start repeats
        frames = {}
        for camera in self.config.cameras:
            h, w, c = self._files[clips[0]][camera].shape_hwc
            out = np.empty((len(ids), len(self.offsets), h, w, c), np.uint8)
            for b, (clip, fids) in enumerate(zip(clips, frame_ids)):
                file = self._files[clip][camera]
                for k, f in enumerate(fids):
                    file.read_into(out[b, k], int(f))
            frames[camera] = torch.from_numpy(out).permute(0, 1, 4, 2, 3)  # (B, T, C, H, W), a view
        return {
            "frames": frames,
            "speed_mps": torch.from_numpy(col["speed"][ids][:, None]),
            "command": torch.nn.functional.one_hot(torch.from_numpy(col["command"][ids]), N_COMMANDS).float(),
            "trajectory": torch.from_numpy(col["trajectory"][ids]),
            "trajectory_known": torch.from_numpy(col["trajectory_known"][ids]),
            "controls": torch.from_numpy(col["controls"][ids]),
            "aux": torch.from_numpy(col["aux"][ids]),
            "scenario": torch.from_numpy(col["scenario"][ids]),
        }

    def __getitem__(self, ids: int | list[int]) -> dict:
        """dataset[i] → one sample (no batch dimension); dataset[[i, j, ...]] → a batch (a DataLoader fed by a
        batch sampler with batch_size=None gets whole batches from its workers)."""
        if isinstance(ids, (list, tuple, np.ndarray, torch.Tensor)):
            return self.batch(ids)
        b = self.batch([ids])
        return {k: ({c: f[0] for c, f in v.items()} if k == "frames" else v[0]) for k, v in b.items()}
