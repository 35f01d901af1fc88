"""Behaviour cloning, the same code on a laptop, one GPU or many nodes: AdamW, bf16 autocast (channels_last on
CPU), a cosine schedule, a time budget, data streamed from disk by DataLoader workers, DDP under torchrun, and
checkpoints a killed run resumes from exactly.

Every rank reads its own shard of each global batch (`data/sampler.py`); rank 0 alone writes checkpoints, logs
and the final run. The step count fitted to a time budget is measured on rank 0 and broadcast; validation
losses are summed over ranks.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.data.sampler import ShardSpec, StepSampler
from e2edrive.model.checkpoint import load_model, save_checkpoint
from e2edrive.model.net import DrivingNet, plan_loss
from e2edrive.train import checkpoints
from e2edrive.train.config import TrainConfig, with_cameras
from e2edrive.train.distributed import Distributed, all_gather_objects, all_reduce_sum, barrier, broadcast_int
from e2edrive.train.distributed import setup as setup_distributed
from e2edrive.train.distributed import teardown as teardown_distributed
from e2edrive.train.logs import TrainLog

FIT_CHECK_EVERY = 10
"""Steps between the (collective) checks for rank 0's time-budget decision."""
FIT_AFTER_S = 60.0
FIT_AFTER_FRACTION = 0.1
REFIT_UNTIL_FRACTION = 0.5
"""The step count is fitted to the budget after min(FIT_AFTER_S, FIT_AFTER_FRACTION x budget) of training (and
at least FIT_MIN_STEPS steps), from the step rate since warm-up, and re-fitted at every check until
REFIT_UNTIL_FRACTION of the budget has run: measured late enough to fill the budget (a fit after 30 steps left a
12-minute budget a third unused; one fit after a minute on a machine slow at first left 23 % of 9.7 min
unused)."""
OVERRUN_FACTOR = 1.05
"""Training stops at this multiple of its time budget whatever the fitted step count (the schedule then ends a
little early rather than the run late)."""
FIT_MIN_STEPS = 30
FIT_WARMUP_STEPS = 10
RESUMABLE_KEYS = ("minutes", "max_steps", "workers", "log_every", "save_every", "keep_checkpoints", "device")
"""Train config keys a resumed run may change; any other change means another run."""
SUMMARY = "train_summary.json"
HISTORY = "history.json"


def fit_steps(step: int, elapsed_s: float, per_step_s: float, budget_s: float, max_steps: int) -> tuple[int, bool]:
    """The step count that fills the time budget at the measured rate (never below the current step, never above
    max_steps), and whether this is the last fit (REFIT_UNTIL_FRACTION of the budget has run)."""
    total = max(step, min(max_steps, int((budget_s - elapsed_s) / per_step_s) + step))
    return total, elapsed_s >= REFIT_UNTIL_FRACTION * budget_s


def _lr_at(step: int, total: int, config: TrainConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, total - config.warmup_steps))
    return config.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def _to(batch: dict, device: str) -> dict:
    non_blocking = device.startswith("cuda")
    return {
        k: ({c: f.to(device, non_blocking=non_blocking) for c, f in v.items()} if k == "frames" else v.to(device))
        for k, v in batch.items()
    }


def _forward(model, batch: dict, cameras: tuple[str, ...], d: Distributed, bf16: bool) -> torch.Tensor:
    with torch.autocast(d.device_type, dtype=torch.bfloat16, enabled=bf16):
        plan = model([batch["frames"][c] for c in cameras], batch["speed_mps"], batch["command"])
    return plan.float()


@torch.no_grad()
def evaluate_loss(model, data: ClipDataset, config: TrainConfig, d: Distributed) -> dict:
    """Validation loss over the first val_batches global batches of a fixed order (the same samples whatever
    the number of ranks), each rank its shard, summed over ranks: the mean per sample and per scenario."""
    model.eval()
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(1234)).numpy()
    per_rank = config.batch_size * config.accumulate  # the global batch is the same as in training
    global_batch = per_rank * d.world_size
    n_scen = len(data.scenarios)
    sums = torch.zeros(4 + 2 * n_scen, dtype=torch.float64)  # loss, traj, steer, accel, per-scenario sum and count
    count = 0
    for g in range(min(config.val_batches, math.ceil(len(data) / global_batch))):
        ids = order[g * global_batch : (g + 1) * global_batch][d.rank * per_rank : (d.rank + 1) * per_rank]
        if len(ids) == 0:
            continue
        batch = _to(data.batch(ids), d.device)
        plan = _forward(model, batch, data.config.cameras, d, config.bf16)
        loss, parts = plan_loss(plan, batch, config.model.plan)
        n = len(ids)
        sums[:4] += torch.tensor([loss.item(), parts["traj"], parts["steer"], parts["accel"]], dtype=torch.float64) * n
        for s in batch["scenario"].unique().tolist():
            mask = batch["scenario"] == s
            sub = {k: v[mask] for k, v in batch.items() if k != "frames"}
            sums[4 + s] += plan_loss(plan[mask], sub, config.model.plan)[0].item() * int(mask.sum())
            sums[4 + n_scen + s] += int(mask.sum())
        count += n
    sums = all_reduce_sum(sums, d)
    total = all_reduce_sum(torch.tensor([float(count)]), d).item()
    model.train()
    if total == 0:
        return {}
    out = {k: float(sums[i] / total) for i, k in enumerate(("loss", "traj", "steer", "accel"))}
    out["per_scenario"] = {
        name: float(sums[4 + i] / sums[4 + n_scen + i]) for i, name in enumerate(data.scenarios) if sums[4 + n_scen + i]
    }
    out["samples"] = int(total)
    return out


class _Batches(torch.utils.data.Sampler):
    """The sampler's micro-batches for this rank, from start_step on (endless: the loop decides when to stop)."""

    def __init__(self, sampler: StepSampler, start_step: int) -> None:
        self.sampler, self.start_step = sampler, start_step

    def __iter__(self):
        return self.sampler.iter_from(self.start_step)


def _data_dirs(data_dir: Path | list[Path]) -> list[Path]:
    return [Path(data_dir)] if isinstance(data_dir, (str, Path)) else [Path(p) for p in data_dir]


def _check_resumable(saved: dict, config: TrainConfig, data: list[Path], path: Path) -> None:
    now = {k: v for k, v in config.to_json().items() if k not in RESUMABLE_KEYS}
    then = {k: v for k, v in saved["train"].items() if k not in RESUMABLE_KEYS}
    changed = sorted(k for k in set(now) | set(then) if json.dumps(now.get(k)) != json.dumps(then.get(k)))
    if changed or saved["data"] != [str(p.resolve()) for p in data]:
        what = ", ".join(changed) or "the data"
        raise UserError(f"{path} was written by another training run ({what} differ): train into a new --out")


def train(
    data_dir: Path | list[Path], run_dir: Path, config: TrainConfig = TrainConfig(), progress: bool = True
) -> dict:
    """Train a DrivingNet on clips under data_dir (one or several directories or built datasets); writes the
    run to run_dir, resuming from its latest checkpoint when there is one. Under torchrun every rank calls it."""
    d = setup_distributed(config.device)
    try:
        return _train(_data_dirs(data_dir), Path(run_dir), config, progress, d)
    finally:
        teardown_distributed(d)


def _train(data: list[Path], run_dir: Path, config: TrainConfig, progress: bool, d: Distributed) -> dict:
    console = Console(quiet=not (progress and d.is_main), soft_wrap=True)
    torch.manual_seed(config.seed)
    init = None
    if config.init is not None:  # fine-tuning: the starting run decides the network
        init, _ = load_model(Path(config.init))
        config = replace(config, model=init.config)
    t_load = time.perf_counter()
    names = config.model.camera_names
    dataset_config = DatasetConfig(
        "train", config.val_fraction, cameras=names, context_offsets_frames=config.model.context_offsets_frames
    )
    if not d.is_main:
        barrier(d)  # rank 0 decodes the frame caches first
    train_set = ClipDataset(data, dataset_config)
    try:
        val_set = ClipDataset(data, replace(dataset_config, split="val"))
    except UserError:
        val_set = None
    if d.is_main:
        barrier(d)
    load_s = time.perf_counter() - t_load
    shapes = {c: train_set._files[0][c].shape_hwc for c in names}  # noqa: SLF001 - the data decides the sizes
    config = replace(config, model=with_cameras(config.model, shapes))

    if init is not None and config.model != init.config:
        raise UserError(f"--init {config.init}: its cameras' frame sizes differ from the data's")
    model = DrivingNet(config.model)
    if init is not None:
        model.load_state_dict(init.state_dict())
    model = model.to(device=d.device, memory_format=torch.channels_last)
    model.train()
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.lr,
    )
    start_step, total, history, resumed_from = 0, config.max_steps, [], None
    saved = checkpoints.latest(run_dir, warn=lambda m: console.print(f"[yellow]{m}"))
    if saved is not None:
        _check_resumable(saved["state"], config, data, saved["path"])
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        if saved["state"]["world_size"] == d.world_size:
            checkpoints.set_rng_state(saved["rng"][d.rank])
        else:
            console.print(
                f"[yellow]resuming on {d.world_size} ranks a run checkpointed on {saved['state']['world_size']}"
            )
        start_step, total = saved["state"]["step"], saved["state"]["total"]
        total = min(total, config.max_steps) if saved["state"]["fitted"] else config.max_steps
        history, resumed_from = saved["state"]["history"], str(saved["path"])
        console.print(f"resuming {run_dir} from step {start_step} ({saved['path'].name})")
    fitted = saved is not None and saved["state"]["fitted"]
    if config.minutes is None:
        fitted = True
    ddp = (
        torch.nn.parallel.DistributedDataParallel(model, device_ids=[d.local_rank] if d.device_type == "cuda" else None)
        if d.world_size > 1
        else model
    )

    weights = train_set.weights
    if weights is None and config.balance:
        weights = train_set.balanced_weights(config.scenario_shares)
    if config.source_shares:
        weights = train_set.source_weights(config.source_shares, weights)
    shard = ShardSpec(config.batch_size, d.world_size, d.rank, config.accumulate)
    sampler = StepSampler(len(train_set), shard, config.seed, weights)
    loader = torch.utils.data.DataLoader(
        train_set,
        batch_size=None,
        sampler=_Batches(sampler, start_step),
        num_workers=config.workers,
        pin_memory=d.device_type == "cuda",
        prefetch_factor=4 if config.workers else None,
        generator=torch.Generator().manual_seed(config.seed),  # leaves the global RNG (dropout) alone
    )
    batches = iter(loader)
    log = TrainLog(run_dir, d.is_main, start_step)
    global_batch = shard.global_batch

    def save_state(step: int) -> None:
        rng = all_gather_objects(checkpoints.rng_state(d.device_type), d)
        if d.is_main:
            state = {
                "total": total,
                "fitted": fitted,
                "world_size": d.world_size,
                "train": config.to_json(),
                "data": [str(p.resolve()) for p in data],
                "history": history,
            }
            checkpoints.save(run_dir, step, model.state_dict(), opt.state_dict(), rng, state, config.keep_checkpoints)
        barrier(d)

    columns = (
        TextColumn("train {task.fields[loss]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} samples/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    if d.is_main:
        console.print(f"logs: {log.csv_path} and TensorBoard events in {log.dir} (tensorboard --logdir {log.dir})")
    t0 = time.perf_counter()
    t_fit = t_log = t0
    step = start_step
    running: dict[str, float] = {}
    running_n = 0
    budget_s = None if config.minutes is None else config.minutes * 60
    with Progress(*columns, console=console, disable=not (progress and d.is_main)) as bar:
        task = bar.add_task("train", total=total, completed=step, loss="", rate="")
        while step < total:
            for group in opt.param_groups:
                group["lr"] = _lr_at(step, total, config)
            micro_losses = []
            for m in range(config.accumulate):
                batch = _to(next(batches), d.device)
                sync = nullcontext() if m == config.accumulate - 1 or d.world_size == 1 else ddp.no_sync()
                with sync:
                    loss, parts = plan_loss(_forward(ddp, batch, names, d, config.bf16), batch, config.model.plan)
                    (loss / config.accumulate).backward()
                micro_losses.append({"loss": loss.item(), **parts})
            grad_norm = float(torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0))
            opt.step()
            opt.zero_grad(set_to_none=True)
            step += 1
            for k in micro_losses[0]:
                running[k] = running.get(k, 0.0) + float(np.mean([ml[k] for ml in micro_losses]))
            running["grad_norm"] = running.get("grad_norm", 0.0) + grad_norm
            running_n += 1
            if step - start_step == FIT_WARMUP_STEPS:
                t_fit = time.perf_counter()
            if not fitted and step % FIT_CHECK_EVERY == 0:
                decided = 0
                elapsed = time.perf_counter() - t0
                if (
                    d.is_main
                    and step - start_step >= FIT_MIN_STEPS
                    and elapsed >= min(FIT_AFTER_S, FIT_AFTER_FRACTION * budget_s)
                ):
                    per_step = (time.perf_counter() - t_fit) / (step - start_step - FIT_WARMUP_STEPS)
                    fit, last = fit_steps(step, elapsed, per_step, budget_s, config.max_steps)
                    decided = -fit if last else fit  # one int to broadcast: negative for the last fit
                decided = broadcast_int(decided, d)
                if decided:
                    total, fitted = abs(decided), decided < 0
                    bar.update(task, total=total)
            elif budget_s is not None and step % FIT_CHECK_EVERY == 0:
                # a machine that slows down after the fit (other work on its cores) must not overrun the budget
                over = d.is_main and time.perf_counter() - t0 > OVERRUN_FACTOR * budget_s
                if broadcast_int(int(over), d):
                    total = step
                    bar.update(task, total=total)
            if step % config.log_every == 0 or step == total:
                now = time.perf_counter()
                row = {"step": step, "time_s": now - t0, "lr": opt.param_groups[0]["lr"]}
                row |= {k: v / running_n for k, v in running.items()}
                row["samples_per_s"] = running_n * global_batch / max(now - t_log, 1e-9)
                history.append(row)
                log.log(row)
                running, running_n, t_log = {}, 0, now
                bar.update(task, loss=f"{row['loss']:.3f}", rate=f"{row['samples_per_s']:.0f}")
            bar.update(task, completed=step)
            if step % config.save_every == 0 and step < total:
                save_state(step)
    train_s = time.perf_counter() - t0
    del batches
    save_state(step)
    val = evaluate_loss(model, val_set, config, d) if val_set is not None else {}
    if val:
        log.scalars("val", {k: v for k, v in val.items() if isinstance(v, float)}, step)
        log.scalars("val_per_scenario", val["per_scenario"], step)
    log.close()
    steps_run = step - start_step
    digest = hashlib.sha256(b"".join(p.detach().cpu().numpy().tobytes() for p in model.parameters())).hexdigest()
    rank_digests = all_gather_objects(digest, d)
    summary = {
        "steps": step,
        "steps_this_run": steps_run,
        "resumed_from": resumed_from,
        "world_size": d.world_size,
        "device": d.device,
        "backend": d.backend,
        "ranks_in_sync": len(set(rank_digests)) == 1,
        "rank_parameter_sha256": rank_digests,
        "global_batch": global_batch,
        "samples_seen": step * global_batch,
        "train_samples": len(train_set),
        "val_samples": len(val_set) if val_set is not None else 0,
        "scenarios": train_set.scenarios,
        "cameras": list(names),
        "train_clips": train_set.clip_names,
        "val_clips": val_set.clip_names if val_set is not None else [],
        "load_s": load_s,
        "train_s": train_s,
        "budget_s": budget_s,
        "samples_per_s": steps_run * global_batch / max(train_s, 1e-9),
        "final_train_loss": history[-1]["loss"] if history else None,
        "val": val,
        "logs": str(log.dir),
    }
    if d.is_main:
        extra = {"train": config.to_json(), "data": [str(Path(p).resolve()) for p in data]}
        save_checkpoint(run_dir, model, extra | {"controller": config.recorded_controller().to_json()})
        atomic_write_json(run_dir / HISTORY, history, indent=None)
        atomic_write_json(run_dir / SUMMARY, summary)
    barrier(d)
    return summary
