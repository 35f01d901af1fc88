"""Behaviour cloning: AdamW, bf16 autocast + channels_last on CPU, cosine schedule, a time budget."""

from __future__ import annotations

import math
import time
from pathlib import Path

import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.core.files import atomic_write_json
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.model.checkpoint import save_checkpoint
from e2edrive.model.net import DrivingNet, plan_loss
from e2edrive.train.config import TrainConfig

CALIBRATION_STEPS = (10, 30)
"""Steps timed (after a warm-up) to turn a time budget into a step count."""


def _lr_at(step: int, total: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, total - config.warmup_steps))
    return config.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def evaluate_loss(model: DrivingNet, data: ClipDataset, config: TrainConfig) -> dict[str, float]:
    model.eval()
    g = torch.Generator().manual_seed(1234)
    order = torch.randperm(len(data), generator=g)
    totals: dict[str, float] = {}
    n = 0
    for i in range(min(config.val_batches, math.ceil(len(data) / config.batch_size))):
        batch = data.batch(order[i * config.batch_size : (i + 1) * config.batch_size])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            plan = model(batch["frames"], batch["speed_mps"], batch["command"])
        loss, parts = plan_loss(plan.float(), batch)
        for k, v in {"loss": loss.item(), **parts}.items():
            totals[k] = totals.get(k, 0.0) + v
        n += 1
    model.train()
    return {k: v / max(n, 1) for k, v in totals.items()}


def train(
    data_dir: Path | list[Path], run_dir: Path, config: TrainConfig = TrainConfig(), progress: bool = True
) -> dict:
    """Train a DrivingNet on clips under data_dir; writes a checkpoint + history to run_dir."""
    run_dir = Path(run_dir)  # created with the first checkpoint: a failed start leaves nothing behind
    torch.manual_seed(config.seed)
    t_load = time.perf_counter()
    train_set = ClipDataset(data_dir, DatasetConfig("train", config.val_fraction))
    try:
        val_set = ClipDataset(data_dir, DatasetConfig("val", config.val_fraction))
    except ValueError:
        val_set = None
    load_s = time.perf_counter() - t_load
    model = DrivingNet(config.model).to(memory_format=torch.channels_last)
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
    )
    gen = torch.Generator().manual_seed(config.seed)
    history: list[dict] = []
    total = config.max_steps
    order = torch.randperm(len(train_set), generator=gen)
    cursor = 0
    t0 = time.perf_counter()
    columns = (
        TextColumn("train {task.fields[loss]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, disable=not progress) as bar:
        task = bar.add_task("train", total=total, loss="")
        step = 0
        running: dict[str, float] = {}
        running_n = 0
        while step < total:
            if train_set.weights is not None:  # a built dataset: balanced sampling by its weights
                ids = torch.multinomial(train_set.weights, config.batch_size, replacement=True, generator=gen)
            else:
                if cursor + config.batch_size > len(order):
                    order = torch.randperm(len(train_set), generator=gen)
                    cursor = 0
                ids = order[cursor : cursor + config.batch_size]
                cursor += config.batch_size
            batch = train_set.batch(ids)
            for group in opt.param_groups:
                group["lr"] = _lr_at(step, total, config)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
                plan = model(batch["frames"], batch["speed_mps"], batch["command"])
            loss, parts = plan_loss(plan.float(), batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            step += 1
            if step == CALIBRATION_STEPS[0]:
                t_cal = time.perf_counter()
            if step == CALIBRATION_STEPS[1] and config.minutes is not None:
                per_step = (time.perf_counter() - t_cal) / (CALIBRATION_STEPS[1] - CALIBRATION_STEPS[0])
                budget_steps = int((config.minutes * 60 - (time.perf_counter() - t0)) / per_step) + step
                total = max(step, min(config.max_steps, budget_steps))
                bar.update(task, total=total)
            for k, v in {"loss": loss.item(), **parts}.items():
                running[k] = running.get(k, 0.0) + v
            running_n += 1
            if step % config.log_every == 0 or step == total:
                means = {k: v / running_n for k, v in running.items()}  # mean over the logging interval
                row = {"step": step, "time_s": time.perf_counter() - t0, **means}
                history.append(row)
                running, running_n = {}, 0
                bar.update(task, loss=f"{row['loss']:.3f}")
            bar.update(task, completed=step)
    train_s = time.perf_counter() - t0
    val = evaluate_loss(model, val_set, config) if val_set is not None else {}
    summary = {
        "steps": total,
        "samples_seen": total * config.batch_size,
        "train_samples": len(train_set),
        "val_samples": len(val_set) if val_set is not None else 0,
        "train_clips": train_set.clip_names,
        "val_clips": val_set.clip_names if val_set is not None else [],
        "load_s": load_s,
        "train_s": train_s,
        "samples_per_s": total * config.batch_size / train_s,
        "final_train_loss": history[-1]["loss"] if history else None,
        "val": val,
    }
    save_checkpoint(
        run_dir,
        model,
        {
            "train": config.to_json(),
            "data": [str(Path(d).resolve()) for d in ([data_dir] if isinstance(data_dir, (str, Path)) else data_dir)],
        },
    )
    atomic_write_json(run_dir / "history.json", history, indent=None)
    atomic_write_json(run_dir / "train_summary.json", summary)
    return summary
