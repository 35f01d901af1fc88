"""A model that reads several cameras, end to end: trained from full-rig clips, exported with one ONNX input
per camera, driven closed loop by torch and ONNX (the world renders what the model reads)."""

import json

import numpy as np
import pytest

from e2edrive.core import io
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Observation
from e2edrive.deploy.export import export_onnx
from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy
from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
from e2edrive.model.checkpoint import load_model
from e2edrive.model.config import CameraInput, ModelConfig
from e2edrive.policies import policy_cameras
from e2edrive.train.config import TrainConfig
from e2edrive.train.loop import train
from tests.conftest import SHORT

CAMERAS = ("front", "front_wide", "rear")


@pytest.fixture(scope="module")
def run(full_rig_clips, tmp_path_factory):
    model = ModelConfig(cameras=tuple(CameraInput(c) for c in CAMERAS), context_offsets_frames=(-10, -5, 0))
    config = TrainConfig(minutes=None, max_steps=3, batch_size=4, val_fraction=0.0, workers=0, model=model)
    path = tmp_path_factory.mktemp("cameras") / "run"
    train(full_rig_clips, path, config, progress=False)
    return path


def test_the_run_records_its_cameras_with_the_sizes_of_the_data(run):
    model, saved = load_model(run)
    assert model.config.camera_names == CAMERAS and model.config.context_offsets_frames == (-10, -5, 0)
    wide = model.config.cameras[1]
    assert (wide.height_px, wide.width_px) == (96, 192), "front_wide's size comes from its frames"
    assert policy_cameras(str(run)) == CAMERAS


def test_one_onnx_input_per_camera_and_the_context_in_its_metadata(run, tmp_path):
    export_onnx(run, tmp_path / "model.onnx")
    policy = OnnxPolicy(tmp_path / "model.onnx")
    assert policy.cameras == CAMERAS
    names = [i.name for i in policy.session.get_inputs()]
    assert names == [*(io.frames_input(c) for c in CAMERAS), io.INPUT_SPEED, io.INPUT_COMMAND]
    meta = policy.session.get_modelmeta().custom_metadata_map
    assert json.loads(meta[io.METADATA_CONTEXT]) == [-10, -5, 0]
    frames = {"front": np.zeros((96, 160, 3), np.uint8), "rear": np.zeros((96, 160, 3), np.uint8)}
    with pytest.raises(UserError, match=r"reads camera\(s\) \['front_wide'\]"):
        policy.plan(Observation(frames, 20.0, "follow", 0.0))


def test_torch_and_onnx_drive_closed_loop_with_the_cameras_they_read(run, tmp_path):
    export_onnx(run, tmp_path / "model.onnx")
    for spec in (str(run), str(tmp_path / "model.onnx")):
        result = evaluate(EvalConfig(spec, episodes=1, seed=9, workers=1, overrides=SHORT), progress=False)
        assert result["episodes_count"] == 1 and result["distance_m"] > 0


def test_data_without_a_camera_the_model_reads_is_refused(tiny_clips, tmp_path):
    model = ModelConfig(cameras=(CameraInput("front"), CameraInput("rear")))
    config = TrainConfig(minutes=None, max_steps=1, batch_size=4, model=model)
    with pytest.raises(UserError, match="has no rear camera, which the model reads"):
        train(tiny_clips, tmp_path / "run", config, progress=False)
