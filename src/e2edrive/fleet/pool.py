"""Many cars at once: a pool of worker processes (or Ray actors) that each build their world once, then drive
the items (episode seeds) they are handed. Shared by fleet recording and closed-loop evaluation.

Fail-fast: a worker whose start-up (`init`) or whose item fails stops the whole job with that worker's own
exception (a UserError stays a UserError), and a worker that dies stops it with a clear error, instead of the
standard library pool's behaviour of respawning a worker that fails to start, forever.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

ENGINES = ("local", "ray")

_INIT_ERROR: list[BaseException] = []
"""The exception this worker process's init raised, re-raised by every item it is handed."""


def _guarded_init(init: Callable[..., None], args: tuple) -> None:
    try:
        init(*args)
    except Exception as exc:  # noqa: BLE001 - handed back to the parent with the first item
        _INIT_ERROR.append(exc)


def _guarded_work(work: Callable[[T], R], item: T) -> R:
    if _INIT_ERROR:
        raise _INIT_ERROR[0]
    return work(item)


def _stop(executor: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the worker processes now (they may be mid-episode)."""
    executor.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(executor, "_processes", None) or {}).values()):
        process.terminate()


def imap_workers(
    init: Callable[..., None],
    init_args: tuple,
    work: Callable[[T], R],
    items: Iterable[T],
    workers: int,
    engine: str = "local",
) -> Iterator[R]:
    """Yield work(item) for every item, in the order they finish, from `workers` processes that each ran
    init(*init_args) once. init and work must be module-level functions (they are pickled to the workers).

    engine: 'local' (spawned processes; a single worker or item runs in this process) or 'ray' (actors on a
    Ray cluster: RAY_ADDRESS or a local one; `pip install 'e2edrive[ray]'`)."""
    items = list(items)
    if engine not in ENGINES:
        from e2edrive.core.errors import UserError

        raise UserError(f"engine={engine!r}: expected one of {ENGINES}")
    if not items:
        return
    if engine == "ray":
        yield from _ray_imap(init, init_args, work, items, workers)
        return
    if workers <= 1 or len(items) == 1:
        init(*init_args)
        for item in items:
            yield work(item)
        return
    executor = ProcessPoolExecutor(
        min(workers, len(items)), get_context("spawn"), initializer=_guarded_init, initargs=(init, init_args)
    )
    try:
        pending = {executor.submit(_guarded_work, work, item): item for item in items}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                item = pending.pop(future)
                try:
                    yield future.result()
                except BrokenProcessPool as exc:
                    died = f"a worker process died while working on {item!r} (killed, or out of memory)"
                    raise RuntimeError(died) from exc
    finally:
        _stop(executor)


class _RayWorker:
    """One Ray actor = one worker process, set up by init exactly like a local pool worker."""

    def __init__(self, init: Callable[..., None], init_args: tuple) -> None:
        init(*init_args)

    def run(self, work: Callable[[Any], Any], item: Any) -> Any:
        return work(item)


def _ray_imap(init, init_args: tuple, work, items: list, workers: int) -> Iterator:
    """On several nodes, outputs must go to a filesystem every node sees (NFS, a mounted bucket)."""
    try:
        import ray
        from ray.util import ActorPool
    except ModuleNotFoundError as exc:
        from e2edrive.core.errors import UserError

        raise UserError("engine 'ray' needs Ray: pip install 'e2edrive[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=os.environ.get("RAY_ADDRESS"), include_dashboard=False, log_to_driver=False)
    actor = ray.remote(num_cpus=1)(_RayWorker)
    actors = [actor.remote(init, init_args) for _ in range(min(workers, len(items)))]
    try:
        yield from ActorPool(actors).map_unordered(lambda a, item: a.run.remote(work, item), items)
    finally:
        for a in actors:
            ray.kill(a)
