"""Build a policy from a spec string: 'expert', 'expert-no-routes', 'rules', 'oracle', a training run directory, a
blind baseline's directory (`model/blind.py`), an .onnx file, or 'oracle-pick:RUN' (RUN's hypotheses, the expert's
pick).

Shared by fleet recording (a learner at the wheel, DAgger) and evaluation; heavy imports stay lazy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError
from e2edrive.core.policy import Policy

BUILTIN_POLICIES = ("expert", "expert-no-routes", "rules", "oracle")
"""expert: privileged IDM + MOBIL; expert-no-routes: the expert not told which way the other cars will go (its
conflict checks allow for every way, as a driver that only sees must: README, Results);
rules: the hand-written camera driver; oracle: the expert's plan through the learned driver's controller (the
ceiling of control)."""
ORACLE_PICK = "oracle-pick:"
"""'oracle-pick:RUN': the run's network plans, the hypothesis nearest the expert's plan drives (the ceiling of its
confidence head; `sim/drivers/oracle.OraclePickPolicy`)."""


def check_policy_spec(spec: str) -> None:
    """UserError unless spec names a built-in driver, an existing .onnx file or a training run directory; cheap,
    so a command can check it before starting any worker."""
    if spec in BUILTIN_POLICIES:
        return
    if spec.startswith(ORACLE_PICK):
        run = spec.removeprefix(ORACLE_PICK)
        check_policy_spec(run)
        if run in BUILTIN_POLICIES or Path(run).suffix == ".onnx" or _is_blind(Path(run)):
            raise UserError(f"policy {spec!r}: {ORACLE_PICK} takes a training run directory")
        return
    path = Path(spec)
    if path.suffix == ".onnx":
        if not path.is_file():
            raise UserError(f"policy {spec!r}: no such ONNX file")
        return
    if not path.is_dir():
        raise UserError(
            f"policy {spec!r} is neither {' nor '.join(repr(p) for p in BUILTIN_POLICIES)}, "
            f"an existing run directory, an .onnx file, nor {ORACLE_PICK}RUN"
        )
    from e2edrive.model.config import CONFIG, WEIGHTS, is_run_dir

    if _is_blind(path):
        return
    if not is_run_dir(path):
        raise UserError(f"policy {spec!r} is a directory but not a training run: expected {WEIGHTS} and {CONFIG}")


def make_policy(spec: str, controller_overrides: Mapping[str, Any] | None = None) -> Policy:
    """controller_overrides: ControllerConfig fields that change how a planning driver turns its plan into a
    command: a network starts from the controller its run or export records (how it drove in the rounds that
    trained it), the oracle from the defaults; the expert and the rules driver command directly."""
    policy = _make_policy(spec)
    if controller_overrides and hasattr(policy, "controller"):
        policy.controller = replace(policy.controller, **controller_overrides)
    return policy


def _make_policy(spec: str) -> Policy:
    check_policy_spec(spec)
    if spec == "expert":
        from e2edrive.sim.drivers.expert import ExpertPolicy

        return ExpertPolicy()
    if spec == "expert-no-routes":
        from e2edrive.sim.drivers.expert import ExpertPolicy

        return ExpertPolicy(knows_routes=False)
    if spec == "rules":
        from e2edrive.sim.drivers.rules import RulesPolicy

        return RulesPolicy()
    if spec == "oracle":
        from e2edrive.sim.drivers.oracle import OraclePolicy

        return OraclePolicy()
    if spec.startswith(ORACLE_PICK):
        from e2edrive.sim.drivers.oracle import OraclePickPolicy

        return OraclePickPolicy(Path(spec.removeprefix(ORACLE_PICK)))
    if Path(spec).suffix == ".onnx":
        from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy

        return OnnxPolicy(Path(spec))
    if _is_blind(Path(spec)):
        from e2edrive.model.blind import BlindPolicy

        return BlindPolicy(Path(spec))
    from e2edrive.model.policy import TorchPolicy

    return TorchPolicy(Path(spec))


def policy_controller(spec: str, controller_overrides: Mapping[str, Any] | None = None) -> ControllerConfig | None:
    """The controller `make_policy(spec, controller_overrides)` drives with, without building it (an export's is
    read from its metadata); None for the expert and the rules driver, which command directly."""
    check_policy_spec(spec)
    spec = spec.removeprefix(ORACLE_PICK)
    if spec in ("expert", "expert-no-routes", "rules"):
        return None
    own = ControllerConfig()
    if Path(spec).suffix == ".onnx":
        from e2edrive.deploy.runtime.onnx_policy import make_session, session_controller

        own = session_controller(make_session(Path(spec)))
    elif spec != "oracle" and not _is_blind(Path(spec)):
        from e2edrive.model.config import run_controller

        own = run_controller(Path(spec))
    return replace(own, **(controller_overrides or {}))


def _is_blind(path: Path) -> bool:
    """A blind baseline's run (`model/blind.py`: blind.json beside its weights); cheap, no torch."""
    return (path / "blind.json").is_file() and (path / "blind.safetensors").is_file()


def policy_cameras(spec: str) -> tuple[str, ...]:
    """The cameras a policy reads: none for the expert, the front camera for the rules driver, what a trained
    model's config (a run) or its inputs (an .onnx) name."""
    check_policy_spec(spec)
    spec = spec.removeprefix(ORACLE_PICK)
    if spec in ("expert", "expert-no-routes", "oracle") or _is_blind(Path(spec)):
        return ()
    if spec == "rules":
        return ("front",)
    path = Path(spec)
    if path.suffix == ".onnx":
        from e2edrive.deploy.runtime.onnx_policy import make_session, session_cameras

        return tuple(name for name, _ in session_cameras(make_session(path))[0])
    import json

    from e2edrive.model.config import CONFIG

    model = json.loads((path / CONFIG).read_text())["model"]
    return tuple(c["name"] for c in model.get("cameras", [{"name": "front"}]))
