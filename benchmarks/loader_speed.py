"""Loader throughput: our decoded-once cache vs a per-sample seek + decode loader (LeRobot-style).

    python benchmarks/loader_speed.py [CLIP_DIR]     (default: records 6 short clips in a temp dir)

Prints samples/s of both, the ratio, and the training loop's consumption rate for comparison.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import torch

from e2edrive.core import io
from e2edrive.data.clip import list_clips
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.fleet.collect import CollectConfig, collect

BATCH = 64
BATCHES = 20
SEEK_SAMPLES = 64


def decode_window(video: Path, t: int) -> np.ndarray:
    """Per-sample loading as LeRobot-style loaders do it: seek to the window's first timestamp, decode on."""
    wanted = [max(0, t + o) for o in io.CONTEXT_OFFSETS_FRAMES]
    with av.open(str(video)) as c:
        stream = c.streams.video[0]
        start_pts = int(wanted[0] / io.FRAME_RATE_HZ / stream.time_base)
        c.seek(start_pts, stream=stream, backward=True)
        out = {}
        for frame in c.decode(stream):
            i = round(float(frame.time) * io.FRAME_RATE_HZ)
            if i in wanted:
                out[i] = frame.to_ndarray(format="rgb24")
            if i >= wanted[-1]:
                break
    return np.stack([out[i] for i in wanted])


if __name__ == "__main__":
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(d)
        if len(sys.argv) == 1:
            collect(CollectConfig(episodes=6, workers=2, seed=0, overrides={"duration": 20.0}), root, progress=False)
        t = time.perf_counter()
        data = ClipDataset(root, DatasetConfig("all"))
        first_load_s = time.perf_counter() - t
        t = time.perf_counter()
        ClipDataset(root, DatasetConfig("all"))
        cached_load_s = time.perf_counter() - t
        gen = torch.Generator().manual_seed(0)
        t = time.perf_counter()
        for _ in range(BATCHES):
            data.batch(torch.randint(0, len(data), (BATCH,), generator=gen))  # pread from the decoded cache
        ours = BATCHES * BATCH / (time.perf_counter() - t)
        clips = list_clips(root)
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        for _ in range(SEEK_SAMPLES):
            clip = clips[rng.integers(len(clips))]
            decode_window(clip / "front.mp4", int(rng.integers(0, 150)))
        seek = SEEK_SAMPLES / (time.perf_counter() - t)
    print(f"dataset build: first {first_load_s:.2f} s (decode + cache), again {cached_load_s:.2f} s (cache on disk)")
    print(f"cached loader:          {ours:9.1f} samples/s")
    print(f"seek + decode loader:   {seek:9.1f} samples/s")
    print(f"speed-up:               {ours / seek:9.1f}x")
    print("training consumes ~250-320 samples/s here (benchmarks/train_throughput.py)")
