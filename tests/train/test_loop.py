import json
from dataclasses import replace

import torch

from e2edrive.core.control import ControllerConfig
from e2edrive.data.build import BuildConfig, build_dataset
from e2edrive.model.checkpoint import is_run_dir, load_model
from e2edrive.model.config import run_controller
from e2edrive.train.loop import REFIT_UNTIL_FRACTION, TrainConfig, fit_steps, train


def test_train_writes_a_loadable_checkpoint_history_and_summary(tiny_clips, tmp_path):
    config = TrainConfig(minutes=None, max_steps=4, batch_size=8, log_every=2, val_batches=2)
    summary = train(tiny_clips, tmp_path / "run", config, progress=False)
    assert is_run_dir(tmp_path / "run") and summary["steps"] == 4
    model, saved = load_model(tmp_path / "run")
    assert saved["train"]["max_steps"] == 4 and not model.training
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert [h["step"] for h in history] == [2, 4] and all(h["loss"] > 0 for h in history)
    assert not list((tmp_path / "run").glob(".*tmp*")), "no temp files left behind"


def test_same_seed_same_weights(tiny_clips, tmp_path):
    config = TrainConfig(minutes=None, max_steps=3, batch_size=8, bf16=False)
    train(tiny_clips, tmp_path / "a", config, progress=False)
    train(tiny_clips, tmp_path / "b", config, progress=False)
    a, _ = load_model(tmp_path / "a")
    b, _ = load_model(tmp_path / "b")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_trains_on_a_built_dataset(tiny_clips, tmp_path):
    path = build_dataset(tiny_clips, tmp_path / "datasets", BuildConfig(val_fraction=0.0, test_fraction=0.0))
    summary = train(path, tmp_path / "run", TrainConfig(minutes=None, max_steps=2, batch_size=8), progress=False)
    assert summary["train_samples"] > 0 and summary["val_samples"] == 0


def test_a_run_records_its_controller_and_fine_tuning_keeps_it(tiny_clips, tmp_path):
    controls = ControllerConfig(accel_from="controls")
    one_step = TrainConfig(minutes=None, max_steps=1, batch_size=8, controller=controls)
    train(tiny_clips, tmp_path / "a", one_step, progress=False)
    train(tiny_clips, tmp_path / "b", replace(one_step, controller=None, init=str(tmp_path / "a")), progress=False)
    train(tiny_clips, tmp_path / "c", replace(one_step, controller=None), progress=False)
    assert [run_controller(tmp_path / r) for r in "abc"] == [controls, controls, ControllerConfig()]
    assert TrainConfig.from_json(json.loads((tmp_path / "a" / "config.json").read_text())["train"]) == one_step


def test_fine_tuning_starts_from_the_given_run(tiny_clips, untrained_run, tmp_path):
    config = TrainConfig(minutes=None, max_steps=1, batch_size=8, lr=1e-9, warmup_steps=1, init=str(untrained_run))
    train(tiny_clips, tmp_path / "run", config, progress=False)
    start, _ = load_model(untrained_run)
    tuned, saved = load_model(tmp_path / "run")
    assert saved["train"]["init"] == str(untrained_run)
    for name, p in start.named_parameters():
        assert torch.allclose(p, dict(tuned.named_parameters())[name], atol=1e-6), name


def test_the_step_count_is_refitted_until_half_the_budget_has_run():
    # 60 s into a 600-s budget at 0.5 s per step: 1080 more steps fill it, and later checks may still correct it
    assert fit_steps(120, 60.0, 0.5, 600.0, 100_000) == (120 + 1080, False)
    # at half the budget the last fit fills the rest at the mean rate since warm-up, which then spans half the budget
    assert fit_steps(700, REFIT_UNTIL_FRACTION * 600.0, 0.25, 600.0, 100_000) == (700 + 1200, True)
    assert fit_steps(700, 300.0, 0.25, 600.0, 1000) == (1000, True), "never past max_steps"
    assert fit_steps(700, 650.0, 0.25, 600.0, 100_000) == (700, True), "over budget: stop now"
