"""`e2edrive demo` (the whole loop in one command) and `e2edrive dagger` (on-policy rounds)."""

from __future__ import annotations

from pathlib import Path

import typer

from e2edrive.cli import app, console
from e2edrive.dagger import DaggerConfig
from e2edrive.demo import DemoConfig
from e2edrive.model.config import ModelConfig


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("demo_out"), help="Output directory."),
    scenario: str = typer.Option(
        DemoConfig.scenario,
        help="'highway' (the quick loop), or 'all' / a comma list: one network for those scenarios, with DAgger.",
    ),
    episodes: int | None = typer.Option(None, help="Expert episodes to collect (default: the loop's own)."),
    minutes: float | None = typer.Option(None, help="Round 0's training minutes (default: the loop's own)."),
    rounds: int | None = typer.Option(
        None, help="DAgger rounds after behaviour cloning (default: the loop's own; 0: behaviour cloning alone)."
    ),
    eval_episodes: int | None = typer.Option(None, help="Held-out episodes per driver and scenario."),
    workers: int = typer.Option(DemoConfig.workers, help="Worker processes."),
    fusion: str = typer.Option(
        ModelConfig().fusion, help="Where the network's context frames meet: 'late' (after the CNN) or 'early'."
    ),
    deadline_minutes: float | None = typer.Option(
        None, help="Wall-clock bound; the DAgger rounds' training shrinks to fit it (default: the loop's own; 0: none)."
    ),
) -> None:
    """Run the whole loop: collect → train → DAgger → export → evaluate expert, rules and learned → report."""
    from dataclasses import replace

    from e2edrive.sim.scenarios import scenario_names

    if len(scenario_names(scenario)) > 1:
        from e2edrive.generalist import GeneralistConfig, leaderboard, run_generalist_demo, with_overrides

        config = GeneralistConfig()
        fields = {"scenario": scenario, "workers": workers, "model": replace(config.dagger.model, fusion=fusion)}
        fields |= {"expert_episodes": episodes} if episodes is not None else {}
        fields |= {"initial_train_minutes": minutes} if minutes is not None else {}
        fields |= {"rounds": rounds} if rounds is not None else {}
        fields |= {"eval_episodes": eval_episodes} if eval_episodes is not None else {}
        fields |= {"deadline_minutes": deadline_minutes or None} if deadline_minutes is not None else {}
        summary = run_generalist_demo(out, with_overrides(config, **fields), console)
        console.print(leaderboard(summary))
        met = [name for name, t in summary["targets"].items() if t["met"]]
        console.print(
            f"targets met in {len(met)}/{len(summary['targets'])} scenarios {met}; DAgger stable: "
            f"{summary['dagger']['stable']}; total {summary['total_wall_s'] / 60:.1f} min → {out / 'summary.json'}, "
            f"run {summary['run']}"
        )
        console.print(f"report: {summary['report']}")
        return
    from e2edrive.demo import run_demo

    config = DemoConfig(scenario=scenario, workers=workers, model=replace(DemoConfig().model, fusion=fusion))
    config = replace(config, collect_episodes=episodes) if episodes is not None else config
    config = replace(config, train_minutes=minutes) if minutes is not None else config
    config = replace(config, dagger_rounds=rounds) if rounds is not None else config
    config = replace(config, eval_episodes=eval_episodes) if eval_episodes is not None else config
    config = replace(config, deadline_minutes=deadline_minutes or None) if deadline_minutes is not None else config
    summary = run_demo(out, config, console)
    d = summary["drivers"]
    console.print(
        f"expert success {d['expert']['success_rate']:.2f}, learned {d['learned_torch']['success_rate']:.2f} "
        f"(onnx {d['learned_onnx']['success_rate']:.2f}); distance ratio {summary['ratios']['distance']:.2f}; "
        f"total {summary['total_wall_s'] / 60:.1f} min → {out / 'report.md'}"
    )
    console.print(f"report: {summary['report']}")


@app.command("dagger")
def dagger_cmd(
    out: Path = typer.Option(..., help="Run directory: rounds, rounds.jsonl, the final model in OUT/run."),
    scenario: str = typer.Option(DaggerConfig.scenario, help="Scenario name, a comma list, or 'all'."),
    rounds: int = typer.Option(DaggerConfig.rounds, help="On-policy rounds after the behaviour-cloned round 0."),
    episodes_per_round: int = typer.Option(DaggerConfig.episodes_per_round, help="Learner episodes per round."),
    data: Path | None = typer.Option(None, help="Expert clips (default: collect --expert-episodes into OUT)."),
    init: Path | None = typer.Option(None, help="Round 0's model, a run dir (default: train one on the data)."),
    expert_episodes: int = typer.Option(DaggerConfig.expert_episodes, help="Expert episodes when no --data."),
    beta: float = typer.Option(DaggerConfig.beta, help="Expert share of round 1's driving (per 1-s segment)."),
    beta_decay: float = typer.Option(DaggerConfig.beta_decay, help="beta is multiplied by this every round."),
    on_policy_share: float = typer.Option(DaggerConfig.on_policy_share, help="On-policy share of every batch."),
    focus_share: float = typer.Option(
        DaggerConfig.focus_share, help="Share of each round's episodes sent where its first episodes failed."
    ),
    minutes: float = typer.Option(DaggerConfig.train_minutes, help="Fine-tuning minutes per round."),
    initial_minutes: float = typer.Option(DaggerConfig.initial_train_minutes, help="Round 0's minutes (no --init)."),
    final_minutes: float | None = typer.Option(None, help="The last round's fine-tuning minutes (default: --minutes)."),
    eval_episodes: int = typer.Option(DaggerConfig.eval_episodes, help="Held-out episodes per scenario and round."),
    eval_seed: int = typer.Option(DaggerConfig.eval_seed, help="First held-out seed (the same every round)."),
    workers: int = typer.Option(DaggerConfig.workers, help="Worker processes."),
    deadline_minutes: float | None = typer.Option(
        None, help="Wall-clock bound: the training budgets shrink so that the driving ahead fits."
    ),
) -> None:
    """DAgger: the learner drives (mixed with the expert by beta), the expert labels, the data pools, the model
    fine-tunes; one JSON row per scenario and round on the same held-out seeds (OUT/rounds.jsonl)."""
    from rich.table import Table

    from e2edrive.dagger import ROWS, run_dagger

    config = DaggerConfig(
        scenario=scenario,
        rounds=rounds,
        episodes_per_round=episodes_per_round,
        beta=beta,
        beta_decay=beta_decay,
        on_policy_share=on_policy_share,
        focus_share=focus_share,
        train_minutes=minutes,
        final_train_minutes=final_minutes,
        expert_episodes=expert_episodes,
        initial_train_minutes=initial_minutes,
        eval_episodes=eval_episodes,
        eval_seed=eval_seed,
        workers=workers,
        deadline_minutes=deadline_minutes,
    )
    summary = run_dagger(out, config, data, init, console)
    table = Table("round", "beta", "scenario", "success", "route", "coll/100km", "speed m/s", title="DAgger rounds")
    for r in summary["rows"]:
        table.add_row(
            str(r["round"]),
            f"{r['beta']:.2f}",
            r["scenario"],
            f"{r['success_rate']:.2f}",
            f"{r['route_completion']:.3f}",
            f"{r['collisions_per_100km']:.0f}",
            f"{r['mean_speed_mps']:.1f}",
        )
    console.print(table)
    console.print(f"stable: {summary['stable']} ({summary['band']}); rows in {out / ROWS}")
    console.print(f"model: {summary['final_run']}")
