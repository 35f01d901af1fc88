"""The LeRobot v3.0 export, format fact by format fact (as LeRobot 0.4.4 writes and reads them)."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e2edrive.core.errors import UserError
from e2edrive.core.io import COMMANDS
from e2edrive.data.clip import list_clips, read_clip, read_video
from e2edrive.data.ingest import ingest_comma2k19, ingest_video
from e2edrive.data.lerobot import QUANTILES, STATE_NAMES, export_lerobot
from e2edrive.sim.rig import FULL_RIG
from tests.conftest import REAL

STATS = {"min", "max", "mean", "std", "count", *(f"q{round(q * 100):02d}" for q in QUANTILES)}


@pytest.fixture(scope="module")
def export(tiny_clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("lerobot") / "ds"
    info = export_lerobot(tiny_clips, out)
    return out, info, [read_clip(c) for c in list_clips(tiny_clips)]


@pytest.fixture(scope="module")
def full_rig_export(full_rig_clips, tmp_path_factory):
    out = tmp_path_factory.mktemp("lerobot_full") / "ds"
    return out, export_lerobot(full_rig_clips, out), [read_clip(c) for c in list_clips(full_rig_clips)]


def test_layout_counts_index_ranges_and_video_spans(export):
    out, info, clips = export
    total = sum(c.n_frames for c in clips)
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10
    assert info["total_episodes"] == len(clips) and info["total_frames"] == total and info["total_tasks"] == 1
    data = pq.read_table(out / info["data_path"].format(chunk_index=0, file_index=0))
    assert data.num_rows == total and data.column("index").to_pylist() == list(range(total))
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [c.n_frames for c in clips]
    assert [e["dataset_from_index"] for e in episodes[1:]] == [e["dataset_to_index"] for e in episodes[:-1]]
    assert [e["videos/observation.images.front/file_index"] for e in episodes] == list(range(len(clips)))
    assert all(e["videos/observation.images.front/to_timestamp"] == e["length"] / 10 for e in episodes)


def test_column_types_are_the_ones_lerobot_writes(export):
    """A feature of shape [1] is a plain scalar column; a vector of shape [n] a fixed-size list of n."""
    out, info, _ = export
    schema = pq.read_schema(out / info["data_path"].format(chunk_index=0, file_index=0))
    assert schema.field("observation.state").type == pa.list_(pa.float32(), len(STATE_NAMES))
    assert schema.field("action").type == pa.list_(pa.float32(), 2)
    assert schema.field("timestamp").type == pa.float32()
    for key in ("frame_index", "episode_index", "index", "task_index"):
        assert schema.field(key).type == pa.int64() and info["features"][key]["shape"] == [1]


def test_tasks_are_indexed_by_their_string(export):
    out, _, _ = export
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pandas()
    assert list(tasks.index) == ["drive: highway"] and tasks.loc["drive: highway", "task_index"] == 0


def test_state_is_speed_and_the_command_one_hot_named_in_info(export):
    out, info, clips = export
    assert info["features"]["observation.state"]["names"] == ["speed_mps", *(f"command.{c}" for c in COMMANDS)]
    assert info["features"]["action"]["names"] == ["steer_rad", "accel_mps2"]
    data = pq.read_table(out / info["data_path"].format(chunk_index=0, file_index=0))
    state = np.array(data.column("observation.state").to_pylist())[: clips[0].n_frames]
    np.testing.assert_allclose(state[:, 0], clips[0].signals["speed_mps"], rtol=1e-6)
    assert [COMMANDS[i] for i in state[:, 1:].argmax(1)] == list(clips[0].signals["command"])
    assert (state[:, 1:].sum(1) == 1).all()
    action = np.array(data.column("action").to_pylist())[: clips[0].n_frames]
    np.testing.assert_allclose(action[:, 0], clips[0].signals["expert_steer_rad"], atol=1e-6)


def test_per_episode_stats_for_every_feature(export):
    out, info, clips = export
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet")
    for feature in info["features"]:
        assert {f"stats/{feature}/{s}" for s in STATS} <= set(episodes.column_names), feature
    first = episodes.slice(0, 1).to_pylist()[0]
    assert first["stats/action/count"] == [clips[0].n_frames]
    assert first["stats/observation.state/mean"][0] == pytest.approx(clips[0].signals["speed_mps"].mean(), rel=1e-5)
    image_mean = np.array(first["stats/observation.images.front/mean"])
    assert image_mean.shape == (3, 1, 1) and ((0 < image_mean) & (image_mean < 1)).all()


def test_stats_json_covers_every_feature_cameras_per_channel_in_unit_range(export):
    out, info, clips = export
    stats = json.loads((out / "meta/stats.json").read_text())
    assert set(stats) == set(info["features"])
    for feature, st in stats.items():
        assert set(st) == STATS, feature
    for stat in ("min", "max", "mean", "std", "q50"):
        value = np.array(stats["observation.images.front"][stat])
        assert value.shape == (3, 1, 1) and ((0 <= value) & (value <= 1)).all()
    speeds = np.concatenate([c.signals["speed_mps"] for c in clips])
    assert stats["observation.state"]["mean"][0] == pytest.approx(speeds.mean(), rel=1e-5)
    assert stats["observation.state"]["std"][0] == pytest.approx(speeds.std(), rel=1e-4)
    assert stats["index"]["max"] == [len(speeds) - 1] and stats["index"]["count"] == [len(speeds)]


def test_every_camera_of_the_rig_is_exported_and_decodes_to_the_clip_frames(full_rig_export):
    out, info, clips = full_rig_export
    cameras = [c.name for c in FULL_RIG]
    assert [k for k in info["features"] if k.startswith("observation.images.")] == [
        f"observation.images.{c}" for c in cameras
    ]
    assert info["features"]["observation.images.front_wide"]["shape"] == [96, 192, 3]
    for camera in cameras:
        key = f"observation.images.{camera}"
        video = out / info["video_path"].format(video_key=key, chunk_index=0, file_index=1)
        np.testing.assert_array_equal(read_video(video), read_video(clips[1].path / f"{camera}.mp4"))
    stats = json.loads((out / "meta/stats.json").read_text())
    assert all(np.array(stats[f"observation.images.{c}"]["std"]).shape == (3, 1, 1) for c in cameras)


def test_real_logs_declare_missing_streams_instead_of_inventing_them(tmp_path):
    ingest_video(REAL / "udacity_solidWhiteRight.mp4", tmp_path / "dashcam")
    ingest_comma2k19(REAL / "comma2k19_example_segment", tmp_path / "can")
    info = export_lerobot(tmp_path / "dashcam", tmp_path / "ds_dashcam")
    episode = pq.read_table(tmp_path / "ds_dashcam/meta/episodes/chunk-000/file-000.parquet").to_pylist()[0]
    assert {"speed_mps", "command", "steer_rad"} <= set(episode["missing_streams"])
    data = pq.read_table(tmp_path / "ds_dashcam" / info["data_path"].format(chunk_index=0, file_index=0))
    assert np.isnan(np.array(data.column("observation.state").to_pylist())).all(), "no speed, no command: NaN"
    assert episode["stats/observation.state/count"] == [0]

    info = export_lerobot(tmp_path / "can", tmp_path / "ds_can")
    assert not [k for k in info["features"] if k.startswith("observation.images.")] and info["video_path"] is None
    episode = pq.read_table(tmp_path / "ds_can/meta/episodes/chunk-000/file-000.parquet").to_pylist()[0]
    assert "video" in episode["missing_streams"] and episode["action_source"] == "human"
    state = np.array(
        pq.read_table(tmp_path / "ds_can" / info["data_path"].format(chunk_index=0, file_index=0))
        .column("observation.state")
        .to_pylist()
    )
    assert np.isfinite(state[:, 0]).all() and np.isnan(state[:, 1:]).all(), "CAN speed kept, no command"


def test_a_failed_export_leaves_nothing_behind(tiny_clips, tmp_path):
    broken = tmp_path / "clips"
    broken.mkdir()
    import shutil

    clip = list_clips(tiny_clips)[0]
    shutil.copytree(clip, broken / clip.name)
    (broken / clip.name / "front.mp4").write_bytes((tiny_clips / clip.name / "front.mp4").read_bytes()[:2000])
    with pytest.raises(Exception):  # noqa: B017 - a truncated video: decoding or the frame count fails
        export_lerobot(broken, tmp_path / "ds")
    assert [p.name for p in tmp_path.iterdir()] == ["clips"]
    with pytest.raises(UserError, match="no such directory"):
        export_lerobot(tmp_path / "missing", tmp_path / "ds")
