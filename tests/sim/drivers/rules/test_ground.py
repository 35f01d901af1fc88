import math

import numpy as np
import pytest

from e2edrive.sim.drivers.rules.ground import GroundProjector
from e2edrive.sim.drivers.rules.segment import segment
from e2edrive.sim.rig import FRONT
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World


def test_bottom_centre_pixel_is_just_ahead_of_the_bumper_and_sky_has_no_ground_point():
    g = GroundProjector(FRONT)
    x, y = g.x_m[-1, FRONT.width_px // 2], g.y_m[-1, FRONT.width_px // 2]
    # bottom row: 1.4 m high, ray 8° + half the vertical FOV below the axis, 1 m ahead of the car centre
    half_vfov = math.radians(FRONT.vfov_deg) / 2
    expected = FRONT.mount_x_m + FRONT.mount_z_m / math.tan(math.radians(-FRONT.pitch_deg) + half_vfov * 0.99)
    assert x == pytest.approx(expected, rel=0.05)
    assert abs(y) < 0.05
    assert np.isnan(g.x_m[: g.horizon_row - 1]).all()
    assert g.horizon_row == math.ceil(FRONT.intrinsics()["cy"] - FRONT.intrinsics()["fy"] * math.tan(math.radians(8)))


def test_left_of_the_image_is_left_of_the_car():
    g = GroundProjector(FRONT)
    assert g.y_m[-1, 0] > 0 > g.y_m[-1, -1]


def test_painted_lines_of_the_ego_lane_land_two_metres_either_side():
    world = World(get_scenario("highway"), {"vehicles_count": 0, "duration": 2.0})
    frame = world.reset(3).frames["front"]
    world.close()
    g = GroundProjector(FRONT)
    pts = g.project(segment(frame, g.horizon_row).paint)
    near = pts[(pts[:, 0] > 3) & (pts[:, 0] < 15) & (np.abs(pts[:, 1]) < 3)]
    assert len(near) > 20
    # highway-env lanes are 4 m wide and the ego starts on its lane's centre line
    assert np.abs(np.abs(near[:, 1]) - 2.0).max() < 0.25
    assert (near[:, 1] > 0).any() and (near[:, 1] < 0).any()
