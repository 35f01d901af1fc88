"""Shared fixtures: tiny worlds and tiny clip sets, built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2edrive.fleet.collect import CollectConfig, collect

REAL = Path(__file__).resolve().parents[1] / "samples" / "real"
"""The real driving samples shipped with the repository (dashcam clip, comma2k19 CAN/IMU/pose arrays)."""

SHORT = {"duration": 4.0, "vehicles_count": 10}
"""A 4 s highway episode (40 frames) with 10 cars: enough for every shape and alignment check."""


class ScriptedPolicy:
    """Constant command: drives the scripted crash / off-road tests."""

    privileged = False

    def __init__(self, steer_rad: float = 0.0, accel_mps2: float = 0.0) -> None:
        from e2edrive.core.policy import Action

        self.action = Action(steer_rad, accel_mps2)

    def reset(self, seed: int) -> None:
        pass

    def act(self, observation):
        return self.action


@pytest.fixture(scope="session")
def tiny_clips(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clips")
    collect(CollectConfig(episodes=4, workers=2, seed=0, overrides=SHORT), out, progress=False)
    return out


@pytest.fixture(scope="session")
def full_rig_clips(tmp_path_factory) -> Path:
    """Two short highway clips from the five-camera rig."""
    from e2edrive.sim.rig import FULL_RIG

    out = tmp_path_factory.mktemp("full_rig_clips")
    collect(CollectConfig(episodes=2, workers=1, seed=3, overrides=SHORT, cameras=FULL_RIG), out, progress=False)
    return out


@pytest.fixture(scope="session")
def untrained_run(tmp_path_factory) -> Path:
    """A run directory holding a seeded, untrained DrivingNet (model.safetensors + config.json)."""
    import torch

    from e2edrive.model.checkpoint import save_checkpoint
    from e2edrive.model.net import DrivingNet

    torch.manual_seed(0)
    run = tmp_path_factory.mktemp("untrained_run")
    save_checkpoint(run, DrivingNet().eval(), {"note": "untrained"})
    return run


@pytest.fixture(scope="session")
def untrained_onnx(untrained_run, tmp_path_factory) -> Path:
    """The untrained run exported to ONNX (parity-checked)."""
    from e2edrive.deploy.export import export_onnx

    path = tmp_path_factory.mktemp("untrained_export") / "model.onnx"
    export_onnx(untrained_run, path)
    return path
