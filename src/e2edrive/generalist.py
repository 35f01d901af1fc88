"""`e2edrive demo --scenario all`: one network for every scenario, end to end.

collect expert clips over the scenarios → train round 0 → DAgger rounds (`dagger.py`) → export ONNX →
evaluate expert, rules, learned (torch, the kept round's evaluation; ONNX) on every scenario, on the same
held-out seeds → leaderboard, DIR/summary.json (`scenarios.<name>.{expert,rules,learned_torch,learned_onnx}`),
DIR/report.md, DIR/bench/ (the leaderboard's episodes) and the HTML report DIR/report/index.html. The trained
run is DIR/run.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from e2edrive.core.files import atomic_write_json
from e2edrive.dagger import INDEPENDENT_STAGE, DaggerConfig

DRIVERS = ("expert", "rules", "learned_torch", "learned_onnx")
LEADERBOARD_KEYS = ("success_rate", "route_completion", "collisions_per_100km", "mean_speed_mps")
GENERALIST_SHARES = {"roundabout": 1.5, "intersection": 2.0, "racetrack": 1.5, "exit": 1.2}
"""More episodes where the manoeuvres are rare or hard (turns, exits, curves); highway and merge weigh 1."""
VAL_FRACTION = 0.1
"""The training split's held-out share (`TrainConfig.val_fraction`): open-loop scores use those clips."""
OPEN_LOOP_CLIPS = 24
FINAL_EVALUATIONS = 1.5
"""What follows the DAgger rounds, in evaluations of every scenario at the slowest round's rate: the export, the ONNX
evaluation, open-loop scores and the report, 0.75-1.4 of the slowest round's evaluation before the last in seven
runs. Expert, rules and the blind baseline, which need no learner, run before round 0 trains (`independent` in
`run_dagger`): predicted at 5 evaluations with them, the final stages took 2.1-4.1 (one run trained 10.7 min too
little, another overran the deadline)."""


@dataclass(frozen=True)
class GeneralistConfig:
    """Sized for <= 60 min on this 2-core machine: 2-4 min of expert collection, ~5 min evaluating expert, rules and the
    blind baseline, 8 min of round-0 training, five rounds of ~1-4 min driving and ~1-2 min evaluation, fine-tuning
    3 min in rounds 1-4 and 8 min in the last, ~3 min of ONNX evaluation and report. Five rounds, not three: on a
    machine training ~600 samples/s the hard scenarios were still climbing at round 3 (intersection 0 -> 0 -> 10 -> 30 %
    on the demo's seeds), and three runs with five rounds (42.6-42.9 min) drove 79, 84 and 90 % on 50 held-out seeds
    600000.. (intersection 66, 60 and 62 %) against 75 and 68 % for the current code's two runs with three (33.0 and
    36.5 min; intersection 24 and 50 %). Seven rounds (the third run resumed with two more) drove 86 % against its five
    rounds' 90 %. On a slower machine the deadline takes the extra rounds' driving out of the training budgets. Why the
    last round gets the minutes (the runs below had three rounds): with 11 min for round 0 and 6.5 per round the
    deadline left the last round 1.6-3.5 min and four runs drove 58-65 % on 50 held-out seeds, and 5 more minutes of
    fine-tuning lifted two of those networks to 67 and 72 %. With this split one run trained 8.4 / 3.1 / 3.1 / 8.2
    min (50.1 min in all) and drove 78 %; another, before the last round's budget
    was set aside first and while expert, rules and blind baseline were still predicted at the end (5 evaluations, 2.4
    times what they took), trained 8.0 / 3.0 / 0.9 / 4.8 min in 47.3 min and drove 59 %; replayed on its stage times,
    the current rules give it 8 / 3 / 3 / 8 in 51.7 min. The first run of the current code trained 8 / 3 / 3 / 8 in 50.9
    min. On a slow machine the deadline (58 min, two of margin) shrinks the training budgets where the driving measured
    on the way says they would not fit (`dagger.training_minutes`, the last round's budget set aside first): replayed on
    the stage times of the slowest run so far (57.2 min), 8 / 3 / 3 / 8 min in 57.8 min. On-policy rounds moved the hard
    scenarios more than longer behaviour cloning did. On a machine twice as fast (round 0: ~4600 steps at ~610
    samples/s; 33.6 min in all) the same config drove 80 % on 50 held-out seeds, and twice the data (480 expert
    episodes, 96 a round) 74 % (one run each): more steps or data did not lift it. The expert labels every fourth
    on-policy frame: its plans (the world replayed 3 s ahead) were ~85 % of on-policy collection, itself half of all
    driving. Twice the intersection's share of every batch (`batch_shares={"intersection": 2.0}`; two runs) drove 88
    and 78 % (intersection 70 and 66 %, roundabout 84 and 34 %): equal shares stay."""

    dagger: DaggerConfig = field(
        default_factory=lambda: DaggerConfig(
            scenario="all",
            rounds=5,
            episodes_per_round=48,
            expert_episodes=240,
            initial_train_minutes=8.0,
            train_minutes=3.0,
            final_train_minutes=8.0,
            eval_episodes=20,
            shares=GENERALIST_SHARES,
            relabel_every_steps=4,
            deadline_minutes=58.0,
            after_evaluations=FINAL_EVALUATIONS,
        )
    )


def run_generalist_demo(out: Path, config: GeneralistConfig = GeneralistConfig(), console: Console | None = None):
    from e2edrive.dagger import run_dagger
    from e2edrive.data.build import split_of
    from e2edrive.data.clip import list_clips
    from e2edrive.deploy.export import export_onnx
    from e2edrive.evaluate.bench import BenchConfig, bench_from_evaluations
    from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
    from e2edrive.evaluate.open_loop import open_loop
    from e2edrive.model.blind import is_blind_dir, train_blind
    from e2edrive.policies import make_policy
    from e2edrive.report.html import write_html_report
    from e2edrive.report.plots import plot_loss

    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "demo_config.json", asdict(config))
    d = config.dagger
    t0 = time.perf_counter()
    walls: dict[str, float] = {}
    evals: dict[str, dict] = {}
    blind = out / "blind"
    specs = {
        "learned_torch": str(out / "run"),
        "expert": "expert",
        "rules": "rules",
        "learned_onnx": str(out / "model.onnx"),
        "blind_baseline": str(blind),
    }

    def evaluate_once(name: str) -> None:
        path = out / f"eval_{name}.json"
        if path.exists():
            evals[name] = json.loads(path.read_text())
            return
        console.rule(f"[bold]evaluate {name}")
        t = time.perf_counter()
        eval_config = EvalConfig(specs[name], d.scenario, d.eval_episodes, d.eval_seed, d.workers, d.overrides)
        evals[name] = evaluate(eval_config)
        atomic_write_json(path, evals[name])
        walls[f"eval_{name}"] = time.perf_counter() - t

    def independent(expert_clips: Path) -> None:
        """Expert, rules and the blind baseline (ego status only, trained on the network's training split,
        `model/blind.py`) do not depend on the learner: they run before round 0 trains, so the deadline measures
        them instead of predicting them."""
        if not is_blind_dir(blind):
            t = time.perf_counter()
            train_blind([c for c in list_clips(expert_clips) if split_of(c.name, VAL_FRACTION) == "train"], blind)
            walls["train_blind"] = time.perf_counter() - t
        for name in ("expert", "rules", "blind_baseline"):
            evaluate_once(name)

    dagger = run_dagger(out, d, console=console, independent=independent)
    # the independent stages' own walls are above, one by one
    walls.update({f"dagger {k}": v for k, v in dagger["stage_wall_s"].items() if k != INDEPENDENT_STAGE})

    t = time.perf_counter()
    export = export_onnx(out / "run", out / "model.onnx")
    walls["export"] = time.perf_counter() - t
    evals["learned_torch"] = json.loads((out / f"round_{dagger['final_round']}" / "eval.json").read_text())
    evaluate_once("learned_onnx")
    # open-loop scores on the held-out split beside closed loop (`evaluate/open_loop.py`)
    held_out = [c for c in list_clips(out / "expert_clips") if split_of(c.name, VAL_FRACTION) == "val"]
    held_out = held_out[:OPEN_LOOP_CLIPS]
    history = json.loads((out / "run" / "history.json").read_text())
    plot_loss(history, out / "training_loss.png")
    t = time.perf_counter()
    bench_config = BenchConfig(tuple(specs.values()), d.scenario, d.eval_episodes, d.eval_seed, d.workers, d.overrides)
    open_loop_path = out / "open_loop.json"
    if not open_loop_path.exists():  # nothing held out (a tiny run): no open-loop scores
        learned = ("learned_torch", "blind_baseline") if held_out else ()
        atomic_write_json(open_loop_path, {k: open_loop(make_policy(specs[k]), held_out) for k in learned})
    scores = json.loads(open_loop_path.read_text())
    bench_from_evaluations(out / "bench", {k: (specs[k], evals[k]) for k in specs}, bench_config, scores)
    page = write_html_report(out, out / "report", d.workers)
    walls["report"] = time.perf_counter() - t
    scenarios = {
        name: {driver: _strip(evals[driver]["scenarios"][name]) for driver in DRIVERS}
        for name in evals["expert"]["scenarios"]
    }
    summary = {
        "scenario": d.scenario,
        "config": asdict(config),
        "eval_seeds": list(range(d.eval_seed, d.eval_seed + d.eval_episodes)),
        "scenarios": scenarios,
        "mean": {driver: evals[driver]["mean"] for driver in DRIVERS},
        "blind_baseline": {name: _strip(m) for name, m in evals["blind_baseline"]["scenarios"].items()},
        "open_loop": scores,
        "targets": targets(scenarios),
        "dagger": {k: dagger[k] for k in ("rows", "stability", "stable", "band")},
        "onnx_parity_max_abs_error": export["max_abs_error"],
        "run": str(out / "run"),
        "report": str(page),
        "stage_wall_s": walls,
        "total_wall_s": time.perf_counter() - t0,
    }
    atomic_write_json(out / "summary.json", summary)
    write_generalist_report(summary, out / "report.md")
    return summary


def _strip(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in ("episodes", "config")}


def targets(scenarios: dict) -> dict:
    """The generalist issue's targets per scenario: learned success >= 0.9 x the expert's (0.95 x on highway),
    route completion >= 0.9 x and mean speed >= 0.85 x the expert's, success >= the rules driver's (strictly
    more where the rules driver falls short of 1)."""
    out = {}
    for name, s in scenarios.items():
        e, r, learned = s["expert"], s["rules"], s["learned_torch"]
        need = 0.95 if name == "highway" else 0.9
        checks = {
            "success_vs_expert": learned["success_rate"] >= need * e["success_rate"],
            "route_vs_expert": learned["route_completion"] >= 0.9 * e["route_completion"],
            "speed_vs_expert": learned["mean_speed_mps"] >= 0.85 * e["mean_speed_mps"],
            "success_vs_rules": learned["success_rate"] > r["success_rate"]
            if r["success_rate"] < 1
            else learned["success_rate"] >= 1,
        }
        out[name] = {**checks, "met": all(checks.values())}
    return out


def leaderboard(summary: dict) -> Table:
    table = Table("scenario", "driver", "success", "route", "coll/100km", "speed m/s", title="leaderboard")
    for name, drivers in summary["scenarios"].items():
        for driver, m in drivers.items():
            table.add_row(
                name,
                driver,
                f"{m['success_rate']:.2f}",
                f"{m['route_completion']:.3f}",
                f"{m['collisions_per_100km']:.0f}",
                f"{m['mean_speed_mps']:.1f}",
            )
    return table


def write_generalist_report(summary: dict, out_md: Path) -> None:
    from e2edrive.report.markdown import dagger_lines

    lines = ["# e2edrive generalist demo", ""]
    lines += [f"Held-out seeds {summary['eval_seeds'][0]}..{summary['eval_seeds'][-1]} in every scenario.", ""]
    lines += ["| scenario | driver | success | route completion | collisions/100 km | mean speed m/s |"]
    lines += ["|---|---|---|---|---|---|"]
    for name, drivers in summary["scenarios"].items():
        for driver, m in drivers.items():
            lines.append(
                f"| {name} | {driver} | {m['success_rate']:.2f} | {m['route_completion']:.3f} | "
                f"{m['collisions_per_100km']:.0f} | {m['mean_speed_mps']:.1f} |"
            )
    lines += ["", "## Targets", "", "| scenario | " + " | ".join(next(iter(summary["targets"].values()))) + " |"]
    lines += ["|---" * (1 + len(next(iter(summary["targets"].values())))) + "|"]
    for name, checks in summary["targets"].items():
        lines.append(f"| {name} | " + " | ".join("yes" if v else "no" for v in checks.values()) + " |")
    lines += ["", *dagger_lines(summary["dagger"])]
    lines += ["![training loss](training_loss.png)", ""]
    out_md.write_text("\n".join(lines))


def with_overrides(config: GeneralistConfig, **dagger_fields) -> GeneralistConfig:
    """The config with DAgger fields replaced (the tests shrink every stage)."""
    return replace(config, dagger=replace(config.dagger, **dagger_fields))
