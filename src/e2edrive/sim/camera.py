"""Offscreen camera rig rendered by Panda3D's software renderer (TinyDisplay), no display needed.

Low-level Panda3D API only (no ShowBase, which writes globals into builtins): a GraphicsEngine over the
p3tinydisplay pipe, one offscreen buffer per camera, a texture copied to RAM and read into numpy.
Build one `CameraRig` inside each worker process. The calibration maths live in `core/camera.py`.

World frame: right-handed, X east, Y north, Z up, metres (highway-env's y axis is flipped on the way in,
see `sim/world.py`). Vehicles are lit boxes, roads flat quads with markings by highway-env line type.
"""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
from highway_env.road.lane import AbstractLane, LineType, StraightLane

from e2edrive.core.camera import CameraConfig

SKY_RGB = (0.55, 0.70, 0.90)
GROUND_RGB = (0.33, 0.45, 0.27)
ROAD_RGB = (0.32, 0.32, 0.34)
MARKING_RGB = (0.95, 0.95, 0.92)
MARKING_WIDTH_M = 0.2
DASH_LENGTH_M = 3.0
DASH_PERIOD_M = 12.0
"""Dashed lines: 3 m paint every 12 m, as on European motorways."""
CURVED_LANE_STEP_M = 2.0
STRAIGHT_LANE_STEP_M = 50.0
MAX_LANE_LENGTH_M = 3000.0
"""Longer lanes (highway-env's straight highway is 10 km) are drawn up to this length."""
VEHICLE_HEIGHT_M = 1.5
DRAW_DISTANCE_M = 250.0
GROUND_BEYOND_FAR_M = 100.0
GROUND_TILE_M = 200.0
"""The ground is a square around the ego, moved with it, reaching GROUND_BEYOND_FAR_M past the farthest far
plane, in tiles of GROUND_TILE_M. One fixed square 4 km wide (two triangles) was clipped wrongly by the
software renderer: wedges of sky below the side cameras' horizon (exit, full rig: 10 of 60 frames)."""
VEHICLE_PALETTE_RGB = (
    (0.80, 0.15, 0.15),
    (0.15, 0.35, 0.80),
    (0.90, 0.90, 0.90),
    (0.10, 0.10, 0.12),
    (0.85, 0.65, 0.10),
    (0.20, 0.60, 0.30),
    (0.55, 0.55, 0.60),
    (0.50, 0.20, 0.55),
)


def _lane_samples_m(lane: AbstractLane) -> np.ndarray:
    length = min(lane.length, MAX_LANE_LENGTH_M)
    step = STRAIGHT_LANE_STEP_M if isinstance(lane, StraightLane) and type(lane) is StraightLane else CURVED_LANE_STEP_M
    return np.linspace(0.0, length, max(2, int(math.ceil(length / step)) + 1))


def _world_xy(lane: AbstractLane, s: float, lateral: float) -> tuple[float, float]:
    x, y = lane.position(s, lateral)
    return float(x), -float(y)


class CameraRig:
    """Renders every camera of a rig for one scene. Not thread-safe; one per process."""

    def __init__(self, cameras: tuple[CameraConfig, ...] = (CameraConfig(),)) -> None:
        from panda3d import core as p3d

        p3d.load_prc_file_data(
            "",
            "load-display p3tinydisplay\nwindow-type offscreen\naudio-library-name null\n"
            "notify-level-display fatal\nsync-video 0\n",
        )
        self._p3d = p3d
        self.cameras = tuple(cameras)
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ValueError(f"camera names must be unique, got {names}")
        pipe = p3d.GraphicsPipeSelection.get_global_ptr().make_module_pipe("p3tinydisplay")
        if pipe is None:
            raise RuntimeError("Panda3D TinyDisplay pipe unavailable")
        self._engine = p3d.GraphicsEngine(pipe)
        self.root = p3d.NodePath("scene")
        self._static = self.root.attach_new_node("static")
        self._vehicles_root = self.root.attach_new_node("vehicles")
        self._vehicle_nodes: list = []
        self._box = self._make_box()
        self._setup_lights()
        self._outputs = []
        for cam in self.cameras:
            fb = p3d.FrameBufferProperties()
            fb.set_rgb_color(True)
            fb.set_color_bits(24)
            fb.set_depth_bits(16)
            props = p3d.WindowProperties.size(cam.width_px, cam.height_px)
            buf = self._engine.make_output(
                pipe, f"cam-{cam.name}", 0, fb, props, p3d.GraphicsPipe.BF_refuse_window, None, None
            )
            if buf is None:
                raise RuntimeError(f"could not create an offscreen buffer for camera {cam.name!r}")
            tex = p3d.Texture()
            buf.add_render_texture(tex, p3d.GraphicsOutput.RTM_copy_ram)
            buf.set_clear_color(p3d.LColor(*SKY_RGB, 1))
            buf.set_clear_color_active(True)
            lens = p3d.PerspectiveLens()
            lens.set_fov(cam.hfov_deg, cam.vfov_deg)
            lens.set_near_far(cam.near_m, cam.far_m)
            node = p3d.Camera(f"camera-{cam.name}")
            node.set_lens(lens)
            cam_np = self.root.attach_new_node(node)
            region = buf.make_display_region()
            region.set_camera(cam_np)
            self._outputs.append((cam, buf, tex, cam_np))

    # --- scene building -------------------------------------------------------------------------
    def _make_box(self):
        """Unit box, x in [-0.5, 0.5] (forward), y in [-0.5, 0.5], z in [0, 1], with face normals."""
        p3d = self._p3d
        vdata = p3d.GeomVertexData("box", p3d.GeomVertexFormat.get_v3n3(), p3d.Geom.UH_static)
        vw = p3d.GeomVertexWriter(vdata, "vertex")
        nw = p3d.GeomVertexWriter(vdata, "normal")
        tris = p3d.GeomTriangles(p3d.Geom.UH_static)
        faces = [
            ((1, 0, 0), [(0.5, -0.5, 0), (0.5, 0.5, 0), (0.5, 0.5, 1), (0.5, -0.5, 1)]),
            ((-1, 0, 0), [(-0.5, 0.5, 0), (-0.5, -0.5, 0), (-0.5, -0.5, 1), (-0.5, 0.5, 1)]),
            ((0, 1, 0), [(0.5, 0.5, 0), (-0.5, 0.5, 0), (-0.5, 0.5, 1), (0.5, 0.5, 1)]),
            ((0, -1, 0), [(-0.5, -0.5, 0), (0.5, -0.5, 0), (0.5, -0.5, 1), (-0.5, -0.5, 1)]),
            ((0, 0, 1), [(-0.5, -0.5, 1), (0.5, -0.5, 1), (0.5, 0.5, 1), (-0.5, 0.5, 1)]),
        ]
        for i, (normal, corners) in enumerate(faces):
            for corner in corners:
                vw.add_data3(*corner)
                nw.add_data3(*normal)
            tris.add_vertices(4 * i, 4 * i + 1, 4 * i + 2)
            tris.add_vertices(4 * i, 4 * i + 2, 4 * i + 3)
        geom = p3d.Geom(vdata)
        geom.add_primitive(tris)
        node = p3d.GeomNode("box")
        node.add_geom(geom)
        return p3d.NodePath(node)

    def _setup_lights(self) -> None:
        p3d = self._p3d
        sun = p3d.DirectionalLight("sun")
        sun.set_color(p3d.LColor(0.65, 0.65, 0.62, 1))
        sun_np = self.root.attach_new_node(sun)
        # Low sun from behind the traffic (shining towards +X, the way highway traffic drives), so the rear
        # faces the camera sees are lit, the tops brighter, and sides shaded.
        sun_np.set_hpr(-70, -50, 0)
        ambient = p3d.AmbientLight("ambient")
        ambient.set_color(p3d.LColor(0.42, 0.42, 0.45, 1))
        amb_np = self.root.attach_new_node(ambient)
        self._vehicles_root.set_light(sun_np)
        self._vehicles_root.set_light(amb_np)

    def _flat_layer(self, name: str, quads: list[tuple[tuple[float, float], ...]], rgb, sort: int):
        """A flat, unlit layer of quads on the road plane, drawn in a fixed order before vehicles."""
        p3d = self._p3d
        vdata = p3d.GeomVertexData(name, p3d.GeomVertexFormat.get_v3(), p3d.Geom.UH_static)
        vdata.unclean_set_num_rows(4 * len(quads))
        vw = p3d.GeomVertexWriter(vdata, "vertex")
        tris = p3d.GeomTriangles(p3d.Geom.UH_static)
        for i, quad in enumerate(quads):
            for x, y in quad:
                vw.set_data3(x, y, 0.0)
            tris.add_vertices(4 * i, 4 * i + 1, 4 * i + 2)
            tris.add_vertices(4 * i, 4 * i + 2, 4 * i + 3)
        geom = p3d.Geom(vdata)
        geom.add_primitive(tris)
        node = p3d.GeomNode(name)
        node.add_geom(geom)
        np_ = self._static.attach_new_node(node)
        np_.set_color(p3d.LColor(*rgb, 1))
        np_.set_two_sided(True)
        np_.set_depth_write(False)
        np_.set_depth_test(False)
        np_.set_bin("background", sort)
        return np_

    def set_road(self, network) -> None:
        """(Re)build the static scene from a highway-env RoadNetwork."""
        self._static.remove_node()
        self._static = self.root.attach_new_node("static")
        g = max(cam.far_m for cam, *_ in self._outputs) + GROUND_BEYOND_FAR_M
        edges = np.linspace(-g, g, int(np.ceil(2 * g / GROUND_TILE_M)) + 1)
        tiles = [((x0, y0), (x1, y0), (x1, y1), (x0, y1)) for x0, x1 in pairwise(edges) for y0, y1 in pairwise(edges)]
        self._ground = self._flat_layer("ground", tiles, GROUND_RGB, 0)
        road_quads, mark_quads = [], []
        for lane in network.lanes_list():
            s = _lane_samples_m(lane)
            half_w = [lane.width_at(si) / 2 for si in s]
            for i in range(len(s) - 1):
                a, b = s[i], s[i + 1]
                road_quads.append(
                    (
                        _world_xy(lane, a, half_w[i]),
                        _world_xy(lane, b, half_w[i + 1]),
                        _world_xy(lane, b, -half_w[i + 1]),
                        _world_xy(lane, a, -half_w[i]),
                    )
                )
            for side, line_type in zip((-1, 1), lane.line_types):
                mark_quads.extend(self._marking_quads(lane, side, line_type, s))
        self._flat_layer("road", road_quads, ROAD_RGB, 1)
        if mark_quads:
            self._flat_layer("markings", mark_quads, MARKING_RGB, 2)

    @staticmethod
    def _marking_quads(lane: AbstractLane, side: int, line_type: int, s: np.ndarray):
        if line_type == LineType.NONE:
            return []
        length = float(s[-1])
        if line_type == LineType.STRIPED:
            starts = np.arange(0.0, length - DASH_LENGTH_M, DASH_PERIOD_M)
            pieces = [(a, a + DASH_LENGTH_M) for a in starts]
        else:
            pieces = list(zip(s[:-1], s[1:]))
        quads = []
        for a, b in pieces:
            lat_a = side * lane.width_at(a) / 2
            lat_b = side * lane.width_at(b) / 2
            w = MARKING_WIDTH_M / 2
            quads.append(
                (
                    _world_xy(lane, a, lat_a - w),
                    _world_xy(lane, b, lat_b - w),
                    _world_xy(lane, b, lat_b + w),
                    _world_xy(lane, a, lat_a + w),
                )
            )
        return quads

    def _vehicle_node(self, index: int):
        while len(self._vehicle_nodes) <= index:
            np_ = self._box.copy_to(self._vehicles_root)
            rgb = VEHICLE_PALETTE_RGB[len(self._vehicle_nodes) % len(VEHICLE_PALETTE_RGB)]
            np_.set_color(self._p3d.LColor(*rgb, 1))
            self._vehicle_nodes.append(np_)
        return self._vehicle_nodes[index]

    # --- rendering ------------------------------------------------------------------------------
    def render(
        self,
        ego_pose: tuple[float, float, float],
        vehicles: list[tuple[float, float, float, float, float] | None],
    ) -> dict[str, np.ndarray]:
        """Render all cameras.

        ego_pose: (x_m, y_m, yaw_rad) in the world frame.
        vehicles: (x_m, y_m, yaw_rad, length_m, width_m) of every other vehicle, world frame, or None for a slot
            whose vehicle has left. A slot's position in the list fixes its colour: keep it stable in an episode.
        Returns camera name → (H, W, 3) uint8 RGB, row 0 at the top.
        """
        ex, ey, eyaw = ego_pose
        for i, vehicle in enumerate(vehicles):
            node = self._vehicle_node(i)
            if vehicle is None:
                node.hide()
                continue
            x, y, yaw, length, width = vehicle
            if (x - ex) ** 2 + (y - ey) ** 2 > DRAW_DISTANCE_M**2:
                node.hide()
                continue
            node.show()
            node.set_pos_hpr_scale(x, y, 0.0, math.degrees(yaw), 0.0, 0.0, length, width, VEHICLE_HEIGHT_M)
        for node in self._vehicle_nodes[len(vehicles) :]:
            node.hide()
        self._ground.set_pos(ex, ey, 0.0)
        cos_y, sin_y = math.cos(eyaw), math.sin(eyaw)
        for cam, _, _, cam_np in self._outputs:
            px = ex + cos_y * cam.mount_x_m - sin_y * cam.mount_y_m
            py = ey + sin_y * cam.mount_x_m + cos_y * cam.mount_y_m
            # Panda3D cameras look along +Y: heading 0 faces north, so subtract 90° to face the yaw.
            cam_np.set_pos_hpr(px, py, cam.mount_z_m, math.degrees(eyaw) + cam.yaw_deg - 90.0, cam.pitch_deg, 0.0)
        self._engine.render_frame()
        out = {}
        for cam, _, tex, _ in self._outputs:
            raw = np.frombuffer(tex.get_ram_image_as("RGB"), np.uint8)
            out[cam.name] = raw.reshape(cam.height_px, cam.width_px, 3)[::-1].copy()
        return out

    def close(self) -> None:
        for _, buf, _, _ in self._outputs:
            self._engine.remove_window(buf)
        self._outputs = []
