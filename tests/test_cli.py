import json

from typer.testing import CliRunner

from e2edrive.cli import app

runner = CliRunner()


def test_every_command_has_help():
    for cmd in ([], ["collect"], ["train"], ["export"], ["eval"], ["demo"]):
        result = runner.invoke(app, [*cmd, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_collect_train_export_eval_from_the_command_line(tmp_path):
    clips, run, onnx = tmp_path / "clips", tmp_path / "run", tmp_path / "model.onnx"
    short = ["--set", "duration=4", "--set", "vehicles_count=10"]
    r = runner.invoke(app, ["collect", "--episodes", "3", "--workers", "1", "--seed", "0", "--out", str(clips), *short])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["train", "--data", str(clips), "--out", str(run), "--minutes", "0.05", "--max-steps", "3"])
    assert r.exit_code == 0, r.output
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
