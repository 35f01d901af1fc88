"""The driving network's configuration, saved beside every checkpoint (no torch here: the command line and
the planner read it). Like LeRobot's policy configs declare their input features, it names the cameras the
network reads, their sizes, and the context frames it stacks."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from e2edrive.core import io
from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError

WEIGHTS = "model.safetensors"
CONFIG = "config.json"
"""A training run directory holds the network's weights and its config (`model/checkpoint.py`)."""


FUSIONS = ("late", "early")


def is_run_dir(path: Path) -> bool:
    """Cheap (no torch): does path hold a saved network?"""
    return (Path(path) / WEIGHTS).is_file() and (Path(path) / CONFIG).is_file()


def run_controller(path: Path) -> ControllerConfig:
    """The controller a run's network drives with, recorded in its config.json by training (`TrainConfig.controller`);
    the defaults for runs saved before it was recorded. Cheap (no torch)."""
    saved = json.loads((Path(path) / CONFIG).read_text()).get("controller")
    return ControllerConfig.from_json(saved) if saved is not None else ControllerConfig()


@dataclass(frozen=True)
class CameraInput:
    """One camera the network reads: its rig name and frame size in pixels."""

    name: str = "front"
    height_px: int = io.IMAGE_HEIGHT_PX
    width_px: int = io.IMAGE_WIDTH_PX

    @property
    def shape_hwc(self) -> tuple[int, int, int]:
        return (self.height_px, self.width_px, io.IMAGE_CHANNELS)


@dataclass(frozen=True)
class ModelConfig:
    cameras: tuple[CameraInput, ...] = (CameraInput("front"),)
    """Input cameras, in input order (one ONNX input `frames_<camera>` each)."""
    context_offsets_frames: tuple[int, ...] = io.CONTEXT_OFFSETS_FRAMES
    """Frames stacked per camera, relative to now at FRAME_RATE_HZ, oldest first."""
    stem_channels: int = 32
    stem_patch_px: int = 4
    """Stem: a patch_px x patch_px convolution with stride patch_px (a "patchify" stem). Full-resolution
    convolutions on 3 or 16 channels were most of the time on CPU and gain nothing from INT8; the patch stem
    does the full-resolution work once, cheaply, and leaves the rest to wide layers INT8 speeds up ~2x."""
    channels: tuple[int, ...] = (48, 64)
    """Widths of the stride-2 blocks after the stem (two 3x3 convs each)."""
    fusion: str = "late"
    """Where the context frames meet: "late" runs the CNN on each frame alone and stacks the feature maps after it
    (a car's motion between frames reaches the network only as which 16-px cell holds it); "early" stacks the
    frames as the stem's input channels (as DQN stacks Atari frames), so the first convolutions see the
    displacement pixel by pixel and the CNN runs once per sample instead of once per frame. Measured
    (docs/results_history.md, "The context frames stacked before the CNN"; 50 held-out seeds 600000..): four
    generalist runs with "early" drove 94.3, 85.7, 90.0 and 89.7 % (late: 91.7 and 88.3 %), the intersection 70
    against 59 % on average, the roundabout 82 against 93 %, and the highway at density 2.0 72-80 % against
    52-66 %; `make demo`'s highway loop with "early" drove 100 % and, at density 2.0, 24 % (late: 48 % in two
    runs). Not the default: the intersection's gain comes with the roundabout's loss, and the mean stays. At
    batch 1 on one core (benchmarks/onnx_latency.py) it is faster, ORT FP32 p50 0.55 against 0.86 ms, INT8 0.39
    against 0.51 ms, but INT8 gains only 1.43-1.45x over FP32 (late: 1.69x; the issue asks 1.5x)."""
    fused_channels: int = 96
    hidden: int = 256
    dropout: float = 0.1
    plan: io.PlanLayout = io.PLAN_LAYOUT
    """What the network outputs: K trajectory hypotheses with confidences, controls, auxiliary values."""

    def __post_init__(self) -> None:
        if not self.channels or any(c <= 0 for c in self.channels) or self.stem_channels <= 0:
            raise UserError(f"stem_channels={self.stem_channels}, channels={self.channels}: need positive widths")
        if self.fusion not in FUSIONS:
            raise UserError(f"fusion={self.fusion!r}: choose one of {', '.join(FUSIONS)}")
        names = [c.name for c in self.cameras]
        if not names or len(set(names)) != len(names):
            raise UserError(f"cameras {names}: need at least one, each once")
        if not self.context_offsets_frames or max(self.context_offsets_frames) > 0:
            raise UserError(f"context_offsets_frames={self.context_offsets_frames}: need frames at or before now")
        down = self.downsample
        for c in self.cameras:
            if c.height_px % down or c.width_px % down:
                raise UserError(
                    f"stem_patch_px={self.stem_patch_px} with {len(self.channels)} blocks downsamples by {down}, "
                    f"which does not divide camera {c.name!r}'s {c.width_px}x{c.height_px} image"
                )

    @property
    def downsample(self) -> int:
        return self.stem_patch_px * 2 ** len(self.channels)

    @property
    def camera_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cameras)

    @property
    def context_frames(self) -> int:
        return len(self.context_offsets_frames)

    def feature_hw(self, camera: CameraInput) -> tuple[int, int]:
        """(h, w) of the encoder's output map for a camera."""
        return camera.height_px // self.downsample, camera.width_px // self.downsample

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> ModelConfig:
        """Configs saved before cameras, context and the plan layout were part of them read as the front camera,
        (-4, -2, 0) and one trajectory without auxiliary outputs."""
        io.refuse_unknown_fields(cls, d, "model config")
        d = dict(d)
        d["cameras"] = tuple(CameraInput(**c) for c in d.get("cameras", [asdict(CameraInput())]))
        d["context_offsets_frames"] = tuple(d.get("context_offsets_frames", io.LEGACY_CONTEXT_OFFSETS_FRAMES))
        d["channels"] = tuple(d["channels"])
        d["plan"] = io.PlanLayout.from_json(d["plan"]) if "plan" in d else io.LEGACY_PLAN_LAYOUT
        return cls(**d)
