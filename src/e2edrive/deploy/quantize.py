"""Static INT8 quantization (QDQ) of an exported network; onnxruntime + numpy only.

Activations uint8, weights int8 per channel: the U8S8 path onnxruntime runs fastest on x86 CPUs. The
calibration inputs come from the caller (`deploy/export.py` draws them from the training clips).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnx
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from onnxruntime.quantization.shape_inference import quant_pre_process

from e2edrive.core.files import atomic_path


class _Reader(CalibrationDataReader):
    def __init__(self, samples: list[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def quantize_int8(fp32_path: Path, int8_path: Path, samples: list[dict[str, np.ndarray]]) -> None:
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    prepped = int8_path.with_name(f".{int8_path.stem}.prep.onnx")
    quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
    # Float up to and including the stem conv: the input scaling (uint8 → [-0.5, 0.5]) is elementwise work
    # that quantizing only wraps in extra Quantize/Dequantize nodes, and the 3-channel stem gains nothing from
    # INT8 (too few input channels) while costing a requantize. Float after the last conv too: the MLP head is
    # a few percent of the work, and quantized it read the speed on the image features' scale (~1 m/s steps)
    # and wrote the plan on one uint8 scale from the confidences' logits to a 90-m path (~0.4 m steps, where
    # the pace is the path's distance over 0.5-s steps). The graph is in topological order.
    nodes = onnx.load(str(prepped)).graph.node
    convs = [i for i, n in enumerate(nodes) if n.op_type == "Conv"]
    float_nodes = [n.name for n in nodes[: convs[0] + 1]] + [n.name for n in nodes[convs[-1] + 1 :]]
    with atomic_path(int8_path) as tmp:
        quantize_static(
            str(prepped),
            str(tmp),
            _Reader(samples),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            nodes_to_exclude=float_nodes,
        )
        from e2edrive.deploy.export import check_onnx

        check_onnx(tmp)  # onnx's full checker, static shapes, an empty batch: before it is published
    prepped.unlink(missing_ok=True)
