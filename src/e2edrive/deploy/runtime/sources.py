"""Frame sources for the in-car loop: a video file (open loop) here, the simulator (closed loop) in
`deploy/sim_source.py`, which needs the `sim` extra. No torch.

A source's `read()` returns this cycle's Frame, or None when no new frame arrived in time (a dropped
frame); `finished` turns True at the end; `apply(action)` sends the command to the actuators.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from e2edrive.core import io
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Action
from e2edrive.deploy.runtime.monitor import LeadEstimate


@dataclass
class Frame:
    """images: camera name → (H, W, 3) uint8 RGB at the camera's resolution. lead: radar-style estimate when
    the car has one."""

    images: dict[str, np.ndarray]
    speed_mps: float
    time_s: float
    command: str = "follow"
    lead: LeadEstimate | None = None

    @property
    def image(self) -> np.ndarray:
        """The front camera's frame (what the recorded video shows)."""
        return self.images["front"]


class VideoSource:
    """A recorded drive (e.g. a dashcam MP4) resampled to the loop rate and resized to the model's input.

    The file carries no speed: `assumed_speed_mps` is what the model is told, and it is declared in the report.
    """

    def __init__(self, path: Path, rate_hz: float, assumed_speed_mps: float = 25.0) -> None:
        import av

        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"{self.path}: no such video file (expected a video, or 'sim')")
        try:
            self._container = av.open(str(self.path))
            self._stream = self._container.streams.video[0]
        except (av.error.FFmpegError, IndexError) as exc:
            raise UserError(f"{self.path} is not a readable video: {exc}") from exc
        self._frames = self._container.decode(self._stream)
        self._period_s = 1.0 / rate_hz
        self._next_t_s = 0.0
        self._pending = None
        self.assumed_speed_mps = assumed_speed_mps
        self.finished = False

    def _decode_next(self):
        try:
            return next(self._frames)
        except StopIteration:
            self.finished = True
            self._container.close()
            return None

    def read(self) -> Frame | None:
        """The last video frame at or before this cycle's time; None if the video has none newer (dropped)."""
        from PIL import Image

        chosen = None
        while not self.finished:
            f = self._pending or self._decode_next()
            self._pending = None
            if f is None:
                break
            if float(f.time) > self._next_t_s + 1e-6:
                self._pending = f
                break
            chosen = f
        t = self._next_t_s
        self._next_t_s += self._period_s
        if chosen is None:
            return None
        rgb = chosen.to_image().resize((io.IMAGE_WIDTH_PX, io.IMAGE_HEIGHT_PX), Image.BILINEAR)
        return Frame({"front": np.asarray(rgb, np.uint8)}, self.assumed_speed_mps, t)

    def apply(self, action: Action) -> None:
        """Open loop: a recording cannot be steered."""
