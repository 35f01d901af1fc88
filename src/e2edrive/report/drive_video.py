"""Record one closed-loop drive of a learned policy with its predicted path overlaid."""

from __future__ import annotations

from pathlib import Path

from e2edrive.core.camera import CameraConfig
from e2edrive.deploy.runtime.overlay import draw_path
from e2edrive.report.plots import save_gif
from e2edrive.sim.rollout import run_episode
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def record_drive_gif(
    policy, scenario: str, seed: int, out_gif: Path, overrides: dict | None = None, max_steps: int = 200
) -> dict:
    """Drive one episode (at most max_steps) and save its frames, path drawn, as a GIF."""
    camera = CameraConfig()
    world = World(get_scenario(scenario), overrides, cameras=(camera,))
    frames = []

    class Overlay:
        privileged = False

        def reset(self, seed):
            policy.reset(seed)

        def act(self, obs):
            action = policy.act(obs)
            trajectory, _ = policy.layout.split(policy.last_plan)
            frames.append(draw_path(obs.frames[camera.name], trajectory, camera))
            return action

    result = run_episode(world, Overlay(), seed, max_steps=max_steps)
    world.close()
    save_gif(frames, out_gif)
    return result.row()
