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
