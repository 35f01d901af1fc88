import json
import subprocess
import sys
import time

import pytest
import typer
from typer.testing import CliRunner

from e2edrive.cli import app
from tests.conftest import REAL

runner = CliRunner()


def _command_paths(command, prefix=()):
    """Every command and subcommand of the app, as argument lists."""
    yield list(prefix)
    for name, sub in getattr(command, "commands", {}).items():
        yield from _command_paths(sub, (*prefix, name))


def test_every_command_and_subcommand_has_help():
    paths = list(_command_paths(typer.main.get_command(app)))
    assert ["data", "export-lerobot"] in paths and ["drive"] in paths and len(paths) >= 17
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage" in result.output


def _e2edrive(*args: str, cwd=None, timeout_s: float = 60.0) -> tuple[subprocess.CompletedProcess, float]:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "e2edrive.cli", *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, cwd=cwd)
    return r, time.perf_counter() - start


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--policy", "NO_SUCH_DIR", "--episodes", "2"], "policy 'NO_SUCH_DIR' is neither"),
        (["eval", "--episodes", "2", "--set", "vehicles_density=abc"], 'vehicles_density="abc": expected a number'),
        (
            ["collect", "--out", "OUT", "--episodes", "2", "--set", "lanes_count=x"],
            'lanes_count="x": expected a number',
        ),
        (["eval", "--scenario", "moon"], "unknown scenario 'moon'"),
        (["bench-drive", "--policies", "expert,nobody", "--out", "B"], "policy 'nobody' is neither"),
        (["bench-drive", "--scenarios", "moon", "--out", "B"], "unknown scenario 'moon'"),
        (["dagger", "--init", "NO_SUCH_DIR", "--out", "D"], "not a training run"),
        (["train", "--data", "NO_SUCH_DIR", "--out", "RUN"], "NO_SUCH_DIR: no such directory of clips"),
        (
            ["train", "--data", "D", "--out", "RUN", "--scenario-share", "intersection"],
            "--scenario-share expects NAME=WEIGHT",
        ),
        (
            ["train", "--data", "D", "--out", "RUN", "--scenario-share", "intersection=0"],
            "every share must be positive",
        ),
        (
            ["train", "--data", "D", "--out", "RUN", "--scenario-share", "intersection=2"],
            "give them with balance (--balance)",
        ),
        (["train", "--data", "D", "--out", "RUN", "--fusion", "mid"], "fusion='mid': choose one of late, early"),
        (["eval", "--accel-from", "sideways"], "accel_from='sideways': choose one of"),
        (["demo", "--out", "D", "--fusion", "mid"], "fusion='mid': choose one of late, early"),
        (["demo", "--out", "D", "--deadline-minutes", "-1"], "deadline_minutes=-1.0 must be positive"),
        (["data", "check", "NO_SUCH_DIR"], "NO_SUCH_DIR: no such directory of clips"),
        (["data", "ingest", "NO_SUCH_FILE", "--out", "REAL"], "NO_SUCH_FILE: no such video file"),
        (["drive", "--model", "NO.onnx"], "NO.onnx: no such ONNX model"),
        (["eval", "--episodes", "many"], "Invalid value for '--episodes'"),
    ],
)
def test_a_user_error_is_one_line_exit_2_and_quick(args, message, tmp_path):
    r, wall_s = _e2edrive(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2, r.stderr
    assert wall_s < 30


def test_a_file_that_is_not_what_it_claims_is_a_user_error(tmp_path):
    fake = tmp_path / "model.onnx"
    fake.write_text("not a model")
    r, _ = _e2edrive("drive", "--model", str(fake), "--source", str(REAL / "udacity_solidWhiteRight.mp4"))
    assert r.returncode == 2 and "is not a loadable ONNX model" in r.stderr, r.stderr
    r, _ = _e2edrive("bench-drive", "--policies", f"expert,{fake}", "--out", str(tmp_path / "bench"))
    assert r.returncode == 2 and "is not a loadable ONNX model" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) <= 2 and not (tmp_path / "bench").exists(), "nothing half-written"
    video = tmp_path / "clip.mp4"
    video.write_text("not a video")
    r, _ = _e2edrive("drive", "--model", str(fake), "--source", str(video))
    assert r.returncode == 2, r.stderr


def test_debug_shows_the_traceback():
    r, _ = _e2edrive("eval", "--scenario", "moon", "--debug")
    assert r.returncode == 2 and "Traceback" in r.stderr and "unknown scenario" in r.stderr


def test_collect_train_export_eval_from_the_command_line(tmp_path):
    clips, run, onnx = tmp_path / "clips", tmp_path / "run", tmp_path / "model.onnx"
    short = ["--set", "duration=4", "--set", "vehicles_count=10"]
    r = runner.invoke(app, ["collect", "--episodes", "3", "--workers", "1", "--seed", "0", "--out", str(clips), *short])
    assert r.exit_code == 0, r.output
    train = ["train", "--data", str(clips), "--out", str(run), "--minutes", "0.05", "--max-steps", "3"]
    r = runner.invoke(app, [*train, "--fusion", "early", "--accel-from", "controls"])  # frames as the CNN's input
    assert r.exit_code == 0, r.output
    saved = json.loads((run / "config.json").read_text())
    assert saved["model"]["fusion"] == "early" and saved["controller"]["accel_from"] == "controls"
    r = runner.invoke(app, ["export", str(run), "--out", str(onnx)])
    assert r.exit_code == 0, r.output
    out_json = tmp_path / "eval.json"
    r = runner.invoke(
        app,
        [
            "eval",
            "--policy",
            str(onnx),
            "--episodes",
            "2",
            "--seed",
            "7",
            "--workers",
            "1",
            "--json",
            str(out_json),
            *short,
        ],
    )
    assert r.exit_code == 0, r.output
    result = json.loads(out_json.read_text())
    assert result["episodes_count"] == 2 and result["config"]["overrides"]["duration"] == 4
    assert result["controller"]["accel_from"] == "controls", "the export drives as its run records"


def test_model_info_and_plan_print_and_write_json(untrained_run, tmp_path):
    r = runner.invoke(app, ["model-info", str(untrained_run), "--json", str(tmp_path / "info.json")])
    assert r.exit_code == 0, r.output
    info = json.loads((tmp_path / "info.json").read_text())
    assert "FLOPs per sample" in r.output and info["cameras"][0]["name"] == "front"
    r = runner.invoke(
        app, ["plan", "--run", str(untrained_run), "--cluster", "50k", "--json", str(tmp_path / "p.json")]
    )
    assert r.exit_code == 0, r.output
    result = json.loads((tmp_path / "p.json").read_text())
    assert (
        result["config"]["gpus"] == 50_000
        and result["flops_per_sample"] > 5 * info["flops_per_sample_by_camera"]["front"] * 0.99
    )
    assert {"gpu_hours", "training_days", "cost_usd", "car_tops_needed"} <= set(result)
    assert "NVIDIA H100 datasheet" in r.output
