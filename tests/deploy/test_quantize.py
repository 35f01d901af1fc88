import numpy as np
import onnx
import pytest

from e2edrive.core import io
from e2edrive.deploy.export import parity_inputs
from e2edrive.deploy.quantize import quantize_int8
from e2edrive.deploy.runtime.onnx_policy import make_session


@pytest.fixture(scope="module")
def fp32(untrained_onnx):
    return untrained_onnx


def _samples(count: int, seed: int) -> list[dict[str, np.ndarray]]:
    """Smooth images (random images give activation ranges no camera produces)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        x = parity_inputs(1, seed=int(rng.integers(1 << 30)))
        base = rng.integers(40, 200)
        x[io.frames_input("front")] = np.clip(base + rng.normal(0, 20, io.frames_shape(1)), 0, 255).astype(np.uint8)
        out.append(x)
    return out


def test_int8_model_keeps_the_io_quantizes_wide_layers_and_leaves_the_stem_and_head_float(fp32, tmp_path):
    int8 = tmp_path / "model_int8.onnx"
    quantize_int8(fp32, int8, _samples(16, 0))
    graph = onnx.load(str(int8)).graph
    onnx.checker.check_model(onnx.load(str(int8)), full_check=True)
    convs = [n for n in graph.node if n.op_type == "Conv"]
    produced_by_dq = {o for n in graph.node if n.op_type == "DequantizeLinear" for o in n.output}
    quantized = [c for c in convs if c.input[0] in produced_by_dq]
    assert convs and convs[0].input[0] not in produced_by_dq, "the 3-channel stem conv stays float"
    assert len(quantized) >= len(convs) - 1, "every conv after the stem runs on quantized activations"
    gemms = [n for n in graph.node if n.op_type == "Gemm"]
    assert gemms and not [g.name for g in gemms if g.input[0] in produced_by_dq], "the MLP head reads float"
    assert io.OUTPUT_PLAN not in produced_by_dq, "the plan is written in float, not on one uint8 scale"
    assert [i.name for i in graph.input] == [io.frames_input("front"), io.INPUT_SPEED, io.INPUT_COMMAND]
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")], "no temp files left behind"


def test_int8_outputs_stay_close_to_fp32(fp32, tmp_path):
    int8 = tmp_path / "model_int8.onnx"
    quantize_int8(fp32, int8, _samples(32, 0))
    a, b = make_session(fp32), make_session(int8)
    errors = [
        np.abs(a.run(None, x)[0] - b.run(None, x)[0])[0, io.PLAN_LAYOUT.trajectories].max() for x in _samples(8, 1)
    ]
    plans = [np.abs(a.run(None, x)[0])[0, io.PLAN_LAYOUT.trajectories].max() for x in _samples(8, 1)]
    assert max(errors) < 0.1 * max(plans), (errors, plans)
