"""`e2edrive data ...`: the data engine's commands."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from e2edrive.cli import console, data_app
from e2edrive.core.errors import UserError
from e2edrive.core.files import atomic_write_json
from e2edrive.data.build import BuildConfig


@data_app.command("check")
def data_check_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    move: bool = typer.Option(True, help="Move bad clips to ROOT/quarantine/ (--no-move only reports)."),
) -> None:
    """Validate every clip; bad ones go to ROOT/quarantine/<clip>/REASON.txt."""
    from e2edrive.data.check import check_dir

    report = check_dir(root, move=move)
    for name, reason in report["quarantined"].items():
        console.print(f"[yellow]{name}[/]: {reason}")
    console.print(f"{len(report['ok'])} clips ok, {len(report['quarantined'])} quarantined")


@data_app.command("index")
def data_index_cmd(root: Path = typer.Argument(..., help="Directory of clips.")) -> None:
    """Build ROOT/catalog/{clips,frames,events}.parquet (events from the triggers)."""
    from e2edrive.data.catalog import build_index

    counts = build_index(root)
    console.print(f"indexed {counts['clips']} clips, {counts['events']} events → {root / 'catalog'}")


@data_app.command("query")
def data_query_cmd(
    root: Path = typer.Argument(..., help="Directory of clips with a catalog."),
    sql: str = typer.Argument(..., help="SQL over the views clips, frames, events."),
) -> None:
    """Run DuckDB SQL over the catalog and print the result."""
    from e2edrive.data.catalog import query

    result = query(root, sql)
    table = Table(*result.column_names)
    for row in result.to_pylist():
        table.add_row(*(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()))
    console.print(table)


@data_app.command("build")
def data_build_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    out: Path = typer.Option(..., help="Where versioned datasets are written (OUT/<name>-<version>/)."),
    name: str = typer.Option(BuildConfig.name, help="Dataset name."),
    mine: list[str] | None = typer.Option(None, help="Keep only windows around these triggers (repeatable)."),
    window_s: float = typer.Option(BuildConfig.window_s, help="Half-width of a mined window, seconds."),
    balance: bool = typer.Option(
        BuildConfig.balance, help="Weight frames by speed x curvature x command bin (--no-balance: uniform)."
    ),
    val_fraction: float = typer.Option(BuildConfig.val_fraction, help="Share of episodes for validation."),
    test_fraction: float = typer.Option(BuildConfig.test_fraction, help="Share of episodes for test."),
) -> None:
    """Build a versioned dataset: manifest with content hashes, split by episode, mining, balance."""
    from e2edrive.data.build import build_dataset, read_manifest

    config = BuildConfig(name, val_fraction, test_fraction, tuple(mine or ()), window_s, balance)
    path = build_dataset(root, out, config)
    manifest, _ = read_manifest(path)
    console.print(f"wrote {path} (version {manifest['version']}): {json.dumps(manifest['counts'])}")


@data_app.command("human-likeness")
def data_human_likeness_cmd(
    driver: list[str] = typer.Option(
        ..., help="LABEL=CLIP_DIR, repeatable (e.g. human=real expert=clips learned=drives)."
    ),
    out: Path = typer.Option(Path("human_likeness"), help="Output directory (PNG + JSON)."),
) -> None:
    """Compare speed, acceleration, jerk and lateral acceleration distributions across drivers."""
    from e2edrive.report.human_likeness import human_likeness

    drivers = {}
    for item in driver:
        label, sep, path = item.partition("=")
        if not sep:
            raise UserError(f"--driver expects LABEL=DIR, got {item!r}")
        drivers[label] = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    stats = human_likeness(drivers, out / "human_likeness.png")
    atomic_write_json(out / "human_likeness.json", stats)
    table = Table("driver", "quantity", "mean", "std", "p5", "p95", "max |x|")
    for label, per in stats.items():
        for key, st in per.items():
            if st:
                table.add_row(label, key, *(f"{st[k]:.2f}" for k in ("mean", "std", "p5", "p95", "max_abs")))
    console.print(table)


@data_app.command("ingest")
def data_ingest_cmd(
    source: Path = typer.Argument(..., help="A dashcam video file, or a comma2k19 segment directory."),
    out: Path = typer.Option(..., help="Clip directory to add the real log to."),
) -> None:
    """Turn a real log into a clip (missing streams declared in meta.json, never faked)."""
    from e2edrive.data.ingest import ingest_comma2k19, ingest_video

    if not source.exists():
        raise UserError(f"{source}: no such video file or comma2k19 segment directory")
    path = ingest_comma2k19(source, out) if source.is_dir() else ingest_video(source, out)
    console.print(f"wrote {path}")


@data_app.command("export-lerobot")
def data_export_lerobot_cmd(
    root: Path = typer.Argument(..., help="Directory of clips."),
    out: Path = typer.Argument(..., help="Output directory of the LeRobot v3.0 dataset."),
) -> None:
    """Write the clips as a LeRobot v3.0 dataset (parquet + mp4 + meta/info.json)."""
    from e2edrive.data.lerobot import export_lerobot

    info = export_lerobot(root, out)
    console.print(f"wrote {info['total_episodes']} episodes, {info['total_frames']} frames → {out}")
