"""The catalog: Parquet tables of clips, per-clip frame summaries and trigger events, queried with DuckDB.

    DIR/catalog/clips.parquet    one row per clip: id, scenario, seed, frames, duration, distance, flags
    DIR/catalog/frames.parquet   one row per clip: speed / accel / steering statistics
    DIR/catalog/events.parquet   one row per trigger event: clip_id, trigger, frames, value, speed there

Query with `e2edrive data query DIR "SELECT ..."`: the three tables are views named clips, frames, events.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_path
from e2edrive.core.io import FRAME_DT_S
from e2edrive.data.check import CheckConfig, check_clip
from e2edrive.data.clip import list_clips, read_clip
from e2edrive.data.triggers import TriggerConfig, find_events

CATALOG = "catalog"
TABLES = ("clips", "frames", "events")
EVENT_SCHEMA = pa.schema(
    [
        ("clip_id", pa.string()),
        ("scenario", pa.string()),
        ("trigger", pa.string()),
        ("frame_start", pa.int64()),
        ("frame_end", pa.int64()),
        ("time_s", pa.float64()),
        ("value", pa.float64()),
        ("speed_mps", pa.float64()),
    ]
)


def _write(table: pa.Table, path: Path) -> None:
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def build_index(root: Path, triggers: TriggerConfig = TriggerConfig()) -> dict[str, int]:
    """(Re)build root/catalog/*.parquet; invalid clips are skipped with a warning (run `data check` to quarantine)."""
    root = Path(root)
    clips, frames, events = [], [], []
    for path in list_clips(root):
        reason = check_clip(path, CheckConfig(decode_video=False))
        if reason:
            warnings.warn(f"skipping clip {path.name}: {reason}", stacklevel=2)
            continue
        clip = read_clip(path)
        s, meta = clip.signals, clip.meta
        speed = s["speed_mps"].astype(float)
        accel = np.gradient(speed, FRAME_DT_S) if len(speed) > 1 else np.zeros_like(speed)
        step_m = np.hypot(np.diff(s["x_m"]), np.diff(s["y_m"]))
        clips.append(
            {
                "clip_id": path.name,
                "scenario": meta.get("scenario", "unknown"),
                "seed": int(meta.get("seed", -1)),
                "driver": meta.get("driver", "unknown"),
                "n_frames": clip.n_frames,
                "duration_s": clip.n_frames * FRAME_DT_S,
                "distance_m": float(step_m.sum()),
                "expert_crashed": bool(meta.get("expert_crashed", False)),
                "success": bool(meta.get("success", False)),
                "path": str(path.resolve()),
            }
        )
        frames.append(
            {
                "clip_id": path.name,
                "mean_speed_mps": float(speed.mean()),
                "max_speed_mps": float(speed.max()),
                "min_accel_mps2": float(accel.min()),
                "max_accel_mps2": float(accel.max()),
                "max_abs_steer_rad": float(np.abs(s["steer_rad"]).max()),
                "lane_changes": int(np.count_nonzero(np.diff(s["lane_id"]))),
                "perturbed_frames": int(np.count_nonzero(s["perturbed"])),
            }
        )
        found = find_events(path.name, s, triggers)
        shadow = path / "shadow_events.parquet"  # written by `e2edrive shadow`
        if shadow.exists():
            found += pq.read_table(shadow).to_pylist()
        for e in found:
            events.append(
                {
                    **e,
                    "scenario": meta.get("scenario", "unknown"),
                    "time_s": e["frame_start"] * FRAME_DT_S,
                    "speed_mps": float(speed[e["frame_start"]]),
                }
            )
    out = root / CATALOG
    out.mkdir(exist_ok=True)
    _write(pa.Table.from_pylist(clips), out / "clips.parquet")
    _write(pa.Table.from_pylist(frames), out / "frames.parquet")
    _write(pa.Table.from_pylist(events, schema=EVENT_SCHEMA), out / "events.parquet")
    return {"clips": len(clips), "events": len(events)}


def query(root: Path, sql: str):
    """Run SQL over the catalog with DuckDB; returns a pyarrow Table."""
    import duckdb

    cat = Path(root) / CATALOG
    if not (cat / "clips.parquet").exists():
        raise UserError(f"no catalog under {root}; run `e2edrive data index {root}` first")
    con = duckdb.connect()
    for name in TABLES:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{(cat / f'{name}.parquet').as_posix()}')")
    return con.sql(sql).to_arrow_table()
