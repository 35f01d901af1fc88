"""Build a policy from a spec string: 'expert', 'rules', a training run directory, or an .onnx file.

Shared by fleet recording (a learner at the wheel, DAgger) and evaluation; heavy imports stay lazy.
"""

from __future__ import annotations

from pathlib import Path

from e2edrive.sim.policy import Policy


def make_policy(spec: str) -> Policy:
    if spec == "expert":
        from e2edrive.sim.drivers.expert import ExpertPolicy

        return ExpertPolicy()
    if spec == "rules":
        from e2edrive.sim.drivers.rules import RulesPolicy

        return RulesPolicy()
    path = Path(spec)
    if path.suffix == ".onnx" and path.is_file():
        from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy

        return OnnxPolicy(path)
    from e2edrive.train.checkpoint import is_run_dir

    if is_run_dir(path):
        from e2edrive.model.policy import TorchPolicy

        return TorchPolicy(path)
    raise ValueError(
        f"policy {spec!r} is neither 'expert', 'rules', a run directory with model.safetensors, nor an .onnx file"
    )


def needs_camera(spec: str) -> bool:
    return spec != "expert"
