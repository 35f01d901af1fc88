"""Export clips as a LeRobot v3.0 dataset (written here by hand: the lerobot package pins an old torch).

    OUT/meta/info.json                                   codebase_version v3.0, fps, features, paths
    OUT/meta/stats.json                                  mean/std/min/max/count per numeric feature
    OUT/meta/tasks.parquet                               task_index, task
    OUT/meta/episodes/chunk-000/file-000.parquet         one row per episode: length, index ranges, video spans
    OUT/data/chunk-000/file-000.parquet                  one row per frame
    OUT/videos/observation.images.<cam>/chunk-000/file-000.mp4   all episodes back to back

Frames carry observation.state = [speed_mps] and action = the expert's [steer_rad, accel_mps2].
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive.core.errors import UserError
from e2edrive.core.io import FRAME_RATE_HZ
from e2edrive.data.clip import VideoWriter, list_clips, read_clip

CODEBASE_VERSION = "v3.0"
CHUNKS_SIZE = 1000
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"


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


def _stats(values: np.ndarray) -> dict:
    v = values.reshape(len(values), -1).astype(np.float64)
    return {
        "mean": v.mean(0).tolist(),
        "std": v.std(0).tolist(),
        "min": v.min(0).tolist(),
        "max": v.max(0).tolist(),
        "count": [len(v)],
    }


def export_lerobot(root: Path, out: Path, robot_type: str = "e2edrive_highway_car") -> dict:
    """Write every clip under root with a front video as one LeRobot v3.0 dataset; returns info.json."""
    root, out = Path(root), Path(out)
    clips = [read_clip(p) for p in list_clips(root)]
    clips = [c for c in clips if c.meta.get("cameras")]
    if not clips:
        raise UserError(f"no clips with video under {root}")
    cameras = clips[0].meta["cameras"]
    keys = {c["name"]: f"observation.images.{c['name']}" for c in cameras}
    tasks = sorted({f"drive: {c.meta.get('scenario', 'unknown')}" for c in clips})
    writers = {}
    for cam in cameras:
        path = out / VIDEO_PATH.format(video_key=keys[cam["name"]], chunk_index=0, file_index=0)
        path.parent.mkdir(parents=True, exist_ok=True)
        writers[cam["name"]] = VideoWriter(path, cam["width_px"], cam["height_px"])
    rows: dict[str, list] = {
        k: []
        for k in ("observation.state", "action", "timestamp", "frame_index", "episode_index", "index", "task_index")
    }
    episodes: list[dict] = []
    index = 0
    video_t = 0.0
    for ep, clip in enumerate(clips):
        n = clip.n_frames
        s = clip.signals
        for cam in cameras:
            for frame in clip.video(cam["name"])[:n]:
                writers[cam["name"]].write(frame)
        task_index = tasks.index(f"drive: {clip.meta.get('scenario', 'unknown')}")
        rows["observation.state"] += [[float(v)] for v in s["speed_mps"][:n]]
        rows["action"] += [[float(a), float(b)] for a, b in zip(s["expert_steer_rad"][:n], s["expert_accel_mps2"][:n])]
        rows["timestamp"] += [i / FRAME_RATE_HZ for i in range(n)]
        rows["frame_index"] += list(range(n))
        rows["episode_index"] += [ep] * n
        rows["index"] += list(range(index, index + n))
        rows["task_index"] += [task_index] * n
        episode = {
            "episode_index": ep,
            "tasks": [tasks[task_index]],
            "length": n,
            "data/chunk_index": 0,
            "data/file_index": 0,
            "dataset_from_index": index,
            "dataset_to_index": index + n,
            "meta/episodes/chunk_index": 0,
            "meta/episodes/file_index": 0,
            "source_clip_id": clip.path.name,
        }
        for cam in cameras:
            key = keys[cam["name"]]
            episode |= {
                f"videos/{key}/chunk_index": 0,
                f"videos/{key}/file_index": 0,
                f"videos/{key}/from_timestamp": video_t,
                f"videos/{key}/to_timestamp": video_t + n / FRAME_RATE_HZ,
            }
        episodes.append(episode)
        index += n
        video_t += n / FRAME_RATE_HZ
    for w in writers.values():
        w.close()
    data = pa.table(
        {
            "observation.state": pa.array(rows["observation.state"], pa.list_(pa.float32())),
            "action": pa.array(rows["action"], pa.list_(pa.float32())),
            "timestamp": pa.array(rows["timestamp"], pa.float32()),
            "frame_index": pa.array(rows["frame_index"], pa.int64()),
            "episode_index": pa.array(rows["episode_index"], pa.int64()),
            "index": pa.array(rows["index"], pa.int64()),
            "task_index": pa.array(rows["task_index"], pa.int64()),
        }
    )
    (out / "data/chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(data, out / DATA_PATH.format(chunk_index=0, file_index=0))
    (out / "meta/episodes/chunk-000").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(episodes), out / EPISODES_PATH)
    pq.write_table(
        pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "task": tasks}), out / "meta/tasks.parquet"
    )
    features = {
        **{keys[c["name"]]: _video_feature(c) for c in cameras},
        "observation.state": {"dtype": "float32", "shape": [1], "names": ["speed_mps"]},
        "action": {"dtype": "float32", "shape": [2], "names": ["steer_rad", "accel_mps2"]},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        **{
            k: {"dtype": "int64", "shape": [1], "names": None}
            for k in ("frame_index", "episode_index", "index", "task_index")
        },
    }
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": robot_type,
        "total_episodes": len(episodes),
        "total_frames": index,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": FRAME_RATE_HZ,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": features,
    }
    (out / "meta/info.json").write_text(json.dumps(info, indent=4))
    stats = {
        "observation.state": _stats(np.array(rows["observation.state"])),
        "action": _stats(np.array(rows["action"])),
        "timestamp": _stats(np.array(rows["timestamp"])),
    }
    (out / "meta/stats.json").write_text(json.dumps(stats, indent=4))
    return info
