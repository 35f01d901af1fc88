"""The benchmark scripts keep running as the code under them changes (their speeds are printed, never asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_throughput_steps_the_current_network_and_loss():
    bench = _load("train_throughput")
    for rig in ("front", "full"):
        config = bench.model_config(rig)
        assert len(config.cameras) == len(bench.RIGS[rig])
        assert bench.samples_per_s(config, 2, bf16=True, device="cpu", steps=1, warmup=1) > 0
