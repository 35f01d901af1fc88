"""Export clips as a LeRobot v3.0 dataset, in the layout and column types LeRobot writes (checked against
lerobot 0.4.4: `LeRobotDataset(repo_id, root=OUT)` loads it unchanged and trains on it). Written here by hand:
the lerobot package pins an old torch.

    OUT/meta/info.json                               codebase_version v3.0, fps, features (names included), paths
    OUT/meta/stats.json                              every feature: min/max/mean/std/count/q01..q99; cameras per
                                                     channel, shape (3, 1, 1), in [0, 1]
    OUT/meta/tasks.parquet                           task_index, indexed by the task string (pandas index)
    OUT/meta/episodes/chunk-000/file-000.parquet     one row per episode: tasks, length, index ranges, video files
                                                     and spans, per-episode stats/<feature>/<stat>, missing streams
    OUT/data/chunk-000/file-000.parquet              one row per frame
    OUT/videos/observation.images.<camera>/chunk-CCC/file-FFF.mp4   each episode's H.264 stream, copied as is

Per frame: `observation.state` = [speed_mps, one-hot navigation command] (names in info.json),
`action` = [steer_rad, accel_mps2]: the expert's labels for fleet clips, the driver's own controls for real
logs (whose driver is the demonstrator); `observation.images.<camera>` for every camera all clips recorded.
A stream a clip does not carry (a real log's speed, command, ...) is NaN there and named in its episode's
`missing_streams`, never invented. The dataset is written in a temp directory and renamed into place.
"""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json, temp_path
from e2edrive.core.io import COMMANDS, FRAME_RATE_HZ
from e2edrive.data.clip import Clip, list_clips, read_clip, read_video

LEROBOT_VERSION = "0.4.4"
"""The LeRobot release this export is checked against (`LeRobotDataset` load + an ACT training step)."""
CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
"""Files per chunk directory (LeRobot's DEFAULT_CHUNK_SIZE)."""
DATA_FILES_SIZE_MB = 100
VIDEO_FILES_SIZE_MB = 200
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
TASKS_PATH = "meta/tasks.parquet"
QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
"""LeRobot's DEFAULT_QUANTILES, stored as q01, q10, q50, q90, q99."""
IMAGE_STATS_FRAMES = 100
"""Frames per episode sampled evenly for image stats (LeRobot samples 100 for episodes under ~500 frames)."""
STATE_NAMES = ["speed_mps", *(f"command.{c}" for c in COMMANDS)]
ACTION_NAMES = ["steer_rad", "accel_mps2"]
INDEX_FEATURES = {
    "timestamp": "float32",
    "frame_index": "int64",
    "episode_index": "int64",
    "index": "int64",
    "task_index": "int64",
}
"""LeRobot's default per-frame features, each a plain scalar column (shape [1])."""
STAT_NAMES = ("min", "max", "mean", "std", "count", *(f"q{round(q * 100):02d}" for q in QUANTILES))


def _video_feature(cam: dict) -> dict:
    return {
        "dtype": "video",
        "shape": [cam["height_px"], cam["width_px"], 3],
        "names": ["height", "width", "channels"],
        "info": {
            "video.height": cam["height_px"],
            "video.width": cam["width_px"],
            "video.codec": "h264",
            "video.pix_fmt": "yuv420p",
            "video.is_depth_map": False,
            "video.fps": FRAME_RATE_HZ,
            "video.channels": 3,
            "has_audio": False,
        },
    }


def feature_stats(values: np.ndarray) -> dict[str, np.ndarray]:
    """LeRobot's per-episode stats of a (N,) or (N, D) feature: each (D,) (a scalar feature: (1,)), over the
    finite rows only (a missing stream is NaN; count 0 then)."""
    v = values.reshape(len(values), -1).astype(np.float64)
    v = v[np.isfinite(v).all(axis=1)]
    if len(v) == 0:
        nan = np.full(values.reshape(len(values), -1).shape[1], np.nan)
        return {"min": nan, "max": nan, "mean": nan, "std": nan, "count": np.array([0])} | {
            f"q{round(q * 100):02d}": nan for q in QUANTILES
        }
    stats = {"min": v.min(0), "max": v.max(0), "mean": v.mean(0), "std": v.std(0), "count": np.array([len(v)])}
    return stats | {f"q{round(q * 100):02d}": np.quantile(v, q, axis=0) for q in QUANTILES}


def image_stats(frames: np.ndarray) -> dict[str, np.ndarray]:
    """(N, H, W, 3) uint8 → per-channel stats in [0, 1], each of shape (3, 1, 1), count = frames sampled."""
    pick = np.round(np.linspace(0, len(frames) - 1, min(IMAGE_STATS_FRAMES, len(frames)))).astype(int)
    pixels = frames[pick].reshape(-1, 3).astype(np.float64) / 255.0
    stats = feature_stats(pixels)
    stats["count"] = np.array([len(pick)])
    return {k: (v if k == "count" else v.reshape(3, 1, 1)) for k, v in stats.items()}


def aggregate_stats(per_episode: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """LeRobot's aggregation: min/max over episodes, count-weighted mean, pooled variance, count-weighted
    quantiles; episodes where the stream is missing (count 0) take no part."""
    present = [s for s in per_episode if s["count"][0] > 0]
    if not present:
        return per_episode[0]
    counts = np.array([s["count"][0] for s in present], np.float64)
    shape = (-1,) + (1,) * present[0]["mean"].ndim
    w = counts.reshape(shape) / counts.sum()
    means = np.stack([s["mean"] for s in present])
    mean = (w * means).sum(0)
    var = (w * (np.stack([s["std"] for s in present]) ** 2 + (means - mean) ** 2)).sum(0)
    out = {
        "min": np.min([s["min"] for s in present], axis=0),
        "max": np.max([s["max"] for s in present], axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": np.array([int(counts.sum())]),
    }
    quantiles = [k for k in present[0] if k.startswith("q")]
    return out | {k: (w * np.stack([s[k] for s in present])).sum(0) for k in quantiles}


def _common_cameras(clips: list[Clip]) -> list[dict]:
    """The cameras every clip recorded, in the first clip's order; the others are left out with a warning."""
    names = [set(c["name"] for c in clip.meta.get("cameras", [])) for clip in clips]
    common = set.intersection(*names)
    dropped = set.union(*names) - common
    if dropped:
        warnings.warn(f"cameras {sorted(dropped)} are not in every clip: exported without them", stacklevel=3)
    first = next((clip.meta["cameras"] for clip in clips if clip.meta.get("cameras")), [])
    return [c for c in first if c["name"] in common]


def _episode_frames(clip: Clip) -> dict[str, np.ndarray]:
    """state (N, 6) float32, action (N, 2) float32 and which streams the clip lacks, as NaN + their names."""
    s, n = clip.signals, clip.n_frames
    missing = set(clip.meta.get("missing_streams", []))

    def column(name: str) -> np.ndarray:
        if name in missing or s.get(name) is None:
            return np.full(n, np.nan, np.float32)
        return np.array([np.nan if v is None else v for v in s[name][:n]], np.float32)

    commands = np.full((n, len(COMMANDS)), np.nan, np.float32)
    if "command" not in missing:
        commands = np.stack([np.eye(len(COMMANDS), dtype=np.float32)[COMMANDS.index(c)] for c in s["command"][:n]])
    labelled = not {"expert_steer_rad", "expert_accel_mps2"} & missing
    steer, accel = ("expert_steer_rad", "expert_accel_mps2") if labelled else ("steer_rad", "accel_mps2")
    return {
        "observation.state": np.concatenate([column("speed_mps")[:, None], commands], axis=1),
        "action": np.stack([column(steer), column(accel)], axis=1),
        "action_source": "expert" if labelled else clip.meta.get("driver", "driver"),
        "missing_streams": sorted(missing),
    }


def _vector(rows: list[np.ndarray], width: int) -> pa.Array:
    """(N, width) float32 → a fixed-size list column, as LeRobot (HF datasets) stores a feature of shape [width]."""
    flat = pa.array(np.concatenate(rows).reshape(-1), pa.float32())
    return pa.FixedSizeListArray.from_arrays(flat, width)


def _tasks_table(tasks: list[str]) -> pa.Table:
    """tasks.parquet as pandas writes LeRobot's DataFrame: column task_index, the task strings as its index."""
    pandas_meta = {
        "index_columns": ["__index_level_0__"],
        "column_indexes": [],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64"},
            {"name": None, "field_name": "__index_level_0__", "pandas_type": "unicode", "numpy_type": "object"},
        ],
    }
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "__index_level_0__": tasks})
    return table.replace_schema_metadata({b"pandas": json.dumps(pandas_meta).encode()})


def _stats_json(stats: dict[str, np.ndarray]) -> dict[str, list]:
    return {k: np.asarray(v).tolist() for k, v in stats.items()}


def export_lerobot(root: Path, out: Path, robot_type: str = "e2edrive_car") -> dict:
    """Write every clip under root as one LeRobot v3.0 dataset at out (replacing it); returns info.json."""
    root, out = Path(root), Path(out)
    clips = [read_clip(p) for p in list_clips(root)]
    if not clips:
        raise UserError(f"no clips under {root}")
    cameras = _common_cameras(clips)
    keys = {c["name"]: f"observation.images.{c['name']}" for c in cameras}
    tasks = sorted({f"drive: {c.meta.get('scenario', 'unknown')}" for c in clips})
    tmp = temp_path(out)
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        info = _write(clips, cameras, keys, tasks, tmp, robot_type)
        if out.exists():
            old = temp_path(out.with_name(out.name + ".old"))
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old)
        else:
            tmp.rename(out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return info


def _write(clips: list[Clip], cameras: list[dict], keys: dict, tasks: list[str], out: Path, robot_type: str) -> dict:
    frames: dict[str, list] = {k: [] for k in ("observation.state", "action", *INDEX_FEATURES)}
    episodes: list[dict] = []
    index = 0
    for ep, clip in enumerate(clips):
        n = clip.n_frames
        per = _episode_frames(clip)
        task_index = tasks.index(f"drive: {clip.meta.get('scenario', 'unknown')}")
        columns = {
            "observation.state": per["observation.state"],
            "action": per["action"],
            "timestamp": (np.arange(n) / FRAME_RATE_HZ).astype(np.float32),
            "frame_index": np.arange(n),
            "episode_index": np.full(n, ep),
            "index": np.arange(index, index + n),
            "task_index": np.full(n, task_index),
        }
        for k, v in columns.items():
            frames[k].append(v)
        chunk, file = divmod(ep, CHUNKS_SIZE)
        episode = {
            "episode_index": ep,
            "tasks": [tasks[task_index]],
            "length": n,
            "data/chunk_index": 0,
            "data/file_index": 0,
            "dataset_from_index": index,
            "dataset_to_index": index + n,
        }
        stats = {k: feature_stats(v) for k, v in columns.items()}
        for cam in cameras:
            key = keys[cam["name"]]
            video = read_video(clip.path / f"{cam['name']}.mp4")
            if len(video) != n:
                raise UserError(
                    f"{clip.path.name}: {cam['name']}.mp4 has {len(video)} frames for {n} rows; run `data check`"
                )
            dest = out / VIDEO_PATH.format(video_key=key, chunk_index=chunk, file_index=file)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(clip.path / f"{cam['name']}.mp4", dest)
            episode |= {
                f"videos/{key}/chunk_index": chunk,
                f"videos/{key}/file_index": file,
                f"videos/{key}/from_timestamp": 0.0,
                f"videos/{key}/to_timestamp": n / FRAME_RATE_HZ,
            }
            stats[key] = image_stats(video)
        episode |= {"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0}
        episode |= {f"stats/{k}/{s}": np.asarray(v).tolist() for k, st in stats.items() for s, v in st.items()}
        episode |= {
            "source_clip_id": clip.path.name,
            "action_source": per["action_source"],
            "missing_streams": per["missing_streams"],
        }
        episodes.append(episode)
        index += n

    data = pa.table(
        {
            "observation.state": _vector(frames["observation.state"], len(STATE_NAMES)),
            "action": _vector(frames["action"], len(ACTION_NAMES)),
            **{k: pa.array(np.concatenate(frames[k]).astype(dtype)) for k, dtype in INDEX_FEATURES.items()},
        }
    )
    (out / "data/chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(data, out / DATA_PATH.format(chunk_index=0, file_index=0))
    (out / "meta/episodes/chunk-000").mkdir(parents=True, exist_ok=True)
    episodes_table = pa.Table.from_pylist(episodes)
    missing = episodes_table.schema.get_field_index("missing_streams")
    episodes_table = episodes_table.set_column(
        missing, "missing_streams", episodes_table.column(missing).cast(pa.list_(pa.string()))
    )
    pq.write_table(episodes_table, out / EPISODES_PATH)
    pq.write_table(_tasks_table(tasks), out / TASKS_PATH)
    features = {
        **{keys[c["name"]]: _video_feature(c) for c in cameras},
        "observation.state": {"dtype": "float32", "shape": [len(STATE_NAMES)], "names": STATE_NAMES},
        "action": {"dtype": "float32", "shape": [len(ACTION_NAMES)], "names": ACTION_NAMES},
        **{k: {"dtype": dtype, "shape": [1], "names": None} for k, dtype in INDEX_FEATURES.items()},
    }
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": len(episodes),
        "total_frames": index,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILES_SIZE_MB,
        "video_files_size_in_mb": VIDEO_FILES_SIZE_MB,
        "fps": FRAME_RATE_HZ,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if cameras else None,
        "features": features,
    }
    atomic_write_json(out / "meta/info.json", info, indent=4)
    stats = {
        k: _stats_json(aggregate_stats([{s: np.asarray(e[f"stats/{k}/{s}"]) for s in STAT_NAMES} for e in episodes]))
        for k in features
    }
    atomic_write_json(out / "meta/stats.json", stats, indent=4)
    return info
