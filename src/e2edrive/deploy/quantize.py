"""Static INT8 quantization (QDQ) of the exported network, calibrated on frames from the training set.

Activations uint8, weights int8 per channel: the U8S8 path onnxruntime runs fastest on x86 CPUs.
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

from e2edrive.model import io

CALIBRATION_SAMPLES = 256
CALIBRATION_CLIPS = 16
"""Clips decoded for calibration: enough variety, without decoding the whole training set."""


class _Reader(CalibrationDataReader):
    def __init__(self, samples: list[dict[str, np.ndarray]]) -> None:
        self._it: Iterator[dict[str, np.ndarray]] = iter(samples)

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def calibration_samples(
    data_dir: Path, count: int = CALIBRATION_SAMPLES, seed: int = 0, split: str = "train"
) -> list[dict[str, np.ndarray]]:
    """Batch-1 model inputs drawn (seeded) from the first CALIBRATION_CLIPS clips of a split."""
    import torch

    from e2edrive.data.dataset import ClipDataset, DatasetConfig

    data = ClipDataset(data_dir, DatasetConfig(split, max_clips=CALIBRATION_CLIPS))
    ids = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:count]
    out = []
    for i in ids:
        b = data.batch(i[None])
        out.append(
            {
                io.INPUT_FRAMES: b["frames"].numpy(),
                io.INPUT_SPEED: b["speed_mps"].numpy().astype(np.float32),
                io.INPUT_COMMAND: b["command"].numpy().astype(np.float32),
            }
        )
    return out


def quantize_int8(fp32_path: Path, int8_path: Path, samples: list[dict[str, np.ndarray]]) -> None:
    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    prepped = int8_path.with_name(f".{int8_path.stem}.prep.onnx")
    quant_pre_process(str(fp32_path), str(prepped), skip_symbolic_shape=True)
    convs = [n.name for n in onnx.load(str(prepped)).graph.node if n.op_type == "Conv"]
    tmp = int8_path.with_name(f".{int8_path.name}.tmp")
    quantize_static(
        str(prepped),
        str(tmp),
        _Reader(samples),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
        # The 3-channel stem gains nothing from INT8 (too few input channels) and costs a requantize.
        nodes_to_exclude=convs[:1],
    )
    prepped.unlink(missing_ok=True)
    tmp.replace(int8_path)
