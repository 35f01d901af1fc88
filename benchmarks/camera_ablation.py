"""Which cameras: the same data, the same training budget, different camera inputs, scored closed loop.

Collects expert episodes once with every camera any arm reads, trains one network per arm for the same
minutes on the same clips (balanced over scenario x command), and drives each on the same held-out seeds.
Prints one row per arm and scenario, and writes OUT/ablation.json.

    python benchmarks/camera_ablation.py --out /tmp/ablation [--scenarios roundabout,intersection,highway]
        [--arms front front_wide front,left,right] [--episodes 90] [--minutes 6] [--eval-episodes 20]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from e2edrive.evaluate.closed_loop import EvalConfig, evaluate
from e2edrive.fleet.collect import CollectConfig, collect
from e2edrive.model.config import CameraInput, ModelConfig
from e2edrive.sim.rig import rig_cameras
from e2edrive.train.config import TrainConfig
from e2edrive.train.loop import train


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scenarios", default="roundabout,intersection,highway")
    ap.add_argument("--arms", nargs="+", default=["front", "front_wide"])
    ap.add_argument("--episodes", type=int, default=90)
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--eval-episodes", type=int, default=20)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    arms = {arm: tuple(arm.split(",")) for arm in args.arms}
    every = tuple(dict.fromkeys(c for cams in arms.values() for c in cams))
    clips = args.out / "clips"
    t = time.perf_counter()
    collect(CollectConfig(args.scenarios, args.episodes, args.workers, 0, cameras=rig_cameras(every)), clips)
    collect_s = time.perf_counter() - t
    results = {"scenarios": args.scenarios, "episodes": args.episodes, "minutes": args.minutes, "arms": {}}
    for arm, cameras in arms.items():
        run = args.out / f"run_{arm.replace(',', '+')}"
        model = replace(ModelConfig(), cameras=tuple(CameraInput(c) for c in cameras))
        summary = train([clips], run, TrainConfig(minutes=args.minutes, balance=True, model=model))
        result = evaluate(EvalConfig(str(run), args.scenarios, args.eval_episodes, 100_000, args.workers))
        per = result.get("scenarios") or {args.scenarios: result}
        results["arms"][arm] = {
            "samples_per_s": summary["samples_per_s"],
            "samples_seen": summary["samples_seen"],
            "val_loss": summary["val"].get("loss"),
            "scenarios": {
                name: {k: m[k] for k in ("success_rate", "route_completion", "collisions_per_100km", "mean_speed_mps")}
                for name, m in per.items()
            },
        }
    results["collect_s"] = collect_s
    (args.out / "ablation.json").write_text(json.dumps(results, indent=2))
    print(f"{'arm':24s} {'scenario':14s} success route  coll/100km speed  (samples/s, samples seen)")
    for arm, r in results["arms"].items():
        for name, m in r["scenarios"].items():
            print(
                f"{arm:24s} {name:14s} {m['success_rate']:.2f}    {m['route_completion']:.3f} "
                f"{m['collisions_per_100km']:8.0f}   {m['mean_speed_mps']:.1f}  "
                f"({r['samples_per_s']:.0f}, {r['samples_seen']})"
            )


if __name__ == "__main__":
    main()
