import numpy as np

from e2edrive.core.camera import CameraConfig
from e2edrive.deploy.runtime.overlay import draw_path
from e2edrive.report.markdown import write_report
from e2edrive.report.plots import plot_loss, save_gif


def test_plots_gif_and_markdown(tmp_path):
    plot_loss(
        [{"step": i, "loss": 1 / i, "traj": 1 / i, "steer": 1 / i, "accel": 1 / i} for i in range(1, 5)],
        tmp_path / "l.png",
    )
    frame = np.zeros((96, 160, 3), np.uint8)
    drawn = draw_path(frame, np.array([[5.0 * k, 0.2 * k] for k in range(1, 7)]), CameraConfig())
    assert drawn.shape == frame.shape and drawn.any()
    save_gif([drawn, frame], tmp_path / "d.gif")
    metrics = {"success_rate": 1.0, "collision_rate": 0.0, "offroad_rate": 0.0, "collisions_per_100km": 0.0}
    metrics |= {"mean_speed_mps": 20.0, "distance_m": 600.0}
    summary = {
        "scenario": "highway",
        "eval_episodes": 2,
        "eval_seeds": [10, 11],
        "train_seeds": [0, 1],
        "drivers": {"expert": metrics, "learned_torch": metrics},
        "ratios": {"success": 1.0, "distance": 1.0},
        "targets_met": True,
        "stage_wall_s": {"collect": 1.0},
    }
    write_report(summary, tmp_path / "report.md", "l.png", "d.gif")
    text = (tmp_path / "report.md").read_text()
    assert "| success rate | 100.0% | 100.0% |" in text and "PASS" in text
    assert (tmp_path / "l.png").stat().st_size > 0 and (tmp_path / "d.gif").stat().st_size > 0


def test_contact_sheet_has_a_column_per_camera_and_a_row_per_moment(tmp_path):
    from PIL import Image

    from e2edrive.report.contact_sheet import MOMENTS_S, SCALE, contact_sheet
    from e2edrive.sim.rig import FULL_RIG

    path = contact_sheet("roundabout", tmp_path / "sheet.png", cameras=FULL_RIG)
    width, height = Image.open(path).size
    assert width == SCALE * sum(c.width_px for c in FULL_RIG)
    assert height == SCALE * len(MOMENTS_S) * FULL_RIG[0].height_px
