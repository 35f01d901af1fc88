"""The report a person reads: one static HTML page (index.html with its images and videos beside it; no server,
nothing fetched from the network) from a benchmark directory (`bench-drive`'s bench.json) — and, when the
directory is a demo's, its training curves and DAgger rounds.

Sections: leaderboard (one row per policy x scenario), success and driving-score bars with 95 % intervals per
scenario, training curves, DAgger rounds, human-likeness (when the directory has it), the best and worst drive
of every policy as playable video with the planned path and a bird's-eye inset, and the environment, versions
and config used. The page checks its own media when opened and says in its last line whether every image and
video loaded (a browser test reads that line).
"""

from __future__ import annotations

import html
import json
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

from e2edrive.core.errors import UserError
from e2edrive.core.files import temp_path
from e2edrive.report.tables import LEADERBOARD_HEADER, OPEN_LOOP_HEADER, leaderboard_rows, open_loop_rows

PACKAGES = ("e2edrive", "numpy", "torch", "onnxruntime", "highway-env", "panda3d", "gymnasium", "av", "pyarrow")
MEDIA_CHECK_ID = "media-check"

_CHECK_SCRIPT = """
<script>
(function () {
  const out = document.getElementById("MEDIA_CHECK_ID");
  const imgs = Array.from(document.images), vids = Array.from(document.querySelectorAll("video"));
  const state = {images: imgs.length, images_ok: 0, videos: vids.length, videos_ok: 0, failed: []};
  let pending = imgs.length + vids.length;
  function done(ok, el) {
    if (ok) { el.tagName === "IMG" ? state.images_ok++ : state.videos_ok++; }
    else { state.failed.push(el.getAttribute("src")); }
    if (--pending === 0) out.textContent = JSON.stringify(state);
  }
  if (pending === 0) out.textContent = JSON.stringify(state);
  imgs.forEach(img => {
    if (img.complete) done(img.naturalWidth > 0, img);
    else { img.onload = () => done(img.naturalWidth > 0, img); img.onerror = () => done(false, img); }
  });
  vids.forEach(v => {
    if (v.readyState >= 2) done(v.videoWidth > 0, v);
    else { v.onloadeddata = () => done(v.videoWidth > 0, v); v.onerror = () => done(false, v); v.load(); }
  });
})();
</script>
""".replace("MEDIA_CHECK_ID", MEDIA_CHECK_ID)


def _sources(source: Path) -> dict:
    """What the directory holds; UserError (nothing written) when it holds no results."""
    source = Path(source)
    if not source.is_dir():
        raise UserError(f"{source}: no such directory (expected a bench-drive or demo output directory)")
    bench = source / "bench.json" if (source / "bench.json").is_file() else source / "bench" / "bench.json"
    if not bench.is_file():
        raise UserError(
            f"{source}: no bench.json here or in bench/: expected the output of `e2edrive bench-drive --out DIR` "
            "or `e2edrive demo --scenario all --out DIR`"
        )
    try:
        data = json.loads(bench.read_text())
        data["results"]  # noqa: B018 - the key a report needs
    except (json.JSONDecodeError, KeyError) as exc:
        raise UserError(f"{bench}: not a bench-drive result ({type(exc).__name__})") from exc
    found = {"bench": data, "bench_dir": bench.parent}
    for name, path in (
        ("history", source / "run" / "history.json"),
        ("dagger", source / "dagger_summary.json"),
        ("summary", source / "summary.json"),
    ):
        if path.is_file():
            found[name] = json.loads(path.read_text())
    if (source / "human_likeness.png").is_file():
        found["human_likeness"] = source / "human_likeness.png"
    return found


def _bars(bench: dict, out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from e2edrive.core.files import atomic_path

    results, scenarios = bench["results"], bench["scenarios"]
    policies = list(results)
    fig, axes = plt.subplots(2, 1, figsize=(max(6, 1.4 * len(scenarios) * max(1, len(policies)) / 2), 6), dpi=100)
    width = 0.8 / max(1, len(policies))
    x = np.arange(len(scenarios))
    for i, key in enumerate(policies):
        rates = [results[key][s]["success_rate"] for s in scenarios]
        lo = [r - results[key][s]["success_ci95"][0] for r, s in zip(rates, scenarios)]
        hi = [results[key][s]["success_ci95"][1] - r for r, s in zip(rates, scenarios)]
        axes[0].bar(x + i * width, rates, width, yerr=[lo, hi], capsize=2, label=key)
        axes[1].bar(x + i * width, [results[key][s]["driving_score"] for s in scenarios], width, label=key)
    for ax, title in zip(axes, ("success rate (95 % Wilson interval)", "driving score")):
        ax.set_xticks(x + 0.4 - width / 2, scenarios)
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7, ncol=min(4, len(policies)))
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def _dagger_plot(rows: list[dict], out_png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from e2edrive.core.files import atomic_path

    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    for name in dict.fromkeys(r["scenario"] for r in rows):
        mine = [r for r in rows if r["scenario"] == name]
        ax.plot([r["round"] for r in mine], [r["success_rate"] for r in mine], marker="o", label=name)
    ax.set_xlabel("DAgger round")
    ax.set_ylabel("success rate")
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(out_png) as tmp:
        fig.savefig(tmp)
    plt.close(fig)


def _table(header: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _environment() -> dict:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {"python": sys.version.split()[0], "platform": platform.platform(), **versions}


def _drives(found: dict, tmp: Path, workers: int) -> list[tuple[str, str, str]]:
    """Best and worst drive of every policy (by driving score, then seed), driven again, recorded and rendered:
    (policy key, 'best'/'worst' + scenario and seed, relative video path)."""
    from e2edrive.evaluate.bench import EPISODES, driving_score, read_episodes
    from e2edrive.evaluate.failures import record_episodes
    from e2edrive.report.replay import render_replay
    from e2edrive.sim.scenarios import get_scenario

    bench, bench_dir = found["bench"], found["bench_dir"]
    rows = read_episodes(bench_dir / EPISODES)
    items = []
    for key, spec in bench["policies"].items():
        mine = [r for r in rows if r["policy"] == spec and r["scenario"] in bench["scenarios"]]
        if not mine:
            continue
        scored = sorted(
            mine, key=lambda r: (driving_score(r, get_scenario(r["scenario"]).arrived is not None), -r["seed"])
        )
        for label, r in (("best", scored[-1]), ("worst", scored[0])):
            items.append((label, (spec, key, r["scenario"], r["seed"], r)))
    recorded = record_episodes([i for _, i in items], tmp / "clips", bench["config"]["overrides"], workers)
    clips = {(f["policy"], f["scenario"], f["seed"]): f["clip"] for f in recorded}
    (tmp / "videos").mkdir(exist_ok=True)
    out = []
    for label, (_, key, scenario, seed, _) in items:
        name = f"{key.replace('#', '_')}_{label}.mp4"
        render_replay(Path(clips[key, scenario, seed]), tmp / "videos" / name)
        out.append((key, f"{label}: {scenario}, seed {seed}", f"videos/{name}"))
    shutil.rmtree(tmp / "clips")
    return out


def write_html_report(source: Path, out: Path, workers: int = 2, drives: bool = True) -> Path:
    """Write out/index.html (and its media) from a bench-drive or demo directory; returns the page's path. The
    page is built in a hidden sibling directory and renamed into place: nothing half-written is left."""
    from e2edrive.report.plots import plot_loss

    found = _sources(source)
    out = Path(out)
    tmp = temp_path(out)
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        bench = found["bench"]
        parts = ["<h1>e2edrive driving report</h1>"]
        seeds = bench["seeds"]
        parts.append(
            f"<p>{len(bench['policies'])} policies x {len(bench['scenarios'])} scenarios, the same held-out seeds "
            f"{seeds[0]}..{seeds[-1]} ({len(seeds)} per scenario). Driving score = route completion x the product of "
            f"infraction penalties {html.escape(json.dumps(bench['penalties']))}.</p>"
        )
        table = _table(list(LEADERBOARD_HEADER), leaderboard_rows(bench))
        parts += ["<h2>Leaderboard</h2>", table.replace("<table>", '<table id="leaderboard">', 1)]
        if "open_loop" in bench:
            parts += [
                "<h2>Open loop beside closed loop</h2>",
                f"<p>Open loop on {next(iter(bench['open_loop'].values()))['clips']} held-out expert clips; closed "
                "loop: mean over the scenarios. A blind baseline (ego status only) can score well open loop and "
                "still fail closed loop.</p>",
                _table(list(OPEN_LOOP_HEADER), open_loop_rows(bench)),
            ]
        _bars(bench, tmp / "bars.png")
        parts += ["<h2>Per scenario</h2>", '<img src="bars.png" alt="success and driving score per scenario">']
        if "history" in found:
            plot_loss(found["history"], tmp / "training_loss.png")
            parts += ["<h2>Training</h2>", '<img src="training_loss.png" alt="training loss">']
        if "dagger" in found:
            d = found["dagger"]
            _dagger_plot(d["rows"], tmp / "dagger.png")
            dag_rows = [
                [
                    r["round"],
                    f"{r['beta']:.2f}",
                    r["scenario"],
                    f"{r['success_rate']:.2f}",
                    f"{r['route_completion']:.3f}",
                ]
                + [f"{r['collisions_per_100km']:.0f}", f"{r['mean_speed_mps']:.1f}"]
                for r in d["rows"]
            ]
            parts += [
                "<h2>DAgger rounds</h2>",
                '<img src="dagger.png" alt="success per DAgger round">',
                _table(["round", "beta", "scenario", "success", "route", "coll/100 km", "m/s"], dag_rows),
                f"<p>Stable: {d['stable']} ({html.escape(d['band'])}).</p>",
            ]
        if "human_likeness" in found:
            shutil.copy(found["human_likeness"], tmp / "human_likeness.png")
            parts += ["<h2>Human-likeness</h2>", '<img src="human_likeness.png" alt="human-likeness">']
        if drives:
            parts.append("<h2>Best and worst drives</h2>")
            parts.append(
                "<p>Planned path magenta (expert's plan green where recorded); inset: bird's-eye, heading up.</p>"
            )
            for key, label, video in _drives(found, tmp, workers):
                parts.append(
                    f"<figure><video src='{video}' controls muted loop preload='auto' width='480'></video>"
                    f"<figcaption>{html.escape(key)} — {html.escape(label)}</figcaption></figure>"
                )
        env = _environment()
        parts += [
            "<h2>Environment and config</h2>",
            _table(["what", "value"], [[k, v] for k, v in env.items()]),
            f"<pre>{html.escape(json.dumps(bench['config'], indent=2))}</pre>",
            f'<p>Media check: <span id="{MEDIA_CHECK_ID}">not run (open the page in a browser)</span></p>',
        ]
        style = (
            "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
            "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
            "th{background:#eee}img{max-width:100%}figure{display:inline-block;margin:0.5em}"
        )
        page = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>e2edrive report</title>"
            f"<style>{style}</style></head><body>{''.join(parts)}{_CHECK_SCRIPT}</body></html>"
        )
        (tmp / "index.html").write_text(page)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out / "index.html"
