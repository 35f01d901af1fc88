"""Terminal tables a person reads: what a model costs, what training it on a fleet would cost."""

from __future__ import annotations

from rich.table import Table


def model_info_table(info: dict, title: str) -> Table:
    """`model/info.py`'s figures as one table."""
    table = Table("quantity", "value", title=title)
    table.add_row("parameters", f"{info['parameters']:,}")
    for part, n in info["parameters_by_part"].items():
        table.add_row(f"  {part}", f"{n:,}")
    table.add_row("FLOPs per sample (forward)", f"{info['flops_per_sample'] / 1e6:.1f} M")
    for part, n in info["flops_per_sample_by_part"].items():
        table.add_row(f"  {part}", f"{n / 1e6:.2f} M")
    for camera, n in info["flops_per_sample_by_camera"].items():
        table.add_row(f"  camera {camera}", f"{n / 1e6:.2f} M")
    memory = info["activation_memory_batch1"]
    table.add_row("activations saved for backward (batch 1)", f"{memory['saved_for_backward_bytes'] / 2**20:.2f} MiB")
    table.add_row("inference activations (batch 1)", f"{memory['inference_outputs_bytes'] / 2**20:.2f} MiB")
    cams = ", ".join(f"{c['name']} {c['width_px']}x{c['height_px']}" for c in info["cameras"])
    table.add_row("cameras", cams)
    table.add_row("context", f"{info['context_offsets_frames']} frames ({info['context_s']:.1f} s)")
    return table


def plan_tables(result: dict) -> list[Table]:
    """`train/plan.py`'s assumptions (value and source) and results."""
    cfg = result["config"]
    table = Table("assumption", "value", "source", title="compute plan: assumptions")
    for key, value in result["config"].items():
        table.add_row(
            key, f"{value:,}" if isinstance(value, (int, float)) else str(value), result["sources"].get(key, "")
        )
    out = Table("result", "value", title=f"compute plan for {result['model']}")
    out.add_row("FLOPs per sample (measured, scaled to the rig)", f"{result['flops_per_sample'] / 1e9:.3f} GFLOP")
    out.add_row("hours of driving / samples", f"{result['hours_of_driving']:,.0f} h / {result['samples']:.3g}")
    out.add_row("training FLOPs", f"{result['train_flops']:.3g}")
    out.add_row("gpu_hours", f"{result['gpu_hours']:,.1f}")
    out.add_row("training_days", f"{result['training_days']:.3g} on {cfg['gpus']:,} GPUs")
    out.add_row("energy", f"{result['energy_mwh']:,.2f} MWh")
    out.add_row("cost_usd", f"${result['cost_usd']:,.0f} (cluster price ${result['cluster_price_usd']:,.0f})")
    out.add_row("car_tops_needed", f"{result['car_tops_needed']:.4f} TOPS at {cfg['fps']:g} Hz")
    out.add_row(
        "car headroom",
        f"{result['car_headroom']:,.0f}x of {cfg['car_tops']:g} TOPS at {cfg['car_utilisation']:.0%}",
    )
    return [table, out]


LEADERBOARD_HEADER = (
    "policy",
    "scenario",
    "success (95 % CI)",
    "driving score",
    "route completion",
    "collisions/100 km",
    "off-road/100 km",
    "mean speed m/s",
    "p95 |jerk| m/s3",
    "p95 |lat. acc.| m/s2",
    "failed seeds",
)
OPEN_LOOP_HEADER = (
    "policy",
    "L2 1 s m",
    "L2 2 s m",
    "L2 3 s m",
    "best of K 3 s m",
    "picks best",
    "plan overlaps",
    "yield recall",
    "closed-loop success",
    "driving score",
)


def _fmt(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def leaderboard_rows(bench: dict) -> list[list[str]]:
    """One row per policy x scenario of a bench.json (`evaluate/bench.py`), as LEADERBOARD_HEADER names them."""
    rows = []
    for key, per in bench["results"].items():
        for name, m in per.items():
            lo, hi = m["success_ci95"]
            failed = m["failed_seeds"]
            rows.append(
                [
                    key,
                    name,
                    f"{m['success_rate']:.2f} ({lo:.2f}-{hi:.2f})",
                    f"{m['driving_score']:.3f}",
                    f"{m['route_completion']:.3f}",
                    f"{m['collisions_per_100km']:.0f}",
                    f"{m['offroads_per_100km']:.0f}",
                    f"{m['mean_speed_mps']:.1f}",
                    _fmt(m["p95_abs_jerk_mps3"], 1),
                    _fmt(m["p95_abs_lateral_accel_mps2"], 2),
                    ", ".join(map(str, failed[:8])) + (" ..." if len(failed) > 8 else ""),
                ]
            )
    return rows


def open_loop_rows(bench: dict) -> list[list[str]]:
    """Open-loop scores beside the closed-loop means over the scenarios, as OPEN_LOOP_HEADER names them."""
    rows = []
    for key, m in bench.get("open_loop", {}).items():
        per = list(bench["results"][key].values())
        rows.append(
            [key, *(f"{m[f'l2_{h}s_m']:.2f}" for h in (1, 2, 3))]
            + [_fmt(m.get("best_l2_3s_m"), 2), _fmt(m.get("confidence_picks_best_rate"), 2)]
            + [f"{m['plan_overlap_rate']:.3f}", _fmt(m.get("yield_recall"), 2)]
            + [f"{sum(r['success_rate'] for r in per) / len(per):.2f}"]
            + [f"{sum(r['driving_score'] for r in per) / len(per):.3f}"]
        )
    return rows
