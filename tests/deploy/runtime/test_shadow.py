import shutil

import pyarrow.parquet as pq
import pytest
import torch

from e2edrive.data.catalog import build_index, query
from e2edrive.data.clip import list_clips
from e2edrive.data.triggers import TriggerConfig
from e2edrive.deploy.export import export_onnx
from e2edrive.deploy.runtime.shadow import SHADOW_EVENTS, shadow_dir
from e2edrive.model.checkpoint import save_checkpoint
from e2edrive.model.net import DrivingNet


@pytest.fixture()
def onnx(tmp_path):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "run", DrivingNet().eval(), {})
    export_onnx(tmp_path / "run", tmp_path / "model.onnx")
    return tmp_path / "model.onnx"


def test_disagreements_become_catalog_events(onnx, tiny_clips, tmp_path):
    clips = tmp_path / "clips"
    shutil.copytree(tiny_clips, clips, ignore=shutil.ignore_patterns(".cache", "catalog"))
    results = shadow_dir(onnx, clips, TriggerConfig(disagreement_m=0.0))
    assert len(results) == len(list_clips(clips)) and all(r["events"] >= 1 for r in results)
    table = pq.read_table(list_clips(clips)[0] / SHADOW_EVENTS)
    assert set(table.column("trigger").to_pylist()) == {"disagreement"}
    build_index(clips)
    rows = query(clips, "SELECT count(*) AS n FROM events WHERE trigger = 'disagreement'").to_pylist()
    assert rows[0]["n"] == sum(r["events"] for r in results)
    calm = shadow_dir(onnx, clips, TriggerConfig(disagreement_m=1e6))
    assert all(r["events"] == 0 for r in calm)
