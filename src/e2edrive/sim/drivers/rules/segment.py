"""Pixel classes from colour alone: lane paint, road surface, vehicles.

The road colour is sampled every frame from the patch in front of the bonnet (as classical lane detectors
do), so nothing about the renderer's palette is hard-coded except "paint is bright and white-ish".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PAINT_MIN_LEVEL = 200
"""Lane paint: every channel at least this bright..."""
PAINT_MAX_CHROMA = 24
"""...and channels within this of each other (white or pale yellow, not a bright car)."""
ROAD_TOLERANCE = 3
"""A pixel within this of the sampled road colour in every channel is road."""
GRASS_MIN_GREEN_EXCESS = 15
GRASS_MIN_RED = 50
"""Verge: green clearly above red and blue, red not near zero (a green car's paint is nearly pure green)."""
ROAD_SAMPLE_ROWS = 8
"""Rows at the bottom of the image the road colour is sampled from (their most common colour)."""


@dataclass
class Segmentation:
    """(H, W) bool masks of one frame. `vehicle`: below the horizon and neither road, paint nor verge."""

    paint: np.ndarray
    road: np.ndarray
    vehicle: np.ndarray
    road_rgb: tuple[int, int, int]


def road_colour(frame: np.ndarray) -> tuple[int, int, int]:
    """Most common colour of the bottom rows' middle half, ignoring paint."""
    h, w, _ = frame.shape
    patch = frame[h - ROAD_SAMPLE_ROWS :, w // 4 : 3 * w // 4].reshape(-1, 3).astype(np.int32)
    packed = (patch[:, 0] << 16) | (patch[:, 1] << 8) | patch[:, 2]
    values, counts = np.unique(packed, return_counts=True)
    best = int(values[np.argmax(counts)])
    return (best >> 16) & 255, (best >> 8) & 255, best & 255


def segment(frame: np.ndarray, horizon_row: int) -> Segmentation:
    """frame: (H, W, 3) uint8 RGB. horizon_row: first row below the horizon (from the camera calibration)."""
    rgb = frame.astype(np.int16)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    lo = rgb.min(axis=2)
    hi = rgb.max(axis=2)
    paint = (lo >= PAINT_MIN_LEVEL) & (hi - lo <= PAINT_MAX_CHROMA)
    road_rgb = road_colour(frame)
    road = np.all(np.abs(rgb - np.array(road_rgb, np.int16)) <= ROAD_TOLERANCE, axis=2)
    grass = (g - r >= GRASS_MIN_GREEN_EXCESS) & (g - b >= GRASS_MIN_GREEN_EXCESS) & (r >= GRASS_MIN_RED)
    below = np.zeros(frame.shape[:2], bool)
    below[max(horizon_row, 0) :] = True
    vehicle = below & ~(paint | road | grass)
    return Segmentation(paint=paint & below, road=road, vehicle=vehicle, road_rgb=road_rgb)
