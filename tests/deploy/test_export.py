import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.deploy.export import ParityError, export_onnx, parity_inputs
from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy, make_session
from e2edrive.model.checkpoint import load_model


@pytest.fixture(scope="module")
def run_dir(untrained_run):
    return untrained_run


def test_checkpoint_roundtrip_is_exact(run_dir):
    a, _ = load_model(run_dir)
    b, _ = load_model(run_dir)
    x = parity_inputs(2)
    args = [torch.from_numpy(x[k]) for k in (io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND)]
    with torch.no_grad():
        assert torch.equal(a(*args), b(*args))
    assert not list(run_dir.glob("*.pt")) and not list(run_dir.glob("*.pkl"))


def test_onnx_parity_and_io_names(run_dir, tmp_path):
    report = export_onnx(run_dir, tmp_path / "model.onnx")
    assert report["max_abs_error"] < 1e-3
    session = make_session(tmp_path / "model.onnx")
    assert [i.name for i in session.get_inputs()] == [io.INPUT_FRAMES, io.INPUT_SPEED, io.INPUT_COMMAND]
    assert [o.name for o in session.get_outputs()] == [io.OUTPUT_PLAN]
    (plan,) = session.run(None, parity_inputs(3))
    assert plan.shape == (3, io.PLAN_SIZE)


def test_parity_gate_fails_loudly(run_dir, tmp_path):
    with pytest.raises(ParityError):
        export_onnx(run_dir, tmp_path / "model.onnx", tolerance=-1.0)
    assert not (tmp_path / "model.onnx").exists()


def test_onnx_policy_acts(run_dir, tmp_path):
    from e2edrive.core.policy import Observation

    export_onnx(run_dir, tmp_path / "model.onnx")
    policy = OnnxPolicy(tmp_path / "model.onnx")
    policy.reset(0)
    frame = np.zeros((io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3), np.uint8)
    action = policy.act(Observation({"front": frame}, 20.0, "follow", 0.0))
    assert np.isfinite(action.steer_rad) and np.isfinite(action.accel_mps2)


def test_int8_quantization_is_calibrated_and_close(run_dir, tiny_clips, tmp_path):
    from e2edrive.deploy.export import export_int8

    export_onnx(run_dir, tmp_path / "model.onnx")
    report = export_int8(run_dir, tmp_path / "model.onnx", tmp_path / "model_int8.onnx", tiny_clips)
    session = make_session(tmp_path / "model_int8.onnx")
    ops = {n.op_type for n in __import__("onnx").load(str(tmp_path / "model_int8.onnx")).graph.node}
    assert "QuantizeLinear" in ops and "DequantizeLinear" in ops
    (plan,) = session.run(None, parity_inputs(1))
    assert np.isfinite(plan).all()
    assert report["samples"] > 0 and np.isfinite(report["trajectory_abs_error_m"]["max"])
