"""The blind baseline: a small MLP fed only ego status — speed, past speeds, past steering, the navigation
command — and no camera (NAVSIM's ego-status MLP). Trained on the same clips as the network, it shows the
known trap: open-loop trajectory error can look good from ego status alone while closed-loop driving fails.

A blind run directory holds blind.safetensors and blind.json; `policies.make_policy` drives it like any run.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from e2edrive.core import io
from e2edrive.core.control import ControllerConfig, plan_to_action
from e2edrive.core.files import atomic_path, atomic_write_json
from e2edrive.core.policy import Action, Observation

WEIGHTS = "blind.safetensors"
CONFIG = "blind.json"
HISTORY_FRAMES = (10, 5, 1)
"""Past frames whose speed and steering the MLP sees (1 s, 0.5 s and one step ago), plus the speed now."""
LAYOUT = io.PlanLayout(hypotheses=1, aux=())
N_INPUTS = 1 + 2 * len(HISTORY_FRAMES) + io.N_COMMANDS


def is_blind_dir(path: Path) -> bool:
    return (Path(path) / WEIGHTS).is_file() and (Path(path) / CONFIG).is_file()


def features(speeds_mps: np.ndarray, steers_rad: np.ndarray, command: str) -> np.ndarray:
    """speeds_mps: speed history ending now (at least max(HISTORY_FRAMES) + 1 values, the first repeated before
    a start); steers_rad: the steering held before each step, ending with the one held over the last step."""
    v = [speeds_mps[-1] / 30.0] + [speeds_mps[-1 - k] / 30.0 for k in HISTORY_FRAMES]
    s = [steers_rad[-k] / 0.1 for k in HISTORY_FRAMES]
    return np.concatenate([v, s, io.command_one_hot(command)]).astype(np.float32)


class BlindMLP(nn.Module):
    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(N_INPUTS, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, LAYOUT.size)
        )
        times = torch.arange(1, io.TRAJECTORY_POINTS + 1, dtype=torch.float32) * io.TRAJECTORY_DT_S
        self.register_buffer("prior_times_s", times, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        speed = x[:, :1] * 30.0  # the same constant-speed prior as the network
        prior = torch.stack([speed * self.prior_times_s, torch.zeros_like(speed * self.prior_times_s)], -1)
        trajectory = out[:, LAYOUT.trajectories] + prior.reshape(len(x), -1)
        return torch.cat([trajectory, out[:, LAYOUT.trajectories.stop :]], dim=1)


def _samples(clip_dirs: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from e2edrive.data.clip import FUTURE_FRAMES, future_trajectory, read_clip

    xs, trajs, ctrls = [], [], []
    depth = max(HISTORY_FRAMES)
    for path in clip_dirs:
        s = read_clip(path).signals
        if "expert_trajectory_m" in s:
            continue  # learner-driven: its future is no label here
        n = len(s["speed_mps"])
        speed = np.concatenate([np.full(depth, s["speed_mps"][0]), s["speed_mps"]]).astype(float)
        steer = np.concatenate([np.zeros(depth), s["steer_rad"]]).astype(float)
        for t in range(n - FUTURE_FRAMES):
            xs.append(features(speed[: t + depth + 1], steer[: t + depth], s["command"][t]))
            trajs.append(future_trajectory(s["x_m"], s["y_m"], s["yaw_rad"], t).reshape(-1))
            ctrls.append([s["expert_steer_rad"][t], s["expert_accel_mps2"][t]])
    if not xs:
        raise ValueError("no expert-driven samples to train the blind baseline on")
    return np.stack(xs), np.stack(trajs).astype(np.float32), np.asarray(ctrls, np.float32)


def train_blind(clip_dirs: list[Path], out: Path, steps: int = 3000, seed: int = 0) -> dict:
    """Fit the MLP (smooth-L1 on the trajectory and controls, the network's scales); seconds on a CPU."""
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    x, traj, ctrl = (torch.from_numpy(a) for a in _samples(clip_dirs))
    model = BlindMLP()
    opt = torch.optim.AdamW(model.parameters(), 2e-3, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    for step in range(steps):
        ids = torch.randint(0, len(x), (256,), generator=gen)
        plan = model(x[ids])
        loss = nn.functional.smooth_l1_loss(plan[:, LAYOUT.trajectories], traj[ids]) + 0.5 * (
            nn.functional.smooth_l1_loss(plan[:, LAYOUT.control][:, 0] / 0.05, ctrl[ids, 0] / 0.05)
            + nn.functional.smooth_l1_loss(plan[:, LAYOUT.control][:, 1], ctrl[ids, 1])
        )
        for g in opt.param_groups:
            g["lr"] = 2e-3 * 0.5 * (1 + np.cos(np.pi * step / steps))
        opt.zero_grad()
        loss.backward()
        opt.step()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / WEIGHTS) as tmp:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    summary = {"samples": len(x), "steps": steps, "final_loss": loss.item(), "train_s": time.perf_counter() - t0}
    atomic_write_json(out / CONFIG, {"kind": "blind_mlp", "history_frames": HISTORY_FRAMES, **summary})
    return summary


class BlindPolicy:
    """Drives from ego status alone: its own speed history, its own past steering, the command."""

    privileged = False
    cameras: tuple[str, ...] = ()

    def __init__(self, run_dir: Path, controller: ControllerConfig = ControllerConfig()) -> None:
        from safetensors.torch import load_file

        self.model = BlindMLP()
        self.model.load_state_dict(load_file(str(Path(run_dir) / WEIGHTS)))
        self.model.eval()
        self.config = json.loads((Path(run_dir) / CONFIG).read_text())
        self.controller = controller
        self.layout = LAYOUT
        self.last_plan = np.zeros(LAYOUT.size, np.float32)
        self.reset(0)

    def reset(self, seed: int) -> None:
        self._speeds: list[float] = []
        self._steers = [0.0] * max(HISTORY_FRAMES)
        self.steer_rad = 0.0

    @torch.no_grad()
    def plan(self, observation: Observation) -> np.ndarray:
        if not self._speeds:
            self._speeds = [observation.speed_mps] * max(HISTORY_FRAMES)
        self._speeds.append(observation.speed_mps)
        self._steers.append(self.steer_rad)  # held since the last step (open loop sets it from the log)
        x = features(np.asarray(self._speeds), np.asarray(self._steers), observation.command)
        self.last_plan = self.model(torch.from_numpy(x[None]))[0].numpy()
        return self.last_plan

    def act(self, observation: Observation) -> Action:
        action = plan_to_action(self.plan(observation), observation.speed_mps, self.controller, LAYOUT)
        self.steer_rad = action.steer_rad  # an input of its next plan
        return action
