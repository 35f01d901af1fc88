import numpy as np

from e2edrive.core.camera import CameraConfig, project_ground_points


def test_path_projects_below_the_horizon_and_centred():
    cam = CameraConfig()
    pix = project_ground_points(np.array([[10.0, 0.0], [30.0, 0.0], [0.5, 0.0]]), cam)
    assert len(pix) == 2  # the point behind the camera is dropped
    assert np.allclose(pix[:, 0], cam.width_px / 2)
    assert pix[0, 1] > pix[1, 1] > 0  # nearer points lower in the image
