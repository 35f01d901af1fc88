"""Decode each clip's video once into a uint8 .npy beside the clips, then memory-map it.

    ROOT/.cache/frames/<clip_id>-<camera>-<key>.npy     (N, H, W, 3) uint8

key hashes the video's size and modification time, so a re-recorded clip gets a fresh cache. The hidden
.cache directory is never listed as a clip. Writes are atomic (temp file, then rename). A video that does not
decode raises as its decoder does; a cache that cannot be written (a full disk) raises UserError, so a caller
that skips damaged clips does not skip every clip of a full disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_path
from e2edrive.data.clip import read_video

CACHE_DIR = ".cache/frames"


def cache_path(clip: Path, camera: str) -> Path:
    video = Path(clip) / f"{camera}.mp4"
    st = video.stat()
    key = hashlib.sha256(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest()[:12]
    return Path(clip).parent / CACHE_DIR / f"{Path(clip).name}-{camera}-{key}.npy"


def ensure_cached(clip: Path, camera: str = "front") -> Path:
    """The path of the clip camera's decoded frames, decoding the video (once ever) on a miss."""
    path = cache_path(clip, camera)
    if not path.exists():
        frames = read_video(Path(clip) / f"{camera}.mp4")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.save(f, frames)
        except OSError as exc:
            raise UserError(
                f"cannot write the frame cache {path} ({frames.nbytes / 1e6:.0f} MB): {exc}. On a full disk, free"
                f" space there; the frame caches are safe to delete (rm -r {path.parent.parent}), they decode again"
            ) from exc
    return path


def cached_frames(clip: Path, camera: str = "front") -> np.ndarray:
    """(N, H, W, 3) uint8, memory-mapped read-only; decoded (once) on a miss."""
    return np.load(ensure_cached(clip, camera), mmap_mode="r")
