"""Training configuration: saved in every run's config.json and checkpoints; the command line takes its
defaults from here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError
from e2edrive.model.config import CameraInput, ModelConfig, run_controller


@dataclass(frozen=True)
class TrainConfig:
    minutes: float | None = 8.0
    """Time budget of the optimisation loop; the step count is fitted to it (measured on rank 0, broadcast,
    re-fitted while the first half of the budget runs). None → max_steps."""
    max_steps: int = 100_000
    batch_size: int = 64
    """Samples per micro-batch on each rank; the global batch is batch_size x world size x accumulate."""
    accumulate: int = 1
    """Micro-batches per optimizer step."""
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    bf16: bool = True
    """bf16 autocast on the device in use (channels_last on CPU): 1.5-3x fp32 on this 2-core CPU; on one H200 this
    small network trained 0.69-0.76x as fast as in fp32 at batch 1024-4096 (`benchmarks/train_throughput.py
    --device cuda`): turn it off there (`train --no-bf16`)."""
    seed: int = 0
    val_fraction: float = 0.1
    val_batches: int = 20
    log_every: int = 50
    save_every: int = 500
    """Steps between checkpoints under RUN/checkpoints/ (resume point after a crash)."""
    keep_checkpoints: int = 2
    workers: int = 1
    """DataLoader worker processes reading frames from disk (0: read in the training process)."""
    balance: bool = False
    """Sample every scenario equally, lifting its rarer commands and bends (`ClipDataset.balanced_weights`; plain
    clip directories: a built dataset brings its own weights, which are always honoured)."""
    scenario_shares: dict[str, float] = field(default_factory=dict)
    """With `balance`: a scenario's share of every batch relative to the others' (missing: 1, all equal; a name the
    data does not have weighs nothing; a built dataset's own weights are honoured as they are)."""
    source_shares: tuple[float, ...] = ()
    """Share of every batch per data directory, in the order given (empty: by sample count). DAgger pools the
    expert's data with the rounds' on-policy data this way, so corrections do not crowd out the expert."""
    init: str | None = None
    """A run directory whose weights start training (fine-tuning; its model config is used, `model` ignored)."""
    device: str = "auto"
    """'auto' (CUDA when torch sees a GPU, else CPU), 'cpu' or 'cuda'."""
    model: ModelConfig = field(default_factory=ModelConfig)
    controller: ControllerConfig | None = None
    """How the trained network drives (recorded in RUN/config.json and its ONNX export; every policy built from the
    run uses it unless told otherwise, `model.config.run_controller`). None: the init run's (fine-tuning keeps how
    its network drove in the rounds that taught it), else the defaults."""

    def __post_init__(self) -> None:
        if self.minutes is not None and self.minutes <= 0:
            raise UserError(f"minutes={self.minutes} must be positive")
        if self.batch_size < 2:
            raise UserError(f"batch_size={self.batch_size} must be >= 2 (BatchNorm)")
        if self.max_steps < 1 or self.accumulate < 1 or self.save_every < 1 or self.keep_checkpoints < 1:
            raise UserError("max_steps, accumulate, save_every and keep_checkpoints must be >= 1")
        if self.workers < 0:
            raise UserError(f"workers={self.workers} must be >= 0")
        if any(not share > 0 for share in self.scenario_shares.values()):
            raise UserError(f"scenario_shares={self.scenario_shares}: every share must be positive")
        if self.scenario_shares and not self.balance:
            raise UserError("scenario shares weigh the balanced sampling: give them with balance (--balance)")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> TrainConfig:
        controller = d.get("controller")
        return cls(
            **{
                **d,
                "model": ModelConfig.from_json(d["model"]),
                "source_shares": tuple(d.get("source_shares", ())),
                "controller": ControllerConfig.from_json(controller) if controller is not None else None,
            }
        )

    def recorded_controller(self) -> ControllerConfig:
        """The controller the trained run records (`controller`, else the init run's, else the defaults)."""
        if self.controller is not None:
            return self.controller
        return run_controller(self.init) if self.init is not None else ControllerConfig()


def with_cameras(config: ModelConfig, shapes: dict[str, tuple[int, int, int]]) -> ModelConfig:
    """The model config with each camera's frame size taken from the data ((H, W, C) by camera name)."""
    from dataclasses import replace

    return replace(config, cameras=tuple(CameraInput(c.name, *shapes[c.name][:2]) for c in config.cameras))
