import numpy as np
import pytest

from e2edrive.sim.camera import ROAD_RGB, CameraConfig
from e2edrive.sim.scenarios import get_scenario
from e2edrive.sim.world import World
from tests.conftest import SHORT


def test_intrinsics_match_fov():
    cam = CameraConfig(width_px=160, height_px=96, hfov_deg=90.0)
    k = cam.intrinsics()
    assert k["fx"] == pytest.approx(80.0)
    assert k["cx"] == 80 and k["cy"] == 48
    assert cam.vfov_deg < cam.hfov_deg


def test_bad_camera_config_names_the_value():
    with pytest.raises(ValueError, match="hfov_deg=200"):
        CameraConfig(hfov_deg=200)


def test_same_seed_same_frames_and_different_seed_differs():
    world = World(get_scenario("highway"), SHORT)
    a = [world.reset(3).frames["front"]] + [world.step(_straight()).frames["front"] for _ in range(5)]
    b = [world.reset(3).frames["front"]] + [world.step(_straight()).frames["front"] for _ in range(5)]
    c = world.reset(4).frames["front"]
    world.close()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert a[0].shape == (96, 160, 3) and a[0].dtype == np.uint8
    assert not np.array_equal(a[0], c)


def test_road_below_horizon_and_car_ahead_is_visible():
    world = World(get_scenario("highway"), SHORT)
    world.reset(0)
    ego = world.ego
    from highway_env.vehicle.kinematics import Vehicle

    lead = Vehicle(world.env.unwrapped.road, ego.position + np.array([12.0, 0.0]), heading=ego.heading, speed=0.0)
    world.env.unwrapped.road.vehicles.append(lead)
    frame = world.render()["front"]
    world.close()
    road = np.array(ROAD_RGB) * 255
    bottom = frame[-5:, 70:90].reshape(-1, 3).astype(float)
    assert np.abs(bottom - road).max() < 20, "the road should fill the bottom centre of the image"
    centre = frame[36:46, 70:90].reshape(-1, 3).astype(float)
    assert np.abs(centre - road).max(axis=1).max() > 60, "a car 12 m ahead should show just above the image centre"


def _straight():
    from e2edrive.core.policy import Action

    return Action(0.0, 0.0)


def test_cars_keep_their_colours_when_traffic_comes_and_goes():
    from highway_env.vehicle.kinematics import Vehicle

    world = World(get_scenario("highway"), SHORT)
    first = world.reset(0).frames["front"]
    road = world.env.unwrapped.road
    ego = world.ego
    # A car appears behind the camera, listed before every other car: were colours assigned by list
    # position, all the cars ahead would change colour now, and again when it leaves.
    newcomer = Vehicle(road, ego.position - np.array([30.0, 0.0]), ego.heading, speed=ego.speed)
    road.vehicles.insert(1, newcomer)
    assert np.array_equal(world.render()["front"], first)
    road.vehicles.remove(newcomer)
    assert np.array_equal(world.render()["front"], first)


def test_no_sky_shows_through_the_ground_in_any_camera():
    """One fixed 4 km ground square was clipped wrongly by the software renderer: wedges of sky below the
    side cameras' horizon (this drive: 10 of 60 frames of the right camera)."""
    from e2edrive.sim.camera import SKY_RGB
    from e2edrive.sim.drivers.expert import ExpertPolicy
    from e2edrive.sim.rig import get_rig

    world = World(get_scenario("exit"), cameras=get_rig("full"))
    obs, expert = world.reset(0), ExpertPolicy()
    sky = np.round(np.array(SKY_RGB) * 255)
    for _ in range(60):
        for name, frame in obs.frames.items():
            lower = frame[frame.shape[0] * 3 // 4 :].astype(int)  # well below every camera's horizon
            assert not np.all(np.abs(lower - sky) <= 2, axis=-1).any(), f"sky below the horizon in {name}"
        obs = world.step(expert.act(obs))
    world.close()
