"""Contact sheets: what each scenario looks like through the rig, a few moments of an expert drive."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from e2edrive.core.camera import CameraConfig
from e2edrive.core.files import atomic_path
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World

MOMENTS_S = (0.0, 2.0, 4.0, 6.0)
SCALE = 2


def contact_sheet(
    scenario: str, out_png: Path, seed: int = 0, cameras: tuple[CameraConfig, ...] = (CameraConfig(),)
) -> Path:
    """One row per moment, one column per camera, upscaled x2; written to out_png."""
    from PIL import Image

    world = World(get_scenario(scenario), cameras=cameras)
    expert = ExpertPolicy()
    obs = world.reset(seed)
    rows = []
    for moment in MOMENTS_S:
        while world.time_s < moment and not world.done:
            obs = world.step(expert.act(obs))
        rows.append(np.concatenate([obs.frames[c.name] for c in cameras], axis=1))
    world.close()
    sheet = np.concatenate(rows, axis=0)
    img = Image.fromarray(sheet).resize((sheet.shape[1] * SCALE, sheet.shape[0] * SCALE), Image.NEAREST)
    out_png.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_png) as tmp:
        img.save(tmp)
    return out_png
