import os
import signal
import time

import pytest

from e2edrive.core.errors import UserError
from e2edrive.fleet.pool import imap_workers

_STATE = {}


def _init_ok(offset: int) -> None:
    _STATE["offset"] = offset


def _init_fails(_: int) -> None:
    raise UserError("no such scenario 'moon'")


def _square(x: int) -> int:
    return x * x + _STATE["offset"]


def _fails_on_3(x: int) -> int:
    if x == 3:
        raise ValueError(f"episode {x} failed")
    return x


def _dies_on_2(x: int) -> int:
    if x == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)
    return x


@pytest.mark.parametrize("workers", [1, 2])
def test_every_item_is_done_once_by_initialised_workers(workers):
    assert sorted(imap_workers(_init_ok, (10,), _square, range(6), workers)) == [10, 11, 14, 19, 26, 35]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_that_fails_to_start_stops_the_job_with_its_error(workers):
    start = time.perf_counter()
    with pytest.raises(UserError, match="moon"):
        list(imap_workers(_init_fails, (0,), _square, range(8), workers))
    assert time.perf_counter() - start < 30, "must not respawn failing workers forever"


def test_a_failing_item_stops_the_job_with_its_error():
    with pytest.raises(ValueError, match="episode 3 failed"):
        list(imap_workers(_init_ok, (0,), _fails_on_3, range(8), 2))


def test_a_worker_that_dies_stops_the_job():
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="worker process died"):
        list(imap_workers(_init_ok, (0,), _dies_on_2, range(8), 2))
    assert time.perf_counter() - start < 30


def test_an_unknown_engine_is_a_user_error():
    with pytest.raises(UserError, match="engine"):
        list(imap_workers(_init_ok, (0,), _square, range(2), 2, engine="slurm"))
