"""A compute planner: what training the real network on a fleet's video costs on a GPU cluster, and what the
car needs to run it at the camera rate. Arithmetic only; every input is an assumption with its source, and
every one can be overridden (`e2edrive plan --help`).

Training FLOPs = samples x FLOPs per sample x 3 (forward + backward ≈ 3 forwards) x epochs, where a sample is
one instant of the rig (every camera) and the FLOPs per sample are measured on the real model (torch's FLOP
counter, `model/info.py`), scaled from its cameras to the planned rig's. GPU-hours = FLOPs / (peak x MFU);
days = GPU-hours / GPUs / 24; energy = GPU-hours x power x PUE; cost = the GPUs' price written off over their
life for those hours, plus the energy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from e2edrive.core.errors import UserError

CLUSTER_PRESETS = {"10k": 10_000, "30k": 30_000, "50k": 50_000}
"""GPU counts: the seed's 10,000-H100 cluster, and larger ones built since (30,000+, 50,000)."""
BACKWARD_FACTOR = 3.0
"""Training FLOPs per sample ≈ 3 x forward (backward ≈ 2 x forward: Kaplan et al. 2020, 'Scaling Laws')."""
HOURS_PER_YEAR = 24 * 365


@dataclass(frozen=True)
class PlanConfig:
    fleet_cars: int = 10_000
    """Cars recording for training (assumption: a mid-size fleet's data-collecting share)."""
    hours_per_car_per_day: float = 1.0
    """Driving hours per car per day (AAA Foundation, American Driving Survey: ~1 hour a day)."""
    days: int = 365
    """Days of fleet recording in the training set (assumption: one year)."""
    cameras: int = 5
    """Cameras per instant (e2edrive's full rig: 5; production rigs carry 7-8)."""
    fps: float = 10.0
    """Instants per second kept for training and run in the car (e2edrive's model rate, core/io.py)."""
    epochs: float = 1.0
    """Passes over the data (assumption: fleet data is plentiful, one pass)."""
    gpus: int = CLUSTER_PRESETS["10k"]
    """Training cluster size (the seed: 10,000 H100)."""
    gpu_peak_tflops: float = 989.0
    """H100 SXM dense BF16 tensor-core peak (NVIDIA H100 datasheet: 989 TFLOP/s without sparsity)."""
    mfu: float = 0.4
    """Model FLOPs utilisation (assumption: 35-45 % reported for large training runs, e.g. PaLM 46 %, Llama 3
    38-43 %). A small CNN reaches far less without care: e2edrive's own network measured 2.8-3.3 % on one H200
    (fp32, batch 1024-4096, front or full rig; `benchmarks/train_throughput.py --device cuda`), memory- and
    launch-bound at its 0.1-0.5 GFLOP per sample; a production-size network is what this default plans for."""
    gpu_power_w: float = 700.0
    """H100 SXM maximum power (NVIDIA datasheet: 700 W)."""
    pue: float = 1.2
    """Data-centre power usage effectiveness (assumption; hyperscalers report 1.1-1.2)."""
    electricity_usd_per_kwh: float = 0.08
    """Industrial electricity price (assumption: US EIA average, ~$0.08/kWh)."""
    gpu_price_usd: float = 50_000.0
    """Price per GPU installed (the seed: 10,000 H100 ≈ $500M)."""
    gpu_life_years: float = 4.0
    """Years over which the GPUs are written off (assumption: 4-year depreciation)."""
    car_tops: float = 144.0
    """In-car computer (Tesla FSD computer HW3: 144 TOPS, Tesla Autonomy Day 2019)."""
    car_utilisation: float = 0.5
    """Share of the car computer's peak the network can use (assumption: INT8 kernels, other tasks too)."""

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) <= 0:
                raise UserError(f"{f.name}={getattr(self, f.name)} must be positive")
        if not 0 < self.mfu <= 1 or not 0 < self.car_utilisation <= 1:
            raise UserError("mfu and car_utilisation are shares in (0, 1]")


def sources() -> dict[str, str]:
    """Each assumption's docstring: what it is and where the number comes from."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(PlanConfig))
    body = tree.body[0].body
    out = {}
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant):
            out[node.target.id] = " ".join(str(nxt.value.value).split())
    return out


def plan(config: PlanConfig, flops_per_camera: float, flops_head: float) -> dict:
    """flops_per_camera: forward FLOPs of one camera's branch per sample; flops_head: the rest (fusion of the
    cameras' features, speed and command into the plan). Both measured on the real model."""
    flops_per_sample = flops_per_camera * config.cameras + flops_head
    samples = config.fleet_cars * config.hours_per_car_per_day * config.days * 3600 * config.fps
    train_flops = samples * flops_per_sample * BACKWARD_FACTOR * config.epochs
    gpu_hours = train_flops / (config.gpu_peak_tflops * 1e12 * config.mfu) / 3600
    energy_kwh = gpu_hours * config.gpu_power_w / 1000 * config.pue
    capex_usd = gpu_hours * config.gpu_price_usd / (config.gpu_life_years * HOURS_PER_YEAR)
    energy_usd = energy_kwh * config.electricity_usd_per_kwh
    car_flops_per_s = flops_per_sample * config.fps
    car_tops_needed = car_flops_per_s / 1e12
    return {
        "config": asdict(config),
        "flops_per_sample": flops_per_sample,
        "samples": samples,
        "hours_of_driving": config.fleet_cars * config.hours_per_car_per_day * config.days,
        "train_flops": train_flops,
        "gpu_hours": gpu_hours,
        "training_days": gpu_hours / config.gpus / 24,
        "energy_mwh": energy_kwh / 1000,
        "cost_usd": capex_usd + energy_usd,
        "cost_breakdown_usd": {"gpu_write_off": capex_usd, "energy": energy_usd},
        "cluster_price_usd": config.gpus * config.gpu_price_usd,
        "car_flops_per_s": car_flops_per_s,
        "car_tops_needed": car_tops_needed,
        "car_headroom": config.car_tops * config.car_utilisation / car_tops_needed,
        "sources": sources(),
    }
