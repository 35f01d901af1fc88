"""What a training run logs (rank 0 only): every logged step as a CSV row and as TensorBoard scalars.

    RUN/logs/metrics.csv                one row per logged step: step, time_s, lr, loss parts, grad norm, samples/s
    RUN/logs/events.out.tfevents.*      the same, for `tensorboard --logdir RUN/logs`

A resumed run appends to both (rows past its checkpoint's step are dropped first, so the CSV never holds a
step twice).
"""

from __future__ import annotations

import csv
from pathlib import Path

LOGS = "logs"
METRICS_CSV = "metrics.csv"


class TrainLog:
    def __init__(self, run_dir: Path, enabled: bool, resume_step: int = 0) -> None:
        self.enabled = enabled
        self.dir = Path(run_dir) / LOGS
        self.csv_path = self.dir / METRICS_CSV
        self._writer = None
        self._fields: list[str] | None = None
        if not enabled:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.dir.mkdir(parents=True, exist_ok=True)
        if self.csv_path.exists():  # a resumed run: keep the rows up to its checkpoint
            with open(self.csv_path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
            self._fields = list(rows[0]) if rows else None
            with open(self.csv_path, "w", newline="") as f:
                if rows:
                    w = csv.DictWriter(f, self._fields)
                    w.writeheader()
                    w.writerows(rows)
        self._writer = SummaryWriter(str(self.dir), purge_step=resume_step + 1 if resume_step else None)

    def log(self, row: dict[str, float]) -> None:
        if not self.enabled:
            return
        step = int(row["step"])
        for key, value in row.items():
            if key != "step":
                self._writer.add_scalar(f"train/{key}", value, step)
        new = not self.csv_path.exists() or self.csv_path.stat().st_size == 0
        if self._fields is None:
            self._fields = list(row)
        with open(self.csv_path, "a", newline="") as f:
            w = csv.DictWriter(f, self._fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)

    def scalars(self, prefix: str, values: dict[str, float], step: int) -> None:
        if self.enabled:
            for key, value in values.items():
                self._writer.add_scalar(f"{prefix}/{key}", value, step)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
