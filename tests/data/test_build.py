import shutil

import numpy as np
import pytest
import torch

from e2edrive.data.build import BuildConfig, build_dataset, read_manifest, split_of
from e2edrive.data.clip import list_clips
from e2edrive.data.dataset import ClipDataset, DatasetConfig


def test_same_clips_same_version_and_a_changed_byte_a_new_one(tiny_clips, tmp_path):
    a = build_dataset(tiny_clips, tmp_path / "out", BuildConfig(name="d"))
    b = build_dataset(tiny_clips, tmp_path / "out", BuildConfig(name="d"))
    assert a == b
    manifest, samples = read_manifest(a)
    assert len(manifest["clips"]) == 4 and all(len(c["sha256"]["front.mp4"]) == 64 for c in manifest["clips"])
    copy = tmp_path / "copy"
    shutil.copytree(tiny_clips, copy)
    meta = list_clips(copy)[0] / "meta.json"
    meta.write_text(meta.read_text() + " ")
    c = build_dataset(copy, tmp_path / "out", BuildConfig(name="d"))
    assert c != a


def test_split_by_episode_is_deterministic_and_disjoint():
    names = [f"highway-{i:06d}" for i in range(300)]
    splits = [split_of(n, 0.1, 0.1) for n in names]
    assert splits == [split_of(n, 0.1, 0.1) for n in names]
    assert {"train", "val", "test"} == set(splits)
    assert [split_of(n, 0.1) for n in names].count("test") == 0


def test_balanced_weights_upweight_rare_bins(tiny_clips, tmp_path):
    path = build_dataset(tiny_clips, tmp_path, BuildConfig(val_fraction=0.0, test_fraction=0.0))
    _, samples = read_manifest(path)
    t = samples.to_pydict()
    bins, weights = np.array(t["bin"]), np.array(t["weight"])
    assert weights.mean() == pytest.approx(1.0)
    for b in np.unique(bins):  # every bin carries the same total weight
        assert weights[bins == b].sum() == pytest.approx(len(bins) / len(np.unique(bins)))


def test_mining_keeps_only_windows_around_events(tiny_clips, tmp_path):
    full = read_manifest(build_dataset(tiny_clips, tmp_path, BuildConfig(name="all")))[1].num_rows
    mined = read_manifest(
        build_dataset(tiny_clips, tmp_path, BuildConfig(name="m", mine=("sharp_steer",), window_s=0.3))
    )[1]
    assert mined.num_rows < full


def test_training_reads_a_built_dataset_with_its_weights(tiny_clips, tmp_path):
    path = build_dataset(tiny_clips, tmp_path, BuildConfig(val_fraction=0.0, test_fraction=0.0))
    ds = ClipDataset(path, DatasetConfig("train"))
    _, samples = read_manifest(path)
    assert len(ds) == samples.num_rows and ds.weights is not None
    assert torch.allclose(ds.weights.sum(), torch.tensor(float(samples.num_rows), dtype=torch.float64))
