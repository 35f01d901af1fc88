"""Training-loss plot and GIFs (frames with the predicted path come from `deploy/runtime/overlay.py`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.files import atomic_path


def plot_loss(history: list[dict], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    steps = [h["step"] for h in history]
    for key in ("loss", "traj", "confidence", "steer", "accel", "aux", "aux_binary"):
        if history and key in history[0]:
            ax.plot(steps, [h[key] for h in history], label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("smooth-L1 (scaled)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def save_gif(frames: list[np.ndarray], out_gif: Path, fps: int = 10, scale: int = 2) -> None:
    from PIL import Image

    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in frames]
    with atomic_path(out_gif) as tmp:
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
