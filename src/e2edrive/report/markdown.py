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
        *_dagger_lines(summary.get("dagger")),
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


def _dagger_lines(dagger: dict | None) -> list[str]:
    """Each round's evaluation on the held-out seeds (round 0: behaviour cloning) and which one was kept."""
    if not dagger:
        return []
    lines = ["## DAgger rounds (learned driver, torch)", "", "| round | success | route completion | mean speed m/s |"]
    lines.append("|---|---|---|---|")
    for row in dagger["rows"]:
        lines.append(
            f"| {row['round']} | {row['success_rate']:.2f} | {row['route_completion']:.3f} | "
            f"{row['mean_speed_mps']:.1f} |"
        )
    lines += [
        "",
        f"Kept: round {dagger['final_round']}; stable across rounds: {dagger['stable']} ({dagger['band']}).",
        "",
    ]
    return lines
