"""The driving network: a per-frame CNN shared by every camera, temporal fusion over the context, a plan head.

frames of each camera (B, T, C, H, W) uint8 ─► CNN per frame ─► (B, T, D, h, w) ─► fuse over T ─► squeeze
                                                                          (one flat feature per camera) ─┐
speed_mps (B, 1), command (B, K) ───────────────────────────────────────────────────────────────────► concat
─► MLP ─► plan (B, PLAN_SIZE): trajectory residual over a constant-speed straight line, controls

The cameras and context frames come from the config (`model/config.py`); `forward` takes the frames in the
config's camera order.
"""

from __future__ import annotations

import torch
from torch import nn

from e2edrive.core import io
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
        stem = nn.Sequential(
            nn.Conv2d(io.IMAGE_CHANNELS, c[0], p, stride=p, bias=False), nn.BatchNorm2d(c[0]), nn.ReLU(inplace=True)
        )
        self.encoder = nn.Sequential(stem, *[_block(a, b, 3) for a, b in zip(c[:-1], c[1:])])
        self.fuse = nn.Sequential(
            nn.Conv2d(c[-1] * config.context_frames, config.fused_channels, 1, bias=False),
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
            nn.Linear(config.hidden, io.PLAN_SIZE),
        )
        times = torch.arange(1, io.TRAJECTORY_POINTS + 1, dtype=torch.float32) * io.TRAJECTORY_DT_S
        self.register_buffer("prior_times_s", times, persistent=False)

    def camera_features(self, frames: torch.Tensor) -> torch.Tensor:
        """(B, T, C, H, W) uint8 frames of one camera → (B, 16*h*w) features."""
        b, t, ch, hh, ww = frames.shape
        x = frames.reshape(b * t, ch, hh, ww).float() * (1.0 / 255.0) - 0.5  # (B*T, C, H, W)
        x = x.contiguous(memory_format=torch.channels_last) if frames.is_contiguous() else x
        f = self.encoder(x)  # (B*T, D, h, w)
        f = f.reshape(b, t * f.shape[1], f.shape[2], f.shape[3])  # (B, T*D, h, w)
        return self.squeeze(self.fuse(f))  # (B, 16*h*w)

    def forward(
        self, frames: tuple[torch.Tensor, ...] | list[torch.Tensor], speed_mps: torch.Tensor, command: torch.Tensor
    ) -> torch.Tensor:
        """frames: one (B, T, C, H, W) uint8 tensor per camera, in config.cameras order."""
        b = speed_mps.shape[0]
        z = torch.cat([*(self.camera_features(f) for f in frames), speed_mps / SPEED_SCALE_MPS, command], dim=1)
        out = self.head(z).float()  # (B, PLAN_SIZE)
        # Trajectory = constant-speed straight-line prior + learned residual (metres).
        prior_x = speed_mps.float() * self.prior_times_s[None, :]  # (B, P)
        prior = torch.stack([prior_x, torch.zeros_like(prior_x)], dim=-1).reshape(b, 2 * io.TRAJECTORY_POINTS)
        traj = out[:, io.TRAJECTORY] + prior
        return torch.cat([traj, out[:, io.CONTROL]], dim=1)


TRAJ_LOSS_SCALE_M = 1.0
STEER_LOSS_SCALE_RAD = 0.05
ACCEL_LOSS_SCALE_MPS2 = 1.0
"""Fixed loss scales: errors of this size cost 1. Fixed, not data std (a tiny std overweights noise)."""


def plan_loss(plan: torch.Tensor, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Smooth-L1 on trajectory (metres) and controls, each on its fixed scale. Does not mutate batch."""
    traj = plan[:, io.TRAJECTORY].reshape(-1, io.TRAJECTORY_POINTS, 2)
    traj_loss = nn.functional.smooth_l1_loss(traj / TRAJ_LOSS_SCALE_M, batch["trajectory"] / TRAJ_LOSS_SCALE_M)
    ctrl = plan[:, io.CONTROL]
    steer_loss = nn.functional.smooth_l1_loss(
        ctrl[:, 0] / STEER_LOSS_SCALE_RAD, batch["controls"][:, 0] / STEER_LOSS_SCALE_RAD
    )
    accel_loss = nn.functional.smooth_l1_loss(
        ctrl[:, 1] / ACCEL_LOSS_SCALE_MPS2, batch["controls"][:, 1] / ACCEL_LOSS_SCALE_MPS2
    )
    loss = traj_loss + 0.5 * steer_loss + 0.5 * accel_loss
    return loss, {"traj": traj_loss.item(), "steer": steer_loss.item(), "accel": accel_loss.item()}
