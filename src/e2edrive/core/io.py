"""Every input/output shape, slice and unit of the driving model, in one place.

Training, export, evaluation and the in-car runtime import these names; this module imports numpy only
(openpilot keeps the same in `selfdrive/modeld/constants.py`).

Frames: the ego frame is right-handed, x forward, y left, z up (ISO 8855); yaw and steering are positive
to the left (counter-clockwise seen from above).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from e2edrive.core.errors import UserError

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
CONTEXT_OFFSETS_FRAMES = (-10, -5, 0)
"""Default frames a model sees, relative to now (1 s of context at 10 Hz: enough to see a car approach or a
curve begin), oldest first; a model's config may name others."""
LEGACY_CONTEXT_OFFSETS_FRAMES = (-4, -2, 0)
"""What models saved before the context was part of their config (or ONNX metadata) read."""
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
AUX_NAMES = ("lead_gap_m", "lead_closing_mps", "lane_offset_m", "expert_yielding")
"""Privileged labels recorded in the clips that auxiliary outputs can learn (radar-style lead car, lane offset,
whether the expert held back for another car): training signal and report material, never an input to driving.
The dataset carries all of them; a model learns those its `PlanLayout.aux` names (new ones: DEFAULT_AUX)."""
AUX_BINARY = frozenset({"expert_yielding"})
"""Auxiliary outputs that are yes/no labels: a logit in the plan, a probability once read (`PlanLayout.aux_of`)."""
DEFAULT_AUX = ("lead_gap_m", "lead_closing_mps", "lane_offset_m")
"""The auxiliary outputs new models are built with. The yield head (`expert_yielding`) is one
`PlanLayout(aux=AUX_NAMES)` away (e.g. `DaggerConfig.model`): two full generalist runs with it drove 84 and 72 %
of the 50 held-out seeds against 79-90 % in three without it (intersection 64 and 54 % against 60-66 %): not
the default."""


@dataclass(frozen=True)
class PlanLayout:
    """The model's flat output: K trajectory hypotheses, their confidences (logits), the controls, the
    auxiliary values. The most confident hypothesis drives.

        [x0, y0, ... x5, y5] x K | logit x K (none when K = 1) | steer_rad, accel_mps2 | aux...
    """

    hypotheses: int = 3
    """Six drove 78 % of the generalist's 50 held-out seeds in one full run, against 79-90 % with three: closer
    hypotheses, no closer driven plan (README)."""
    aux: tuple[str, ...] = DEFAULT_AUX

    @property
    def trajectories(self) -> slice:
        return slice(0, self.hypotheses * 2 * TRAJECTORY_POINTS)

    @property
    def confidences(self) -> slice:
        """Empty with one hypothesis (nothing to choose between)."""
        return slice(self.trajectories.stop, self.trajectories.stop + (self.hypotheses if self.hypotheses > 1 else 0))

    @property
    def control(self) -> slice:
        return slice(self.confidences.stop, self.confidences.stop + len(CONTROLS))

    @property
    def aux_values(self) -> slice:
        return slice(self.control.stop, self.control.stop + len(self.aux))

    @property
    def size(self) -> int:
        return self.aux_values.stop

    def hypotheses_of(self, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(K, TRAJECTORY_POINTS, 2) trajectories in metres and (K,) confidences (softmax of the logits)."""
        plan = self._check(plan)
        trajectories = plan[self.trajectories].reshape(self.hypotheses, TRAJECTORY_POINTS, 2)
        if self.hypotheses == 1:
            return trajectories, np.ones(1, np.float32)
        logits = plan[self.confidences].astype(np.float64)
        p = np.exp(logits - logits.max())
        return trajectories, (p / p.sum()).astype(np.float32)

    @staticmethod
    def driving(confidence: np.ndarray) -> int:
        """Index of the hypothesis that drives: the most confident."""
        return int(np.argmax(confidence))

    def split(self, plan: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """→ the driving trajectory (TRAJECTORY_POINTS, 2) metres, controls (2,) [steer_rad, accel_mps2]."""
        trajectories, confidence = self.hypotheses_of(plan)
        return trajectories[self.driving(confidence)], self._check(plan)[self.control]

    def aux_of(self, plan: np.ndarray) -> dict[str, float]:
        """Each auxiliary value by name (a yes/no one as its probability)."""
        values = self._check(plan)[self.aux_values].astype(np.float64)
        return {n: float(1 / (1 + np.exp(-v)) if n in AUX_BINARY else v) for n, v in zip(self.aux, values)}

    def _check(self, plan: np.ndarray) -> np.ndarray:
        plan = np.asarray(plan, np.float32).reshape(-1)
        if plan.shape[0] != self.size:
            raise ValueError(f"plan has {plan.shape[0]} values, expected {self.size} ({self})")
        return plan

    def to_json(self) -> dict:
        return {"hypotheses": self.hypotheses, "aux": list(self.aux)}

    @classmethod
    def from_json(cls, d: dict) -> PlanLayout:
        """Refuses fields it does not know (a layout saved by a newer e2edrive): read without them, the outputs
        would be misread without an error."""
        refuse_unknown_fields(cls, d, "plan layout")
        return cls(int(d["hypotheses"]), tuple(d["aux"]))


def refuse_unknown_fields(config_class: type, d: dict, what: str) -> None:
    """A saved config with fields this version's dataclass lacks was written by a newer e2edrive."""
    unknown = sorted(set(d) - {f.name for f in fields(config_class)})
    if unknown:
        raise UserError(
            f"the saved {what} has field(s) {unknown} this e2edrive does not know: it was written by a newer version; "
            "upgrade e2edrive to read it"
        )


PLAN_LAYOUT = PlanLayout()
"""The layout new models are built with."""
LEGACY_PLAN_LAYOUT = PlanLayout(hypotheses=1, aux=())
"""Models saved before the layout was recorded: one trajectory, no auxiliary outputs."""

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
"""(B, layout.size) float32, in the model's PlanLayout."""
METADATA_PLAN_LAYOUT = "plan_layout"
"""ONNX metadata key: the PlanLayout (JSON) of the plan output."""
METADATA_CONTROLLER = "controller"
"""ONNX metadata key: the controller (`core/control.ControllerConfig`, JSON) the network drives with."""


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
