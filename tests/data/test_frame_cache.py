import shutil

import numpy as np

from e2edrive.data.clip import list_clips, read_video
from e2edrive.data.frame_cache import cache_path, cached_frames


def test_cache_matches_decode_and_is_memory_mapped(tiny_clips, tmp_path):
    clip = tmp_path / list_clips(tiny_clips)[0].name
    shutil.copytree(list_clips(tiny_clips)[0], clip)
    first = cached_frames(clip)
    assert cache_path(clip, "front").exists()
    again = cached_frames(clip)
    assert isinstance(again, np.memmap)
    assert np.array_equal(first, read_video(clip / "front.mp4")) and np.array_equal(first, again)
    assert list_clips(tmp_path) == [clip], "the cache directory is never taken for a clip"


def test_a_rewritten_video_gets_a_fresh_cache(tiny_clips, tmp_path):
    a, b = list_clips(tiny_clips)[:2]
    clip = tmp_path / a.name
    shutil.copytree(a, clip)
    old = cache_path(clip, "front")
    cached_frames(clip)
    shutil.copy(b / "front.mp4", clip / "front.mp4")
    assert cache_path(clip, "front") != old
    assert np.array_equal(cached_frames(clip), read_video(b / "front.mp4"))
