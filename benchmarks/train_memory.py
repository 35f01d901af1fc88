"""Peak resident memory of training (the trainer and its loader workers together) against the size of the
decoded data it streams, and its samples/s.

    python benchmarks/train_memory.py CLIP_DIR [--cameras front,front_wide,left,right,rear] [--steps 200]

The frames are read from the per-clip decoded caches with positioned reads, so the resident set should stay
flat however large the data (the kernel's page cache holds what is hot, outside any process).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
        todo += children.get(p, [])
    return total


def decoded_bytes(clips: Path, cameras: list[str]) -> int:
    cache = clips / ".cache" / "frames"
    return sum(f.stat().st_size for f in cache.glob("*.npy") if any(f"-{c}-" in f.name for c in cameras))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", type=Path)
    ap.add_argument("--cameras", default="front")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "e2edrive.cli", "train", "--data", str(args.clips), "--out", f"{d}/run"]
        cmd += ["--cameras", args.cameras, "--max-steps", str(args.steps), "--minutes", "1000"]
        cmd += ["--batch-size", str(args.batch_size), "--workers", str(args.workers), "--save-every", str(args.steps)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, tree_rss_bytes(proc.pid))
            time.sleep(0.2)
        if proc.returncode:
            sys.exit(proc.stderr.read())
        summary = json.loads(Path(f"{d}/run/train_summary.json").read_text())
    cameras = args.cameras.split(",")
    data = decoded_bytes(args.clips, cameras)
    print(f"clips: {len(summary['train_clips'])} train + {len(summary['val_clips'])} val, cameras {cameras}")
    print(f"decoded frames on disk:       {data / 2**30:7.2f} GiB")
    print(f"peak RSS (trainer + workers): {peak / 2**30:7.2f} GiB")
    rate, steps, batch = summary["samples_per_s"], summary["steps"], summary["global_batch"]
    print(f"training samples/s:           {rate:7.1f} ({steps} steps x {batch})")
