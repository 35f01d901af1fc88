"""`e2edrive train --nproc N [--nnodes M --node-rank R --master-addr A]`: the same training command, started
through torchrun (`torch.distributed.run`) once per process. Equivalent by hand:

    torchrun --nproc-per-node N -m e2edrive.train --data DIR --out RUN ...
"""

from __future__ import annotations

import subprocess
import sys


def torchrun(args: list[str], nproc: int, nnodes: int, node_rank: int, master_addr: str, master_port: int) -> int:
    """Run `python -m torch.distributed.run ... -m e2edrive.train ARGS` (ARGS: the training options without
    the launch ones); returns its exit code."""
    launch = [sys.executable, "-m", "torch.distributed.run", f"--nproc-per-node={nproc}"]
    if nnodes == 1:
        launch.append("--standalone")
    else:
        launch += [f"--nnodes={nnodes}", f"--node-rank={node_rank}"]
        launch += [f"--master-addr={master_addr}", f"--master-port={master_port}"]
    return subprocess.call([*launch, "-m", "e2edrive.train", *args])
