import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.core.errors import UserError
from e2edrive.data.clip import future_trajectory, list_clips, read_clip, unpushed_points
from e2edrive.data.dataset import ClipDataset, DatasetConfig, split_of


def test_sample_shapes_and_types(tiny_clips):
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    s = ds[0]
    assert s["frames"]["front"].shape == io.frames_shape(1)[1:] and s["frames"]["front"].dtype == torch.uint8
    assert ds.scenarios == ["highway"] and s["scenario"].item() == 0
    assert s["speed_mps"].shape == (1,)
    assert s["command"].shape == (io.N_COMMANDS,) and s["command"].sum() == 1
    assert s["trajectory"].shape == (io.TRAJECTORY_POINTS, 2)
    assert s["controls"].shape == (2,)
    n = sum(read_clip(c).n_frames - io.TRAJECTORY_POINTS * io.TRAJECTORY_STRIDE_FRAMES for c in list_clips(tiny_clips))
    assert len(ds) == n


def test_frames_and_labels_are_time_aligned(tiny_clips):
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    clip = read_clip(list_clips(tiny_clips)[0])
    video = clip.video()
    t = 6
    s = ds[t]
    for k, off in enumerate(io.CONTEXT_OFFSETS_FRAMES):
        assert torch.equal(s["frames"]["front"][k], torch.from_numpy(video[max(t + off, 0)]).permute(2, 0, 1))
    assert s["speed_mps"].item() == pytest.approx(clip.signals["speed_mps"][t])
    assert s["controls"][0].item() == pytest.approx(clip.signals["expert_steer_rad"][t], abs=1e-6)
    # first point is 0.5 s ahead: roughly speed * 0.5 s forward
    assert s["trajectory"][0, 0].item() == pytest.approx(clip.signals["speed_mps"][t] * 0.5, rel=0.15)
    known = unpushed_points(clip.signals["perturbed"], np.array([t]))[0]
    assert torch.equal(s["trajectory_known"], torch.from_numpy(known))
    first = ds[0]["frames"]["front"]  # context before the clip start repeats frame 0
    assert torch.equal(first[0], first[-1])


def test_future_trajectory_rotates_into_ego_frame():
    n = 40
    yaw = np.full(n, np.pi / 2)  # driving north
    x = np.zeros(n)
    y = np.arange(n, dtype=float)  # 1 m per frame
    traj = future_trajectory(x, y, yaw, 0)
    np.testing.assert_allclose(traj[:, 0], 5.0 * np.arange(1, 7), atol=1e-5)
    np.testing.assert_allclose(traj[:, 1], 0.0, atol=1e-5)


def test_points_a_push_moved_are_no_trajectory_labels():
    assert io.TRAJECTORY_STRIDE_FRAMES == 5, "the frames below assume a point every 5 frames"
    perturbed = np.zeros(80, bool)
    perturbed[13:16] = True  # a push on frames 13..15
    known = unpushed_points(perturbed, np.array([12, 14, 16, 3]))
    assert not known[0].any(), "pushed before its first point (frame 17): none of frame 12's points is the expert's"
    assert not known[1].any(), "a frame mid-push"
    assert known[2].all(), "the recovery after the push is the expert's driving"
    assert known[3, :2].all() and not known[3, 2:].any(), "frames 8 and 13 are reached before the push, 18 after"


def test_split_is_by_episode_and_stable():
    names = [f"highway-{i:06d}" for i in range(200)]
    splits = [split_of(n, 0.1) for n in names]
    assert splits == [split_of(n, 0.1) for n in names]
    assert 5 <= splits.count("val") <= 40


def test_corrupt_clip_is_skipped_with_a_warning(tiny_clips, tmp_path):
    import shutil

    for clip in list_clips(tiny_clips)[:2]:
        shutil.copytree(clip, tmp_path / clip.name)
    (tmp_path / list_clips(tmp_path)[0].name / "front.mp4").write_bytes(b"")
    with pytest.warns(UserWarning, match="skipping clip"):
        ds = ClipDataset(tmp_path, DatasetConfig("all"))
    assert len(ds.clip_names) == 1


def test_a_frame_cache_that_cannot_be_written_stops_loading_rather_than_skipping_the_clip(
    tiny_clips, tmp_path, monkeypatch
):
    import shutil

    clip = list_clips(tiny_clips)[0]
    shutil.copytree(clip, tmp_path / clip.name)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "save", full_disk)
    with pytest.raises(UserError, match="cannot write the frame cache.*No space left"):
        ClipDataset(tmp_path, DatasetConfig("all"))
    assert not any(p.is_file() for p in (tmp_path / ".cache").rglob("*")), "no partial cache is left behind"


def test_a_batch_equals_its_samples_and_context_offsets_come_from_the_config(tiny_clips):
    ds = ClipDataset(tiny_clips, DatasetConfig("all", context_offsets_frames=(-9, -3, -1, 0)))
    batch = ds[[7, 3, 30]]
    assert batch["frames"]["front"].shape == (3, 4, 3, io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX)
    for b, i in enumerate([7, 3, 30]):
        one = ds[i]
        assert torch.equal(batch["frames"]["front"][b], one["frames"]["front"])
        assert torch.equal(batch["trajectory"][b], one["trajectory"])
    video = read_clip(list_clips(tiny_clips)[0]).video()
    assert torch.equal(batch["frames"]["front"][0, 0], torch.from_numpy(video[0]).permute(2, 0, 1)), "7 - 9 < 0"
    assert torch.equal(batch["frames"]["front"][0, 1], torch.from_numpy(video[4]).permute(2, 0, 1))


def test_several_directories_and_a_camera_the_data_lacks(tiny_clips, tmp_path):
    import shutil

    for i, clip in enumerate(list_clips(tiny_clips)[:2]):
        shutil.copytree(clip, tmp_path / f"dir{i}" / clip.name)
    ds = ClipDataset([tmp_path / "dir0", tmp_path / "dir1"], DatasetConfig("all"))
    assert len(ds.clip_names) == 2
    # max_clips spreads over the listed clips (calibration: every scenario and source), not the first N
    first_and_last = ClipDataset([tmp_path / "dir0", tmp_path / "dir1"], DatasetConfig("all", max_clips=1))
    assert first_and_last.clip_names == ds.clip_names[:1]
    every = ClipDataset(tiny_clips, DatasetConfig("all"))
    spread = ClipDataset(tiny_clips, DatasetConfig("all", max_clips=2))
    assert spread.clip_names == [every.clip_names[0], every.clip_names[-1]]
    with pytest.raises(UserError, match="has no left camera, which the model reads"):
        ClipDataset(tiny_clips, DatasetConfig("all", cameras=("front", "left")))


def _shares(w: np.ndarray, keys: np.ndarray, within: np.ndarray) -> list[tuple[float, float]]:
    """(share of its group, sqrt-balanced share expected) for every key of every group."""
    out = []
    for group in np.unique(within):
        counts = {k: np.sum((within == group) & (keys == k)) for k in np.unique(keys[within == group])}
        total = w[within == group].sum()
        root = sum(np.sqrt(n) for n in counts.values())
        out += [(w[(within == group) & (keys == k)].sum() / total, np.sqrt(n) / root) for k, n in counts.items()]
    return out


def test_balanced_weights_give_each_scenario_the_same_share_and_lift_rare_commands_and_bends(tiny_clips):
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    w = ds.balanced_weights().numpy()
    scenario = ds.sample_scenarios
    assert np.allclose([w[scenario == s].sum() for s in np.unique(scenario)], 1.0)
    pairs = scenario * io.N_COMMANDS + ds.sample_commands
    bins = pairs * 10 + ds.sample_bends
    for share, expected in _shares(w, pairs, scenario) + _shares(w, bins, pairs):
        assert share == pytest.approx(expected)
    ds._columns["trajectory"][:2, -1] = [[20.0, 0.5], [10.0, 10.0]]  # ~1.4° and 45° to the left
    assert ds.sample_bends[:2].tolist() == [3, 6]


def test_scenario_shares_set_each_scenario_share_of_a_batch(tiny_clips):
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    ds.scenarios.append("intersection")  # the tiny clips are highway: call every third sample an intersection's
    ds._columns["scenario"] = ds._columns["scenario"].copy()
    ds._columns["scenario"][::3] = 1
    equal = ds.balanced_weights().numpy()
    w = ds.balanced_weights({"intersection": 2.0, "roundabout": 3.0}).numpy()  # no roundabout here: ignored
    scenario = ds.sample_scenarios
    assert w[scenario == 1].sum() / w[scenario == 0].sum() == pytest.approx(2.0)
    assert equal[scenario == 1].sum() / equal[scenario == 0].sum() == pytest.approx(1.0)
    for s in (0, 1):  # within a scenario, the same balance
        inside = scenario == s
        assert w[inside] / w[inside].sum() == pytest.approx(equal[inside] / equal[inside].sum())


def test_reading_frames_maps_nothing_so_memory_does_not_grow_with_the_data(tiny_clips):
    """Frames are read with pread: no mapping of the frame files appears in the process's memory map."""
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    ds[list(range(0, len(ds), 3))]
    maps = open("/proc/self/maps").read()
    assert ".cache/frames" not in maps


def test_a_built_dataset_beside_a_plain_directory_keeps_both(tiny_clips, tmp_path):
    import shutil

    from e2edrive.data.build import BuildConfig, build_dataset

    clips = list_clips(tiny_clips)
    for clip in clips[:2]:
        shutil.copytree(clip, tmp_path / "built_from" / clip.name)
    shutil.copytree(clips[2], tmp_path / "plain" / clips[2].name)
    built = build_dataset(tmp_path / "built_from", tmp_path / "sets", BuildConfig(val_fraction=0.0, test_fraction=0.0))
    ds = ClipDataset([built, tmp_path / "plain"], DatasetConfig("train", val_fraction=0.0))
    assert sorted(ds.clip_names) == sorted(c.name for c in clips[:3])
    assert ds.weights is not None and len(ds.weights) == len(ds)


def test_source_shares_set_each_directory_share_of_a_batch(tiny_clips, tmp_path):
    import shutil

    other = tmp_path / "other"
    other.mkdir()
    shutil.copytree(tiny_clips / "highway-000000", other / "highway-000000")
    data = ClipDataset([tiny_clips, other], DatasetConfig("all"))
    w = data.source_weights((0.7, 0.3))
    sources = torch.from_numpy(data.sample_sources)
    assert float(w[sources == 0].sum()) == pytest.approx(0.7) and float(w[sources == 1].sum()) == pytest.approx(0.3)
    with pytest.raises(UserError):
        data.source_weights((1.0,))
    # A last directory without samples (none recorded yet, or every clip skipped as damaged) still takes its
    # share, instead of "3 shares, 2 directories".
    empty = tmp_path / "empty"
    empty.mkdir()
    data = ClipDataset([tiny_clips, other, empty], DatasetConfig("all"))
    w = data.source_weights((0.7, 0.15, 0.15))
    assert float(w.sum()) == pytest.approx(0.85) and data.n_sources == 3
