"""The exported network as a driving policy, on onnxruntime (no torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidGraph, InvalidProtobuf

from e2edrive.core import io
from e2edrive.core.control import CameraContexts, ControllerConfig, plan_to_action
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Action, Observation


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


def session_cameras(session: ort.InferenceSession) -> tuple[list[tuple[str, tuple[int, int, int]]], tuple[int, ...]]:
    """What an exported model reads, from the model itself: its cameras with their (H, W, C) frames, in input
    order (inputs `frames_<camera>`), and its context offsets (metadata `context_offsets_frames`)."""
    cameras = []
    for i in session.get_inputs():
        camera = io.camera_of_input(i.name)
        if camera is not None:
            _, _, c, h, w = i.shape
            cameras.append((camera, (int(h), int(w), int(c))))
    if not cameras:
        raise UserError(f"the ONNX model has no {io.FRAMES_INPUT_PREFIX}<camera> input: not an e2edrive driving model")
    meta = session.get_modelmeta().custom_metadata_map
    if io.METADATA_CONTEXT not in meta:  # exported before the context was recorded
        return cameras, io.LEGACY_CONTEXT_OFFSETS_FRAMES
    offsets = tuple(json.loads(meta[io.METADATA_CONTEXT]))
    return cameras, offsets


def session_layout(session: ort.InferenceSession) -> io.PlanLayout:
    """The model's plan layout, from its metadata (exports before it was recorded: one trajectory, no aux)."""
    meta = session.get_modelmeta().custom_metadata_map
    if io.METADATA_PLAN_LAYOUT in meta:
        return io.PlanLayout.from_json(json.loads(meta[io.METADATA_PLAN_LAYOUT]))
    return io.LEGACY_PLAN_LAYOUT


def session_controller(session: ort.InferenceSession) -> ControllerConfig:
    """The controller the network drives with, from its metadata (exports before it was recorded: the defaults)."""
    meta = session.get_modelmeta().custom_metadata_map
    if io.METADATA_CONTROLLER in meta:
        return ControllerConfig.from_json(json.loads(meta[io.METADATA_CONTROLLER]))
    return ControllerConfig()


class OnnxPolicy:
    """Sees only the cameras the model reads (its inputs), its own speed and the command."""

    privileged = False

    def __init__(self, path: Path, controller: ControllerConfig | None = None, threads: int = 1) -> None:
        """controller: None drives with the one the model records (`session_controller`)."""
        self.session = make_session(path, threads)
        self.controller = controller or session_controller(self.session)
        cameras, offsets = session_cameras(self.session)
        self.cameras = tuple(name for name, _ in cameras)
        self.context = CameraContexts(cameras, offsets)
        self.layout = session_layout(self.session)
        self._feeds = {
            io.INPUT_SPEED: np.zeros((1, 1), np.float32),
            io.INPUT_COMMAND: np.zeros((1, io.N_COMMANDS), np.float32),
        }
        self.last_plan = np.zeros(self.layout.size, np.float32)

    def reset(self, seed: int) -> None:
        self.context.reset()

    def plan(self, observation: Observation) -> np.ndarray:
        for name, stack in zip(self.cameras, self.context.push(observation.frames)):
            self._feeds[io.frames_input(name)] = stack[None]
        self._feeds[io.INPUT_SPEED][0, 0] = observation.speed_mps
        self._feeds[io.INPUT_COMMAND][0] = io.command_one_hot(observation.command)
        (plan,) = self.session.run([io.OUTPUT_PLAN], self._feeds)
        self.last_plan = plan[0]
        return self.last_plan

    def act(self, observation: Observation) -> Action:
        return plan_to_action(self.plan(observation), observation.speed_mps, self.controller, self.layout)
