import numpy as np

from e2edrive.sim.drivers.rules.segment import road_colour, segment

ROAD = (81, 81, 86)
GRASS = (84, 115, 68)
SKY = (140, 179, 230)


def _scene() -> np.ndarray:
    img = np.empty((40, 60, 3), np.uint8)
    img[:10] = SKY
    img[10:] = ROAD
    img[10:, :5] = GRASS
    img[25:, 20:22] = (243, 243, 235)  # a lane line
    img[14:20, 30:40] = (133, 4, 4)  # a red car
    img[14:20, 45:50] = (8, 74, 18)  # a green car: green, but not the verge
    img[14:20, 52:56] = (87, 87, 93)  # a grey car's shaded side, close to the road's grey
    return img


def test_classes_of_a_drawn_scene():
    seg = segment(_scene(), horizon_row=10)
    assert seg.road_rgb == ROAD
    assert seg.paint[25:, 20:22].all() and seg.paint.sum() == 15 * 2
    assert seg.vehicle[14:20, 30:40].all() and seg.vehicle[14:20, 45:50].all() and seg.vehicle[14:20, 52:56].all()
    assert not seg.vehicle[:10].any(), "sky above the horizon is never a vehicle"
    assert not seg.vehicle[10:, :5].any(), "the verge is not a vehicle"
    assert seg.vehicle.sum() == 6 * (10 + 5 + 4)


def test_road_colour_is_resampled_every_frame():
    img = _scene()
    img[10:] = (60, 60, 60)
    assert road_colour(img) == (60, 60, 60)
    assert not segment(img, 10).vehicle[30:].any()
