"""The exported network as a driving policy, on onnxruntime (no torch)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf

from e2edrive.core import io
from e2edrive.core.control import ControllerConfig, FrameContext, plan_to_action
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Action, Observation

CAMERA = "front"


def make_session(path: Path, threads: int = 1) -> ort.InferenceSession:
    """An onnxruntime CPU session; UserError when path is missing or not an ONNX model."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such ONNX model file")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except (InvalidProtobuf, InvalidGraph, Fail) as exc:
        raise UserError(f"{path} is not a loadable ONNX model: {str(exc).splitlines()[0][:200]}") from exc


class OnnxPolicy:
    privileged = False

    def __init__(self, path: Path, controller: ControllerConfig = ControllerConfig(), threads: int = 1) -> None:
        self.session = make_session(path, threads)
        self.controller = controller
        self.context = FrameContext()
        self._speed = np.zeros((1, 1), np.float32)
        self._command = np.zeros((1, io.N_COMMANDS), np.float32)
        self.last_plan = np.zeros(io.PLAN_SIZE, np.float32)

    def reset(self, seed: int) -> None:
        self.context.reset()

    def plan(self, observation: Observation) -> np.ndarray:
        frames = self.context.push(observation.frames[CAMERA])[None]
        self._speed[0, 0] = observation.speed_mps
        self._command[0] = io.command_one_hot(observation.command)
        (plan,) = self.session.run(
            [io.OUTPUT_PLAN], {io.INPUT_FRAMES: frames, io.INPUT_SPEED: self._speed, io.INPUT_COMMAND: self._command}
        )
        self.last_plan = plan[0]
        return self.last_plan

    def act(self, observation: Observation) -> Action:
        return plan_to_action(self.plan(observation), observation.speed_mps, self.controller)
