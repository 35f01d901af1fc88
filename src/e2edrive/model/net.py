"""The driving network: a per-frame CNN shared by every camera, temporal fusion over the context, a plan head.

frames of each camera (B, T, C, H, W) uint8 ─► CNN per frame ─► (B, T, D, h, w) ─► fuse over T ─► squeeze
  (config.fusion "early": the T frames enter the CNN as T*C channels ─► (B, D, h, w) ─► fuse)
                                                                          (one flat feature per camera) ─┐
speed_mps (B, 1), command (B, K) ───────────────────────────────────────────────────────────────────► concat
─► MLP ─► plan (B, layout.size): K trajectory hypotheses (each a residual over a constant-speed straight line)
          with confidences, controls, auxiliary values (core/io.PlanLayout)

The cameras and context frames come from the config (`model/config.py`); `forward` takes the frames in the
config's camera order.
"""

from __future__ import annotations

import torch
from torch import nn

from e2edrive.core import io
from e2edrive.core.policy import MAX_ACCEL_MPS2
from e2edrive.model.config import ModelConfig

SPEED_SCALE_MPS = 30.0
"""Speed input is divided by this so it sits near [0, 1]."""


def _block(c_in: int, c_out: int, kernel: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel, stride=2, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class DrivingNet(nn.Module):
    def __init__(self, config: ModelConfig = ModelConfig()) -> None:
        super().__init__()
        self.config = config
        c = (config.stem_channels, *config.channels)
        p = config.stem_patch_px
        # early fusion: the context frames enter the stem together; late: each frame alone, stacked after the CNN
        early = config.fusion == "early"
        stem_in, fuse_in = (
            (io.IMAGE_CHANNELS * config.context_frames, c[-1])
            if early
            else (io.IMAGE_CHANNELS, c[-1] * config.context_frames)
        )
        stem = nn.Sequential(
            nn.Conv2d(stem_in, c[0], p, stride=p, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)
        )
        self.encoder = nn.Sequential(stem, *[_block(a, b, 3) for a, b in zip(c[:-1], c[1:])])
        self.fuse = nn.Sequential(
            nn.Conv2d(fuse_in, config.fused_channels, 1, bias=False),
            nn.BatchNorm2d(config.fused_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(config.fused_channels, config.fused_channels, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        # Keep the spatial layout: where a car is in the image matters, so no global pooling.
        self.squeeze = nn.Sequential(nn.Conv2d(config.fused_channels, 16, 1), nn.ReLU(inplace=True), nn.Flatten())
        features = sum(16 * h * w for h, w in map(config.feature_hw, config.cameras))
        self.head = nn.Sequential(
            nn.Linear(features + 1 + io.N_COMMANDS, config.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.hidden),
            nn.ReLU(inplace=True),
            nn.Linear(config.hidden, config.plan.size),
        )
        times = torch.arange(1, io.TRAJECTORY_POINTS + 1, dtype=torch.float32) * io.TRAJECTORY_DT_S
        self.register_buffer("prior_times_s", times, persistent=False)

    def camera_features(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, C, H, W) uint8 frames of one camera → (B, 16*h*w) features."""
        b, t, ch, hh, ww = frames.shape
        early = self.config.fusion == "early"
        shape = (b, t * ch, hh, ww) if early else (b * t, ch, hh, ww)
        x = frames.reshape(shape).float() * (1.0 / 255.0) - 0.5  # (B, T*C, H, W) early, (B*T, C, H, W) late
        x = x.contiguous(memory_format=torch.channels_last) if frames.is_contiguous() else x
        f = self.encoder(x)  # (B, D, h, w) early, (B*T, D, h, w) late
        if not early:
            f = f.reshape(b, t * f.shape[1], f.shape[2], f.shape[3])  # (B, T*D, h, w)
        return self.squeeze(self.fuse(f))  # (B, 16*h*w)

    def forward(
        self, frames: tuple[torch.Tensor, ...] | list[torch.Tensor], speed_mps: torch.Tensor, command: torch.Tensor
    ) -> torch.Tensor:
        """frames: one (B, T, C, H, W) uint8 tensor per camera, in config.cameras order."""
        b = speed_mps.shape[0]
        z = torch.cat([*(self.camera_features(f) for f in frames), speed_mps / SPEED_SCALE_MPS, command], dim=1)
        out = self.head(z).float()  # (B, plan.size)
        # Every trajectory hypothesis = constant-speed straight-line prior + its learned residual (metres).
        layout = self.config.plan
        prior_x = speed_mps.float() * self.prior_times_s[None, :]  # (B, P)
        prior = torch.stack([prior_x, torch.zeros_like(prior_x)], dim=-1).reshape(b, 1, 2 * io.TRAJECTORY_POINTS)
        trajs = out[:, layout.trajectories].reshape(b, layout.hypotheses, 2 * io.TRAJECTORY_POINTS) + prior
        rest = out[:, layout.trajectories.stop :]  # confidences, controls, auxiliary values
        return torch.cat([trajs.reshape(b, layout.hypotheses * 2 * io.TRAJECTORY_POINTS), rest], dim=1)


TRAJ_LOSS_SCALE_M = 1.0
STEER_LOSS_SCALE_RAD = 0.05
STEER_LABEL_MIN_SPEED_MPS = 2.0
"""The controls head is taught what moves the car: its steering only at this speed or faster, its acceleration
clipped to the car's ±MAX_ACCEL_MPS2. Standing, the expert's steering swings to the lock and moves nothing (the
intersection's expert clips: at the lock in 68 % of the frames below 0.1 m/s, 12 % of all), and its commanded
acceleration there reaches -93 m/s² (5 % of the junction's frames below -5): labels 20-90 loss scales off that
no picture predicts, on a head that does not drive (pure pursuit and the pace follow the chosen hypothesis) but
shares the features (taught them, round 0's held-out loss at the junction: steering 3.3, trajectory 0.3). Two
full runs with both (README) drove the 50 held-out seeds 92.0 and 86.7 %, the two before them 89.3 and 89.0 %:
no gain told from run-to-run spread; kept because no picture predicts those labels."""
ACCEL_LOSS_SCALE_MPS2 = 1.0
AUX_LOSS_SCALES = {"lead_gap_m": 10.0, "lead_closing_mps": 2.0, "lane_offset_m": 0.5, "expert_yielding": 1.0}
"""Fixed loss scales: errors of this size cost 1. Fixed, not data std (a tiny std overweights noise). Yes/no
labels (`io.AUX_BINARY`) take binary cross-entropy on their logit instead."""
CONFIDENCE_WEIGHT = 0.1
AUX_WEIGHT = 0.1
"""The confidence head learns which hypothesis wins; the auxiliary heads are side tasks: both weigh less
than the trajectory and the controls. Confidences at 0.5 drove 78 % of the generalist's 50 held-out seeds in one
full run (intersection 40 %), against 79-90 % at 0.1 (README)."""
AUX_BINARY_WEIGHT = 0.5
"""The yes/no auxiliary labels (the expert's yield decision) weigh as much as each control: whether to wait for
another car is the decision the plan hinges on at junctions, and it is rare, so within the side tasks' mean it
would barely count."""


def plan_loss(
    plan: torch.Tensor, batch: dict[str, torch.Tensor], layout: io.PlanLayout = io.PLAN_LAYOUT
) -> tuple[torch.Tensor, dict[str, float]]:
    """Winner-takes-all over the trajectory hypotheses (only the closest one to the expert's path is pulled
    towards it, so they spread over the modes) on the points the batch knows (`trajectory_known`: not where a
    collection push moved the car; all when the batch does not say), cross-entropy teaching the confidences which
    one won, smooth-L1 on the controls (steering only at `STEER_LABEL_MIN_SPEED_MPS` or faster, when the batch
    gives the speed; acceleration labels clipped to what the car executes) and on the auxiliary labels a sample
    has (a missing lead car is NaN: masked), each on its fixed scale. Does not mutate batch."""
    b = plan.shape[0]
    trajs = plan[:, layout.trajectories].reshape(b, layout.hypotheses, io.TRAJECTORY_POINTS, 2)
    target = batch["trajectory"][:, None] / TRAJ_LOSS_SCALE_M
    per_point = nn.functional.smooth_l1_loss(trajs / TRAJ_LOSS_SCALE_M, target.expand_as(trajs), reduction="none")
    known = batch.get("trajectory_known")
    known = torch.ones(b, io.TRAJECTORY_POINTS, device=plan.device) if known is None else known.to(plan.device).float()
    per_hypothesis = (per_point.mean(dim=3) * known[:, None]).sum(dim=2) / known.sum(dim=1).clamp(min=1)[:, None]
    labelled = (known.sum(dim=1) > 0).float()  # (B,): a sample pushed from its first point on has no path label
    best = per_hypothesis.argmin(dim=1)
    traj_loss = (per_hypothesis.gather(1, best[:, None])[:, 0] * labelled).sum() / labelled.sum().clamp(min=1)
    parts = {"traj": traj_loss}
    if layout.hypotheses > 1:
        confidence = nn.functional.cross_entropy(plan[:, layout.confidences], best, reduction="none")
        parts["confidence"] = (confidence * labelled).sum() / labelled.sum().clamp(min=1)
    ctrl = plan[:, layout.control]
    steer = nn.functional.smooth_l1_loss(
        ctrl[:, 0] / STEER_LOSS_SCALE_RAD, batch["controls"][:, 0] / STEER_LOSS_SCALE_RAD, reduction="none"
    )
    speed = batch.get("speed_mps")
    moving = torch.ones(b, device=plan.device)
    if speed is not None:  # steering is taught only where it moves the car
        moving = (speed.reshape(b) >= STEER_LABEL_MIN_SPEED_MPS).float()
    parts["steer"] = (steer * moving).sum() / moving.sum().clamp(min=1)
    parts["accel"] = nn.functional.smooth_l1_loss(
        ctrl[:, 1] / ACCEL_LOSS_SCALE_MPS2,
        batch["controls"][:, 1].clamp(-MAX_ACCEL_MPS2, MAX_ACCEL_MPS2) / ACCEL_LOSS_SCALE_MPS2,
    )
    if layout.aux:
        columns = [io.AUX_NAMES.index(n) for n in layout.aux]
        labels = batch["aux"][:, columns]  # NaN where the clip has no such label here (no car ahead)
        scales = torch.tensor([AUX_LOSS_SCALES[n] for n in layout.aux], device=plan.device)
        known = torch.isfinite(labels)
        values, labels = plan[:, layout.aux_values], torch.nan_to_num(labels)
        binary = torch.tensor([n in io.AUX_BINARY for n in layout.aux], device=plan.device)
        regression = known & ~binary
        errors = nn.functional.smooth_l1_loss(values / scales, labels / scales, reduction="none")
        parts["aux"] = (errors * regression).sum() / regression.sum().clamp(min=1)
        if binary.any():
            decided = known & binary
            errors = nn.functional.binary_cross_entropy_with_logits(values, labels.clamp(0, 1), reduction="none")
            parts["aux_binary"] = (errors * decided).sum() / decided.sum().clamp(min=1)
    loss = (
        parts["traj"]
        + 0.5 * parts["steer"]
        + 0.5 * parts["accel"]
        + CONFIDENCE_WEIGHT * parts.get("confidence", 0.0)
        + AUX_WEIGHT * parts.get("aux", 0.0)
        + AUX_BINARY_WEIGHT * parts.get("aux_binary", 0.0)
    )
    return loss, {k: float(v.item()) for k, v in parts.items()}
