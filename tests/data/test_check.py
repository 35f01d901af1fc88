import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e2edrive.data.check import QUARANTINE, REASON_FILE, check_clip, check_dir
from e2edrive.data.clip import list_clips
from e2edrive.data.dataset import ClipDataset, DatasetConfig


@pytest.fixture()
def clips(tiny_clips, tmp_path):
    for clip in list_clips(tiny_clips):
        shutil.copytree(clip, tmp_path / clip.name)
    return tmp_path


def _rewrite(clip, fn):
    table = pq.read_table(clip / "signals.parquet")
    pq.write_table(fn(table), clip / "signals.parquet")


def test_valid_clips_pass(clips):
    assert all(check_clip(c) is None for c in list_clips(clips))


def test_each_corruption_is_quarantined_with_a_reason(clips):
    names = [c.name for c in list_clips(clips)]
    a, b, c, d = (clips / n for n in names)
    # truncated MP4
    data = (a / "front.mp4").read_bytes()
    (a / "front.mp4").write_bytes(data[: len(data) // 3])
    # zero-byte parquet
    (b / "signals.parquet").write_bytes(b"")
    # NaN speed
    _rewrite(
        c,
        lambda t: t.set_column(
            t.schema.get_field_index("speed_mps"), "speed_mps", pa.array(np.full(t.num_rows, np.nan))
        ),
    )
    # reordered timestamps
    _rewrite(
        d,
        lambda t: t.set_column(
            t.schema.get_field_index("time_s"), "time_s", pa.array(t.column("time_s").to_numpy()[::-1].copy())
        ),
    )
    report = check_dir(clips)
    assert report["ok"] == []
    reasons = report["quarantined"]
    assert "frames" in reasons[a.name] or "decode" in reasons[a.name]
    assert "unreadable" in reasons[b.name]
    assert "NaN" in reasons[c.name]
    assert "increasing" in reasons[d.name]
    for n in names:
        assert (clips / QUARANTINE / n / REASON_FILE).read_text().strip() == reasons[n]
    assert list_clips(clips) == []


def test_wrong_column_type_and_missing_calibration(clips):
    first, second = list_clips(clips)[:2]
    _rewrite(
        first,
        lambda t: t.set_column(
            t.schema.get_field_index("lane_id"), "lane_id", pa.array([str(x) for x in t.column("lane_id").to_pylist()])
        ),
    )
    meta = (second / "meta.json").read_text().replace('"intrinsics"', '"intrinsics_gone"')
    (second / "meta.json").write_text(meta)
    assert "type" in check_clip(first)
    assert "calibration" in check_clip(second)


def test_training_skips_a_bad_clip_with_a_warning(clips):
    bad = list_clips(clips)[0]
    _rewrite(bad, lambda t: t.set_column(t.schema.get_field_index("x_m"), "x_m", pa.array(np.full(t.num_rows, np.inf))))
    with pytest.warns(UserWarning, match="NaN or inf"):
        ds = ClipDataset(clips, DatasetConfig("all"))
    assert bad.name not in ds.clip_names and len(ds.clip_names) == 3
