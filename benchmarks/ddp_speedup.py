"""Distributed training on this machine: 2-process DDP (torchrun, gloo, one thread each) vs one process (two
threads), same global batch, same steps. On a 2-core CPU this is the correctness path; on GPUs the speed path.

    python benchmarks/ddp_speedup.py [CLIP_DIR]     (default: records 8 short clips in a temp dir)

Prints samples/s of both and their ratio, measured in one run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from e2edrive.fleet.collect import CollectConfig, collect

STEPS = 80
GLOBAL_BATCH = 64


def samples_per_s(clips: Path, run: Path, nproc: int) -> float:
    cmd = [sys.executable, "-m", "e2edrive.cli", "train", "--data", str(clips), "--out", str(run)]
    cmd += ["--max-steps", str(STEPS), "--minutes", "1000", "--batch-size", str(GLOBAL_BATCH // nproc)]
    cmd += ["--save-every", str(STEPS), "--nproc", str(nproc)]
    subprocess.run(cmd, check=True, capture_output=True)
    summary = json.loads((run / "train_summary.json").read_text())
    assert summary["world_size"] == nproc and summary["global_batch"] == GLOBAL_BATCH
    return summary["samples_per_s"]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        clips = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(d) / "clips"
        if len(sys.argv) == 1:
            collect(CollectConfig(episodes=8, workers=2, seed=0, overrides={"duration": 20.0}), clips, progress=False)
        one = samples_per_s(clips, Path(d) / "one", 1)
        two = samples_per_s(clips, Path(d) / "two", 2)
    print(f"1 process (2 threads):        {one:7.1f} samples/s")
    print(f"2 processes DDP (1 thread each): {two:7.1f} samples/s")
    print(f"DDP / single:                 {two / one:7.2f}x")
