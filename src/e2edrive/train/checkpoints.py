"""Periodic training checkpoints, for resuming a killed run exactly: safetensors + JSON, nothing pickled.

    RUN/checkpoints/step-000500/
        model.safetensors       the network's state
        optimizer.safetensors   every optimizer tensor (AdamW's step, exp_avg, exp_avg_sq per parameter)
        rng.safetensors         each rank's torch RNG state (CPU, and CUDA where used)
        state.json              step, total steps, optimizer param groups, the train config, world size, history

A checkpoint directory is written under a hidden temp name and renamed into place, so it is whole or absent.
A corrupt or truncated one (a killed disk, a bad copy) is reported in one line naming the file and the
previous good one is used instead.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

CHECKPOINTS = "checkpoints"
MODEL = "model.safetensors"
OPTIMIZER = "optimizer.safetensors"
RNG = "rng.safetensors"
STATE = "state.json"


def step_dir(run_dir: Path, step: int) -> Path:
    return Path(run_dir) / CHECKPOINTS / f"step-{step:07d}"


def _optimizer_tensors(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    """torch's optimizer state_dict → (flat tensors, the JSON-able rest)."""
    tensors = {}
    for index, per_param in state["state"].items():
        for name, value in per_param.items():
            tensors[f"{index}.{name}"] = torch.as_tensor(value).detach().contiguous().cpu()
    return tensors, {"param_groups": state["param_groups"], "params_with_state": sorted(state["state"])}


def _optimizer_state(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    state: dict[int, dict] = {int(i): {} for i in rest["params_with_state"]}
    for key, value in tensors.items():
        index, name = key.split(".", 1)
        state[int(index)][name] = value
    return {"state": state, "param_groups": rest["param_groups"]}


def save(
    run_dir: Path,
    step: int,
    model_state: dict[str, torch.Tensor],
    optimizer_state: dict,
    rng_states: list[dict[str, torch.Tensor]],
    state: dict,
    keep: int,
) -> Path:
    """Write checkpoint `step` atomically (a temp dir renamed into place); keep only the newest `keep`."""
    final = step_dir(run_dir, step)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(".step-*.tmp-*"):  # left by a run killed while writing
        shutil.rmtree(stale, ignore_errors=True)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    tmp.mkdir()
    save_file({k: v.detach().contiguous().cpu() for k, v in model_state.items()}, str(tmp / MODEL))
    tensors, rest = _optimizer_tensors(optimizer_state)
    save_file(tensors, str(tmp / OPTIMIZER))
    save_file({f"rank{r}.{k}": v.contiguous() for r, s in enumerate(rng_states) for k, v in s.items()}, str(tmp / RNG))
    (tmp / STATE).write_text(json.dumps({**state, "step": step, "optimizer": rest}, indent=2))
    for f in tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    shutil.rmtree(final, ignore_errors=True)
    os.rename(tmp, final)
    for old in sorted(p for p in final.parent.glob("step-*") if p.is_dir())[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


class CorruptCheckpoint(RuntimeError):
    """A checkpoint file that cannot be read; the message starts with the file's path."""


def _read(path: Path, reader):
    try:
        return reader(path)
    except Exception as exc:  # noqa: BLE001 - reported with the file it came from
        raise CorruptCheckpoint(f"{path}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}") from exc


def load(path: Path) -> dict:
    """A checkpoint's contents: model, optimizer (a torch state_dict), rng (per rank), state. Raises
    CorruptCheckpoint naming the first unreadable file."""
    path = Path(path)
    state = _read(path / STATE, lambda p: json.loads(p.read_text()))
    model = _read(path / MODEL, lambda p: load_file(str(p)))
    optimizer = _optimizer_state(_read(path / OPTIMIZER, lambda p: load_file(str(p))), state.pop("optimizer"))
    rng: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in _read(path / RNG, lambda p: load_file(str(p))).items():
        rank, name = key.split(".", 1)
        rng.setdefault(int(rank.removeprefix("rank")), {})[name] = value
    return {"path": path, "model": model, "optimizer": optimizer, "rng": rng, "state": state}


def latest(run_dir: Path, warn=print) -> dict | None:
    """The newest readable checkpoint of the run, or None. Unreadable ones are reported in one line each
    (naming the file) and skipped for the previous one."""
    root = Path(run_dir) / CHECKPOINTS
    candidates = sorted((p for p in root.glob("step-*") if p.is_dir()), reverse=True) if root.is_dir() else []
    for path in candidates:
        try:
            return load(path)
        except CorruptCheckpoint as exc:
            warn(f"unreadable checkpoint file {exc}; falling back to the previous checkpoint")
    return None


def rng_state(device_type: str) -> dict[str, torch.Tensor]:
    """This process's RNG state (the sampler needs none: it is a function of seed and step)."""
    out = {"torch_cpu": torch.get_rng_state()}
    if device_type == "cuda":
        out["torch_cuda"] = torch.cuda.get_rng_state()
    return out


def set_rng_state(state: dict[str, torch.Tensor]) -> None:
    torch.set_rng_state(state["torch_cpu"])
    if "torch_cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["torch_cuda"])
