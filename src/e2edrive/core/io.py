"""Every input/output shape, slice and unit of the driving model, in one place.

Training, export, evaluation and the in-car runtime import these names; this module imports numpy only
(openpilot keeps the same in `selfdrive/modeld/constants.py`).

Frames: the ego frame is right-handed, x forward, y left, z up (ISO 8855); yaw and steering are positive
to the left (counter-clockwise seen from above).
"""

from __future__ import annotations

import numpy as np

# --- time base ---------------------------------------------------------------------------------
FRAME_RATE_HZ = 10
"""Simulation, recording and policy rate."""
FRAME_DT_S = 1.0 / FRAME_RATE_HZ

# --- camera input ------------------------------------------------------------------------------
IMAGE_HEIGHT_PX = 96
IMAGE_WIDTH_PX = 160
IMAGE_CHANNELS = 3
DEFAULT_CAMERAS = ("front",)
"""The cameras a model reads unless its config names others (`model/config.py`)."""
CONTEXT_OFFSETS_FRAMES = (-4, -2, 0)
"""Default frames a model sees, relative to now (0.4 s of context at 10 Hz), oldest first; a model's config
may name others."""
CONTEXT_FRAMES = len(CONTEXT_OFFSETS_FRAMES)

# --- navigation command ("desire" in openpilot) ------------------------------------------------
COMMANDS = ("follow", "left", "straight", "right", "exit")
N_COMMANDS = len(COMMANDS)

# --- outputs -----------------------------------------------------------------------------------
TRAJECTORY_DT_S = 0.5
TRAJECTORY_POINTS = 6
"""Future ego positions at 0.5, 1.0, ... 3.0 s, (x, y) metres in the current ego frame."""
TRAJECTORY_HORIZON_S = TRAJECTORY_DT_S * TRAJECTORY_POINTS
TRAJECTORY_STRIDE_FRAMES = round(TRAJECTORY_DT_S * FRAME_RATE_HZ)
CONTROLS = ("steer_rad", "accel_mps2")

TRAJECTORY = slice(0, 2 * TRAJECTORY_POINTS)
"""Flat (x0, y0, x1, y1, ...) in metres."""
CONTROL = slice(TRAJECTORY.stop, TRAJECTORY.stop + len(CONTROLS))
PLAN_SIZE = CONTROL.stop

# --- ONNX contract -----------------------------------------------------------------------------
ONNX_OPSET = 17
FRAMES_INPUT_PREFIX = "frames_"
"""One input per camera, `frames_<camera>`: (B, T, C, H, W) uint8 RGB, T = the model's context frames."""
METADATA_CONTEXT = "context_offsets_frames"
"""ONNX metadata key: the context offsets (JSON list of frames relative to now) the frames inputs stack."""
INPUT_SPEED = "speed_mps"
"""(B, 1) float32."""
INPUT_COMMAND = "command"
"""(B, N_COMMANDS) float32 one-hot."""
OUTPUT_PLAN = "plan"
"""(B, PLAN_SIZE) float32: TRAJECTORY then CONTROL slices."""


def frames_input(camera: str) -> str:
    """ONNX input name of a camera's frames."""
    return f"{FRAMES_INPUT_PREFIX}{camera}"


def camera_of_input(name: str) -> str | None:
    """The camera of a `frames_<camera>` input name; None for another input."""
    return name[len(FRAMES_INPUT_PREFIX) :] if name.startswith(FRAMES_INPUT_PREFIX) else None


def frames_shape(
    batch: int = 1, context: int = CONTEXT_FRAMES, height_px: int = IMAGE_HEIGHT_PX, width_px: int = IMAGE_WIDTH_PX
) -> tuple[int, int, int, int, int]:
    return (batch, context, IMAGE_CHANNELS, height_px, width_px)


def command_one_hot(command: str) -> np.ndarray:
    """(N_COMMANDS,) float32 one-hot for a command name."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r}; expected one of {COMMANDS}")
    out = np.zeros(N_COMMANDS, np.float32)
    out[COMMANDS.index(command)] = 1.0
    return out


def split_plan(plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(PLAN_SIZE,) → trajectory (TRAJECTORY_POINTS, 2) metres, controls (2,) [steer_rad, accel_mps2]."""
    plan = np.asarray(plan, np.float32).reshape(-1)
    if plan.shape[0] != PLAN_SIZE:
        raise ValueError(f"plan has {plan.shape[0]} values, expected {PLAN_SIZE}")
    return plan[TRAJECTORY].reshape(TRAJECTORY_POINTS, 2), plan[CONTROL]
