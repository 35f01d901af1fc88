import json

import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.deploy.export import ExportError, ParityError, check_onnx, export_onnx, parity_inputs
from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy, make_session
from e2edrive.model.checkpoint import load_model

FRONT = io.frames_input("front")


@pytest.fixture(scope="module")
def run_dir(untrained_run):
    return untrained_run


def test_checkpoint_roundtrip_is_exact(run_dir):
    a, _ = load_model(run_dir)
    b, _ = load_model(run_dir)
    x = parity_inputs(2)
    args = ([torch.from_numpy(x[FRONT])], torch.from_numpy(x[io.INPUT_SPEED]), torch.from_numpy(x[io.INPUT_COMMAND]))
    with torch.no_grad():
        assert torch.equal(a(*args), b(*args))
    assert not list(run_dir.glob("*.pt")) and not list(run_dir.glob("*.pkl"))


def test_onnx_parity_and_io_names(run_dir, tmp_path):
    report = export_onnx(run_dir, tmp_path / "model.onnx")
    assert report["max_abs_error"] < 1e-3
    assert report["shapes"][io.OUTPUT_PLAN] == ["batch", io.PLAN_LAYOUT.size], "only the batch is symbolic"
    assert report["shapes"][FRONT] == ["batch", *io.frames_shape(1)[1:]]
    session = make_session(tmp_path / "model.onnx")
    assert [i.name for i in session.get_inputs()] == [FRONT, io.INPUT_SPEED, io.INPUT_COMMAND]
    meta = session.get_modelmeta().custom_metadata_map
    assert json.loads(meta[io.METADATA_CONTEXT]) == list(io.CONTEXT_OFFSETS_FRAMES)
    assert [o.name for o in session.get_outputs()] == [io.OUTPUT_PLAN]
    (plan,) = session.run(None, parity_inputs(3))
    assert plan.shape == (3, io.PLAN_LAYOUT.size)


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
    fp32_meta = make_session(tmp_path / "model.onnx").get_modelmeta().custom_metadata_map
    int8_meta = session.get_modelmeta().custom_metadata_map
    assert fp32_meta.items() <= int8_meta.items(), "INT8 keeps the context, layout and controller"
    assert io.METADATA_CONTROLLER in fp32_meta
    assert report["samples"] > 0 and np.isfinite(report["trajectory_abs_error_m"]["max"])


def test_every_exported_model_passes_the_full_onnx_checker_and_runs_an_empty_batch(run_dir, tiny_clips, tmp_path):
    import onnx

    from e2edrive.deploy.export import export_int8

    export_onnx(run_dir, tmp_path / "model.onnx")
    export_int8(run_dir, tmp_path / "model.onnx", tmp_path / "model_int8.onnx", tiny_clips)
    for name in ("model.onnx", "model_int8.onnx"):
        model = onnx.load(str(tmp_path / name))
        onnx.checker.check_model(model, full_check=True)
        (plan,) = make_session(tmp_path / name).run(None, {k: v[:0] for k, v in parity_inputs(1).items()})
        assert plan.shape == (0, io.PLAN_LAYOUT.size)
        assert check_onnx(tmp_path / name)[io.OUTPUT_PLAN] == ["batch", io.PLAN_LAYOUT.size]


def test_a_graph_with_a_symbolic_plan_size_is_refused(run_dir, tmp_path):
    import onnx

    export_onnx(run_dir, tmp_path / "model.onnx")
    model = onnx.load(str(tmp_path / "model.onnx"))
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_param = "plan_size"
    onnx.save(model, str(tmp_path / "symbolic.onnx"))
    with pytest.raises(ExportError, match="every dimension but the batch must be static"):
        check_onnx(tmp_path / "symbolic.onnx")


def test_int8_gate_over_several_scenarios_gates_the_mean_and_keeps_each(run_dir, tmp_path):
    import json

    from e2edrive.deploy.export import int8_gate

    export_onnx(run_dir, tmp_path / "model.onnx")
    same = tmp_path / "same.onnx"  # the FP32 model on both sides: no drop
    same.write_bytes((tmp_path / "model.onnx").read_bytes())
    gate = int8_gate(tmp_path / "model.onnx", same, episodes=1, workers=1, scenario="highway,merge")
    assert gate["passed"] and gate["drop"] == 0.0 and gate["scenario"] == "highway,merge"
    assert set(gate["int8"]["scenarios"]) == {"highway", "merge"}
    mean = sum(s["success_rate"] for s in gate["fp32"]["scenarios"].values()) / 2
    assert gate["fp32"]["success_rate"] == pytest.approx(mean)
    assert gate["paired"] == {"only_a": 0, "only_b": 0, "standard_error": 0.0}
    assert json.loads(same.with_suffix(".gate.json").read_text()) == gate


def test_paired_drop_counts_the_episodes_only_one_driver_won():
    from e2edrive.deploy.export import paired_drop

    fp32 = {("intersection", s): s % 2 == 0 for s in range(100)}  # wins seeds 0 and 2 mod 4
    int8 = {("intersection", s): s % 4 != 3 for s in range(100)}  # wins 0, 1 and 2 mod 4: only it wins 1 mod 4
    assert paired_drop(fp32, int8) == {"only_a": 0, "only_b": 25, "standard_error": 0.05}
    with pytest.raises(ValueError):
        paired_drop(fp32, {})


def test_an_early_fusion_network_exports_with_parity_and_runs_an_empty_batch(tmp_path):
    from e2edrive.model.checkpoint import save_checkpoint
    from e2edrive.model.config import ModelConfig
    from e2edrive.model.net import DrivingNet

    torch.manual_seed(0)
    save_checkpoint(tmp_path / "run", DrivingNet(ModelConfig(fusion="early")).eval(), {"note": "untrained"})
    report = export_onnx(tmp_path / "run", tmp_path / "model.onnx")
    assert report["max_abs_error"] < 1e-3
    (plan,) = make_session(tmp_path / "model.onnx").run(None, {k: v[:0] for k, v in parity_inputs(1).items()})
    assert plan.shape == (0, io.PLAN_LAYOUT.size)
