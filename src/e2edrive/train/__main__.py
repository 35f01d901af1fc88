"""`python -m e2edrive.train ...` (what torchrun starts on every rank) = `e2edrive train ...`.

A rank leaves through `os._exit` once its output is flushed, skipping the interpreter's finalization: torch
keeps the process group referenced after `destroy_process_group`, so gloo's threads are still alive there, and
CI once saw that abort a rank (SIGABRT, "terminate called without an active exception") which torchrun then
reported as a failed job. Every file the run writes is closed (and atomically renamed) before `train` returns."""

import os
import sys

from e2edrive.cli import main

if __name__ == "__main__":
    code = 0
    try:
        main(["train", *sys.argv[1:]])
    except SystemExit as exc:  # main always ends in sys.exit(int): 0, 2 for a user error, 130 when interrupted
        code = exc.code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
