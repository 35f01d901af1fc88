"""DDP on CPU (gloo) through torchrun: ranks stay identical, and equal one process on the same global batches."""

import json
import os
import subprocess
import sys
from pathlib import Path

from safetensors.torch import load_file

JOB = Path(__file__).with_name("ddp_job.py")
PARITY_TOLERANCE = 1e-5
"""Max |parameter difference| after 4 fp32 steps: the only difference is the order of floating-point sums
(gradients all-reduced across ranks vs accumulated in one process)."""


def _run(cmd: list[str]) -> None:
    # one thread per process, as torchrun gives each rank: the same reduction order inside every kernel
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stderr[-3000:]


def test_two_processes_match_each_other_and_one_process_on_the_same_global_batches(tiny_clips, tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    _run([*torchrun, str(JOB), str(tiny_clips), str(tmp_path / "ddp"), "1"])
    _run([sys.executable, str(JOB), str(tiny_clips), str(tmp_path / "one"), "2"])
    ddp = json.loads((tmp_path / "ddp" / "train_summary.json").read_text())
    one = json.loads((tmp_path / "one" / "train_summary.json").read_text())
    assert ddp["world_size"] == 2 and ddp["backend"] == "gloo" and one["world_size"] == 1
    assert ddp["ranks_in_sync"] and len(set(ddp["rank_parameter_sha256"])) == 1
    assert ddp["global_batch"] == one["global_batch"] == 8
    a, b = (
        load_file(str(tmp_path / "ddp" / "model.safetensors")),
        load_file(str(tmp_path / "one" / "model.safetensors")),
    )
    # parameters, not BatchNorm's running statistics (buffers: each rank keeps rank 0's, one process updates
    # them once per micro-batch)
    params = [k for k in a if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    diff = max((a[k] - b[k]).abs().max().item() for k in params)
    assert diff <= PARITY_TOLERANCE, diff
    assert ddp["val"]["samples"] == one["val"]["samples"], "validation covers the same samples, summed over ranks"


def test_the_command_line_launches_torchrun_with_nproc(tiny_clips, tmp_path):
    cmd = [sys.executable, "-m", "e2edrive.cli", "train", "--data", str(tiny_clips), "--out", str(tmp_path / "run")]
    _run([*cmd, "--nproc", "2", "--max-steps", "2", "--batch-size", "4", "--workers", "0", "--no-bf16"])
    summary = json.loads((tmp_path / "run" / "train_summary.json").read_text())
    assert summary["world_size"] == 2 and summary["ranks_in_sync"] and summary["steps"] == 2
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["train"]["bf16"] is False, "options reach every rank through torchrun"
