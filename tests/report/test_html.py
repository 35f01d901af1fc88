import json
import re
import shutil
import subprocess

import pytest

from e2edrive.core.errors import UserError
from e2edrive.evaluate.bench import BenchConfig, bench_drive
from e2edrive.report.html import MEDIA_CHECK_ID, write_html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HEADLESS = ["--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files", "--hide-scrollbars"]


@pytest.fixture(scope="module")
def report(tmp_path_factory, untrained_onnx):
    root = tmp_path_factory.mktemp("report")
    config = BenchConfig(
        ("expert", "rules", str(untrained_onnx)), "highway,roundabout", 2, 100_000, 2, {"duration": 4.0}
    )
    bench_drive(config, root / "bench", progress=False)
    return write_html_report(root / "bench", root / "report", workers=2)


def test_the_page_is_static_and_has_a_row_per_policy_and_scenario(report):
    page = report.read_text()
    assert "http://" not in page and "https://" not in page, "nothing fetched from the network"
    table = re.search(r'<table id="leaderboard">.*?</table>', page, re.S).group(0)
    assert table.count("<tr>") == 1 + 3 * 2
    for src in re.findall(r'src=["\']([^"\']+)["\']', page):
        assert (report.parent / src).is_file(), src
    assert len(re.findall(r"<video ", page)) == 3 * 2, "best and worst drive of every policy"


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium here (.ci/run installs Debian's chromium with apt)")
def test_every_image_and_video_loads_in_a_real_browser(report):
    url = report.resolve().as_uri()
    dom = subprocess.run(
        [CHROMIUM, *HEADLESS, "--virtual-time-budget=20000", "--dump-dom", url],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    check = json.loads(re.search(rf'id="{MEDIA_CHECK_ID}">([^<]*)<', dom).group(1))
    assert check["images"] >= 1 and check["images_ok"] == check["images"], check
    assert check["videos"] == 6 and check["videos_ok"] == 6, check
    assert dom.count("<tr>") >= 1 + 3 * 2
    shot = report.parent / "screenshot.png"
    subprocess.run(
        [CHROMIUM, *HEADLESS, "--virtual-time-budget=20000", "--window-size=1200,2400", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=120,
    )
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")


def test_an_empty_or_foreign_directory_is_refused_and_nothing_is_written(tmp_path):
    (tmp_path / "empty").mkdir()
    for source in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(UserError, match="bench"):
            write_html_report(source, tmp_path / "out")
        assert not (tmp_path / "out").exists()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "bench.json").write_text('{"something": 1}')
    with pytest.raises(UserError, match="not a bench-drive result"):
        write_html_report(tmp_path / "foreign", tmp_path / "out")
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
