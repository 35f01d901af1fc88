"""Training configuration: saved in every run's config.json; the command line takes its defaults from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from e2edrive.core.errors import UserError
from e2edrive.model.config import ModelConfig


@dataclass(frozen=True)
class TrainConfig:
    minutes: float | None = 8.0
    """Time budget; the step count is fitted to it after CALIBRATION_STEPS. None → use max_steps."""
    max_steps: int = 100_000
    batch_size: int = 64
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    bf16: bool = True
    seed: int = 0
    val_fraction: float = 0.1
    val_batches: int = 20
    log_every: int = 50
    model: ModelConfig = field(default_factory=ModelConfig)

    def __post_init__(self) -> None:
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"minutes={self.minutes} must be positive")
        if self.batch_size < 2:
            raise UserError(f"batch_size={self.batch_size} must be >= 2 (BatchNorm)")

    def to_json(self) -> dict:
        return asdict(self)
