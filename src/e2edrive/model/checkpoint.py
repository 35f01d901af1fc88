"""Checkpoints: weights as safetensors, everything else as JSON. Nothing is unpickled. Writes are atomic."""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_path, atomic_write_json
from e2edrive.model.config import CONFIG, WEIGHTS, ModelConfig, is_run_dir
from e2edrive.model.net import DrivingNet

__all__ = ["CONFIG", "WEIGHTS", "is_run_dir", "load_model", "save_checkpoint"]


def save_checkpoint(run_dir: Path, model: DrivingNet, extra: dict) -> None:
    """Write RUN/model.safetensors and RUN/config.json ({"model": its config, **extra}), each atomically."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    with atomic_path(run_dir / WEIGHTS) as tmp:
        save_file(state, str(tmp))
    atomic_write_json(run_dir / CONFIG, {"model": model.config.to_json(), **extra})


def load_model(run_dir: Path) -> tuple[DrivingNet, dict]:
    """Rebuild the network from config.json and load its safetensors weights, in eval mode."""
    run_dir = Path(run_dir)
    if not is_run_dir(run_dir):
        raise UserError(f"{run_dir} is not a training run: expected {WEIGHTS} and {CONFIG} in it")
    config = json.loads((run_dir / CONFIG).read_text())
    model = DrivingNet(ModelConfig.from_json(config["model"]))
    model.load_state_dict(load_file(str(run_dir / WEIGHTS)))
    model.eval()
    return model, config
