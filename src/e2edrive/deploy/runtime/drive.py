"""`e2edrive drive`: the in-car loop run over one or more sources (simulator episodes or a video), its latency
report pooled over every cycle, and for a video an MP4 with the planned path drawn. No torch."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from e2edrive.core import io
from e2edrive.core.camera import CameraConfig
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_path, atomic_write_json

if TYPE_CHECKING:  # the loop imports onnxruntime: loaded when driving, not when the command line starts
    from e2edrive.deploy.runtime.loop import CycleRecord, LoopConfig

LATENCY_JSON = "latency.json"
DRIVE_VIDEO = "drive.mp4"
VIDEO_SCALE = 3
"""The recorded video is the model's input upscaled this many times, so the drawn path is legible."""


@dataclass(frozen=True)
class DriveConfig:
    """How `e2edrive drive` runs the loop: rate, deadline behaviour, monitor on/off, cycle cap."""

    rate_hz: float = 20.0
    monitor: bool = True
    """Safety monitor between model and actuators (off only to measure what it buys)."""
    max_cycles: int | None = None
    """Stop each run after this many cycles."""
    assumed_speed_mps: float = 25.0
    """Speed the model is told on a video, which carries none."""

    def __post_init__(self) -> None:
        if self.rate_hz <= 0:
            raise UserError(f"rate={self.rate_hz} Hz must be positive")


def model_file(model: Path, int8: bool = False) -> Path:
    """An .onnx file as given, or model.onnx (model_int8.onnx with int8) of an export directory."""
    model = Path(model)
    path = model if model.suffix == ".onnx" else model / ("model_int8.onnx" if int8 else "model.onnx")
    if not path.is_file():
        raise UserError(f"{path}: no such ONNX model (give an .onnx file or an export directory)")
    return path


def pool_reports(reports: list[dict], latencies_s: list[float], model_s: list[float], config: LoopConfig) -> dict:
    """Several runs of the loop as one report: counts add up, percentiles are over every cycle."""
    from e2edrive.deploy.runtime.loop import latency_report, percentiles_ms

    reasons: Counter[str] = Counter()
    for r in reports:
        reasons.update(r["interventions"])
    total = {k: sum(r[k] for r in reports) for k in ("cycles", "dropped_frames", "deadline_misses")}
    pooled = latency_report(
        latencies_s, total["cycles"], total["dropped_frames"], total["deadline_misses"], reasons, config
    )
    return {**pooled, "model_latency_ms": percentiles_ms(model_s), "runs": len(reports)}


def drive(
    model_path: Path,
    sources: Iterable,
    out_dir: Path,
    config: DriveConfig = DriveConfig(),
    realtime: bool = True,
    record_video: bool = False,
    on_cycle: Callable[[CycleRecord], None] | None = None,
) -> tuple[dict, list[dict]]:
    """Run the loop over each source in turn (one ONNX session); writes OUT/latency.json (and OUT/drive.mp4
    with record_video). Returns the pooled report and each source's result() where it has one (sim)."""
    from e2edrive.deploy.runtime.loop import DriveLoop, LoopConfig
    from e2edrive.deploy.runtime.monitor import MonitorConfig
    from e2edrive.deploy.runtime.overlay import draw_path

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    loop_config = LoopConfig(rate_hz=config.rate_hz, realtime=realtime, max_cycles=config.max_cycles)
    monitor_config = MonitorConfig() if config.monitor else None
    camera = CameraConfig()
    reports, results, latencies, model_latencies = [], [], [], []
    loop = None
    with contextlib.ExitStack() as stack:
        writer = None
        if record_video:
            from e2edrive.data.clip import VideoWriter

            video_tmp = stack.enter_context(atomic_path(out_dir / DRIVE_VIDEO))
            size = (io.IMAGE_WIDTH_PX * VIDEO_SCALE, io.IMAGE_HEIGHT_PX * VIDEO_SCALE)
            writer = VideoWriter(video_tmp, *size, fps=round(config.rate_hz))
            stack.callback(writer.close)  # before the rename into place (last in, first out)

        def cycle(record: CycleRecord) -> None:
            if on_cycle is not None:
                on_cycle(record)
            if writer is not None and record.frame is not None and record.plan is not None:
                trajectory, _ = loop.layout.split(record.plan)
                big = record.frame.image.repeat(VIDEO_SCALE, 0).repeat(VIDEO_SCALE, 1)
                writer.write(draw_path(big, trajectory, camera, scale=VIDEO_SCALE))

        for source in sources:
            loop = loop or DriveLoop(model_path, source, loop_config, monitor_config)
            reports.append(loop.run(cycle, source=source))
            latencies += loop.latencies_s
            model_latencies += loop.model_latencies_s
            if hasattr(source, "result"):
                results.append(source.result())
    if not reports:
        raise UserError("no source to drive")
    report = reports[0] if len(reports) == 1 else pool_reports(reports, latencies, model_latencies, loop_config)
    if record_video:
        report |= {"video": str(out_dir / DRIVE_VIDEO), "assumed_speed_mps": config.assumed_speed_mps}
    report |= {"model": str(model_path), "monitor": config.monitor}
    return report, results


def write_report(report: dict, out_dir: Path) -> Path:
    path = Path(out_dir) / LATENCY_JSON
    atomic_write_json(path, report)
    return path
