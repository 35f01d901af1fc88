"""The in-car loop: a fixed rate, a deadline per cycle, preallocated inputs, a safety monitor. No torch.

Each cycle: read a frame → run the network (onnxruntime) → parse the plan → command → monitor → actuators.
A cycle whose output is late (over the period) or whose frame is missing does not use the network's output:
the monitor holds the last safe command for one cycle, then brakes gently.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from e2edrive.core import io
from e2edrive.core.control import CameraContexts, ControllerConfig, plan_to_action
from e2edrive.core.policy import Action
from e2edrive.deploy.runtime.monitor import MonitorConfig, PassThrough, SafetyMonitor
from e2edrive.deploy.runtime.onnx_policy import make_session, session_cameras, session_controller, session_layout

HISTOGRAM_EDGES_MS = (0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100)


@dataclass(frozen=True)
class LoopConfig:
    rate_hz: float = 20.0
    realtime: bool = True
    """Sleep to hold the rate (a car, a video); False runs cycles back to back (a simulator in lockstep)."""
    max_cycles: int | None = None
    threads: int = 1

    def __post_init__(self) -> None:
        if self.rate_hz <= 0:
            raise ValueError(f"rate_hz={self.rate_hz} must be positive")

    @property
    def period_s(self) -> float:
        return 1.0 / self.rate_hz


def parse_plan(output: np.ndarray, layout: io.PlanLayout = io.PLAN_LAYOUT) -> np.ndarray:
    """ORT output (1, layout.size) → (layout.size,) float32; NaN when the shape is wrong."""
    out = np.asarray(output, np.float32).reshape(-1)
    return out if out.shape[0] == layout.size else np.full(layout.size, np.nan, np.float32)


@dataclass
class CycleRecord:
    frame: object
    plan: np.ndarray | None
    action: Action
    interventions: list[str]


class DriveLoop:
    def __init__(
        self,
        model_path: Path,
        source,
        config: LoopConfig = LoopConfig(),
        monitor: MonitorConfig | None = MonitorConfig(),
        controller: ControllerConfig | None = None,
    ) -> None:
        """controller: None drives with the one the model records (`onnx_policy.session_controller`)."""
        self.config = config
        self.session = make_session(model_path, config.threads)
        self.source = source
        self.monitor = SafetyMonitor(monitor) if monitor is not None else PassThrough()
        self.controller = controller or session_controller(self.session)
        cameras, offsets = session_cameras(self.session)
        self.cameras = tuple(name for name, _ in cameras)
        self.context = CameraContexts(cameras, offsets, config.rate_hz)
        self.layout = session_layout(self.session)
        self._feeds = {
            io.frames_input(name): np.zeros((1, len(offsets), c, h, w), np.uint8) for name, (h, w, c) in cameras
        }
        self._feeds |= {
            io.INPUT_SPEED: np.zeros((1, 1), np.float32),
            io.INPUT_COMMAND: np.zeros((1, io.N_COMMANDS), np.float32),
        }

    def infer(self, frame) -> np.ndarray:
        for name, stack in zip(self.cameras, self.context.push(frame.images)):
            self._feeds[io.frames_input(name)][0] = stack
        self._feeds[io.INPUT_SPEED][0, 0] = frame.speed_mps
        self._feeds[io.INPUT_COMMAND][0] = io.command_one_hot(frame.command)
        (out,) = self.session.run([io.OUTPUT_PLAN], self._feeds)
        return parse_plan(out, self.layout)

    def run(self, on_cycle: Callable[[CycleRecord], None] | None = None, source=None) -> dict:
        """Drive until the source ends (or max_cycles). A new `source` starts a new run on the same session."""
        if source is not None:
            self.source = source
            self.context.reset()
            self.monitor.reset()
        period = self.config.period_s
        latencies_s: list[float] = []
        model_s: list[float] = []
        dropped = missed = 0
        reasons: Counter[str] = Counter()
        cycles = 0
        next_start = time.perf_counter()
        while not self.source.finished and (self.config.max_cycles is None or cycles < self.config.max_cycles):
            start = time.perf_counter()
            frame = self.source.read()
            plan = None
            command: Action | None = None
            if frame is None:
                dropped += 1
            else:
                t_model = time.perf_counter()
                plan = self.infer(frame)
                model_s.append(time.perf_counter() - t_model)
                command = plan_to_action_or_none(plan, frame.speed_mps, self.controller, self.layout)
            elapsed = time.perf_counter() - start
            latencies_s.append(elapsed)
            if elapsed > period:
                missed += 1
                command = None
            out = self.monitor.filter(command, period, frame.lead if frame is not None else None)
            reasons.update(out.interventions)
            self.source.apply(out.action)
            if on_cycle is not None:
                on_cycle(CycleRecord(frame, plan, out.action, out.interventions))
            cycles += 1
            if self.config.realtime:
                next_start += period
                time.sleep(max(0.0, next_start - time.perf_counter()))
        self.latencies_s, self.model_latencies_s = latencies_s, model_s  # raw, to pool several runs
        report = latency_report(latencies_s, cycles, dropped, missed, reasons, self.config)
        report["model_latency_ms"] = percentiles_ms(model_s)
        return report


def plan_to_action_or_none(
    plan: np.ndarray,
    speed_mps: float,
    controller: ControllerConfig,
    layout: io.PlanLayout = io.PLAN_LAYOUT,
) -> Action | None:
    """None for a non-finite plan, so the monitor reports it and falls back."""
    if not np.all(np.isfinite(plan)):
        return None
    return plan_to_action(plan, speed_mps, controller, layout)


def percentiles_ms(times_s: list[float]) -> dict[str, float]:
    ms = np.array(times_s) * 1e3 if times_s else np.zeros(1)
    return {
        "p50": float(np.percentile(ms, 50)),
        "p90": float(np.percentile(ms, 90)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
        "mean": float(ms.mean()),
    }


def latency_report(
    latencies_s: list[float], cycles: int, dropped: int, missed: int, reasons: Counter, config: LoopConfig
) -> dict:
    """Whole-cycle latency (frame read + network + control), from the start of a cycle to its command."""
    ms = np.array(latencies_s) * 1e3 if latencies_s else np.zeros(1)
    counts, _ = np.histogram(ms, bins=[0.0, *HISTOGRAM_EDGES_MS, np.inf])
    return {
        "config": asdict(config),
        "cycles": cycles,
        "period_ms": config.period_s * 1e3,
        "latency_ms": percentiles_ms(latencies_s),
        "latency_histogram_ms": {"edges": [0.0, *HISTOGRAM_EDGES_MS, "inf"], "counts": counts.tolist()},
        "deadline_misses": missed,
        "dropped_frames": dropped,
        "interventions": dict(reasons),
    }
