"""Crash safety: kill -9 a real training process, rerun the same command, get the uninterrupted run's weights
bit for bit; a corrupt checkpoint is reported in one line and the previous one is used."""

import hashlib
import os
import signal
import subprocess
import sys
import time

from e2edrive.train.checkpoints import CHECKPOINTS, MODEL

STEPS = 60


def _command(data, run) -> list[str]:
    return [
        sys.executable, "-m", "e2edrive.cli", "train", "--data", str(data), "--out", str(run),
        "--max-steps", str(STEPS), "--batch-size", "8", "--save-every", "5", "--workers", "1", "--minutes", "1000",
    ]  # fmt: skip


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_killed_training_resumes_to_the_same_weights_bit_for_bit(tiny_clips, tmp_path):
    subprocess.run(_command(tiny_clips, tmp_path / "whole"), check=True, capture_output=True, timeout=300)
    proc = subprocess.Popen(
        _command(tiny_clips, tmp_path / "killed"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    checkpoints = tmp_path / "killed" / CHECKPOINTS
    deadline = time.time() + 120
    while time.time() < deadline and not any(int(p.name[5:]) >= 15 for p in checkpoints.glob("step-*")):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "killed" / MODEL).exists(), "killed before the end"
    r = subprocess.run(_command(tiny_clips, tmp_path / "killed"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout
    assert _sha(tmp_path / "killed" / MODEL) == _sha(tmp_path / "whole" / MODEL)


def test_a_corrupt_checkpoint_is_named_and_the_previous_one_used(tiny_clips, tmp_path):
    run = tmp_path / "run"
    first = [*_command(tiny_clips, run)]
    first[first.index("--max-steps") + 1] = "20"
    subprocess.run(first, check=True, capture_output=True, timeout=300)
    newest = sorted((run / CHECKPOINTS).glob("step-*"))[-1]
    weights = newest / MODEL
    weights.write_bytes(weights.read_bytes()[:1000])  # truncated
    r = subprocess.run(_command(tiny_clips, run), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    messages = [line for line in r.stdout.splitlines() if "unreadable checkpoint file" in line]
    assert len(messages) == 1 and str(weights) in messages[0], r.stdout
    assert "resuming" in r.stdout and "step-0000015" in r.stdout
