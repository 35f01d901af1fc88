import json

import av
import numpy as np
import pyarrow.parquet as pq

from e2edrive.data.clip import list_clips, read_clip
from e2edrive.data.lerobot import export_lerobot


def test_lerobot_v3_layout_reads_back(tiny_clips, tmp_path):
    out = tmp_path / "lerobot"
    export_lerobot(tiny_clips, out)
    info = json.loads((out / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10
    clips = [read_clip(c) for c in list_clips(tiny_clips)]
    total = sum(c.n_frames for c in clips)
    assert info["total_episodes"] == len(clips) and info["total_frames"] == total
    for key in ("observation.images.front", "observation.state", "action", "timestamp", "episode_index", "index"):
        assert key in info["features"]
    assert info["features"]["observation.images.front"]["dtype"] == "video"

    data = pq.read_table(out / info["data_path"].format(chunk_index=0, file_index=0))
    assert data.num_rows == total
    assert data.column("index").to_pylist() == list(range(total))
    np.testing.assert_allclose(
        np.array(data.column("action").to_pylist())[: clips[0].n_frames, 0],
        clips[0].signals["expert_steer_rad"],
        atol=1e-6,
    )
    episodes = pq.read_table(out / "meta/episodes/chunk-000/file-000.parquet").to_pylist()
    assert [e["length"] for e in episodes] == [c.n_frames for c in clips]
    assert episodes[1]["dataset_from_index"] == episodes[0]["dataset_to_index"]
    assert (
        episodes[1]["videos/observation.images.front/from_timestamp"]
        == episodes[0]["videos/observation.images.front/to_timestamp"]
    )
    video = out / info["video_path"].format(video_key="observation.images.front", chunk_index=0, file_index=0)
    with av.open(str(video)) as c:
        frames = sum(1 for _ in c.decode(video=0))
    assert frames == total
    tasks = pq.read_table(out / "meta/tasks.parquet").to_pylist()
    assert tasks == [{"task_index": 0, "task": "drive: highway"}]
    stats = json.loads((out / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [total]
