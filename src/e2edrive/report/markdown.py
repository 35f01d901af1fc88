"""The demo's report.md: a metrics table, the DAgger rounds, the loss plot and the drive GIF."""

from __future__ import annotations

from pathlib import Path

from e2edrive.core.files import atomic_write_text

ROWS = (
    ("success_rate", "success rate", "{:.1%}"),
    ("collision_rate", "collision rate", "{:.1%}"),
    ("offroad_rate", "off-road rate", "{:.1%}"),
    ("collisions_per_100km", "collisions / 100 km", "{:.1f}"),
    ("mean_speed_mps", "mean speed (m/s)", "{:.1f}"),
    ("distance_m", "mean distance (m)", "{:.0f}"),
)


def write_report(summary: dict, out_md: Path, loss_png: str, drive_gif: str) -> None:
    drivers = summary["drivers"]
    names = list(drivers)
    lines = [
        "# e2edrive demo",
        "",
        f"Scenario `{summary['scenario']}`, {summary['eval_episodes']} held-out episodes "
        f"(seeds {summary['eval_seeds'][0]}..{summary['eval_seeds'][-1]}; training used seeds "
        f"{summary['train_seeds'][0]}..{summary['train_seeds'][-1]}).",
        "",
        "| metric | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key, label, fmt in ROWS:
        lines.append(f"| {label} | " + " | ".join(fmt.format(drivers[n][key]) for n in names) + " |")
    ratios = summary["ratios"]
    lines += [
        "",
        f"Learned (torch) vs expert: success ×{ratios['success']:.2f}, distance ×{ratios['distance']:.2f} "
        f"(targets ≥ 0.8 and ≥ 0.75): **{'PASS' if summary['targets_met'] else 'FAIL'}**.",
        "",
        *dagger_lines(summary.get("dagger")),
        "## Stage wall times",
        "",
        "| stage | seconds |",
        "|---|---|",
        *[f"| {k} | {v:.1f} |" for k, v in summary["stage_wall_s"].items()],
        "",
        "## Training loss",
        "",
        f"![training loss]({loss_png})",
        "",
        "## One learned drive (predicted path in magenta)",
        "",
        f"![learned drive]({drive_gif})",
        "",
    ]
    atomic_write_text(out_md, "\n".join(lines))


def dagger_lines(dagger: dict | None) -> list[str]:
    """The DAgger rounds of a demo's summary (`dagger.rows`, round 0: behaviour cloning), each round's evaluation on
    the held-out seeds, the stability check and, where the summary has it, the round kept."""
    if not dagger:
        return []
    lines = ["## DAgger rounds (learned driver, torch)", ""]
    lines += ["| round | beta | scenario | success | route completion | collisions/100 km | mean speed m/s |"]
    lines += ["|---|---|---|---|---|---|---|"]
    for row in dagger["rows"]:
        lines.append(
            f"| {row['round']} | {row['beta']:.2f} | {row['scenario']} | {row['success_rate']:.2f} | "
            f"{row['route_completion']:.3f} | {row['collisions_per_100km']:.0f} | {row['mean_speed_mps']:.1f} |"
        )
    kept = f"Kept: round {dagger['final_round']}. " if "final_round" in dagger else ""
    return lines + ["", f"{kept}Stable across rounds: {dagger['stable']} (band: {dagger['band']}).", ""]
