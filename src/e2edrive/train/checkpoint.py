"""Checkpoints: weights as safetensors, everything else as JSON. Nothing is unpickled. Writes are atomic."""

from __future__ import annotations

import json
import os
from pathlib import Path

from safetensors.torch import load_file, save_file

from e2edrive.model.net import DrivingNet, ModelConfig

WEIGHTS = "model.safetensors"
CONFIG = "config.json"


def atomic_write_text(path: Path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, model: DrivingNet, extra: dict) -> None:
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    tmp = run_dir / f".{WEIGHTS}.tmp-{os.getpid()}"
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(tmp))
    os.replace(tmp, run_dir / WEIGHTS)
    atomic_write_text(run_dir / CONFIG, json.dumps({"model": model.config.to_json(), **extra}, indent=2))


def load_model(run_dir: Path) -> tuple[DrivingNet, dict]:
    """Rebuild the network from config.json and load its safetensors weights, in eval mode."""
    run_dir = Path(run_dir)
    config = json.loads((run_dir / CONFIG).read_text())
    model = DrivingNet(ModelConfig.from_json(config["model"]))
    model.load_state_dict(load_file(str(run_dir / WEIGHTS)))
    model.eval()
    return model, config


def is_run_dir(path: Path) -> bool:
    return (Path(path) / WEIGHTS).exists() and (Path(path) / CONFIG).exists()
