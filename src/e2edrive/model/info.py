"""What a network costs: parameters, FLOPs per sample (torch's own FLOP counter), activation memory at batch
1, per camera and per part. Read by `e2edrive model-info` and the compute planner (`train/plan.py`)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from e2edrive.core import io
from e2edrive.model.net import DrivingNet

PARTS = ("encoder", "fuse", "squeeze", "head")
"""The network's parts, in data order: per-frame CNN (shared by the cameras), temporal fusion, spatial
squeeze, plan head."""


def _inputs(model: DrivingNet, batch: int = 1) -> tuple:
    c = model.config
    frames = [
        torch.zeros(io.frames_shape(batch, c.context_frames, cam.height_px, cam.width_px), dtype=torch.uint8)
        for cam in c.cameras
    ]
    return frames, torch.full((batch, 1), 20.0), torch.zeros(batch, io.N_COMMANDS)


def _flops(fn) -> tuple[int, dict[str, int]]:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn()
    per_module = counter.get_flop_counts()
    by_part = {part: int(sum(per_module.get(f"DrivingNet.{part}", {}).values())) for part in PARTS}
    return int(counter.get_total_flops()), by_part


def activation_bytes(model: DrivingNet) -> dict[str, int]:
    """Activation memory at batch 1: the tensors a training step saves for backward, and the sum of every
    module's outputs in an inference pass."""
    saved = 0

    def pack(t: torch.Tensor):
        nonlocal saved
        saved += t.numel() * t.element_size()
        return t

    was_training = model.training
    model.train()
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(*_inputs(model))
    outputs = 0

    def hook(_m, _i, out):
        nonlocal outputs
        if isinstance(out, torch.Tensor):
            outputs += out.numel() * out.element_size()

    model.eval()
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_hook(hook) for m in leaves]
    with torch.no_grad():
        model(*_inputs(model))
    for h in handles:
        h.remove()
    model.train(was_training)
    return {"saved_for_backward_bytes": saved, "inference_outputs_bytes": outputs}


def model_info(model: DrivingNet) -> dict:
    """Parameters, FLOPs per sample (forward, batch 1; a multiply-add counts 2) in total, per part and per
    camera, activation memory, and the inputs the network reads."""
    config = model.config
    model = model.float().eval()
    params = {part: sum(p.numel() for p in getattr(model, part).parameters()) for part in PARTS}
    total, by_part = _flops(lambda: model(*_inputs(model)))
    frames, _, _ = _inputs(model)
    per_camera = {cam.name: _flops(lambda f=f: model.camera_features(f))[0] for cam, f in zip(config.cameras, frames)}
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "parameters_by_part": params,
        "flops_per_sample": total,
        "flops_per_sample_by_part": by_part,
        "flops_per_sample_by_camera": per_camera,
        "flops_per_sample_head": total - sum(per_camera.values()),
        "activation_memory_batch1": activation_bytes(model),
        "cameras": [{"name": c.name, "height_px": c.height_px, "width_px": c.width_px} for c in config.cameras],
        "context_offsets_frames": list(config.context_offsets_frames),
        "context_s": -min(config.context_offsets_frames) / io.FRAME_RATE_HZ,
    }
