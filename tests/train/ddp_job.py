"""A tiny training job for the DDP tests: `torchrun --nproc-per-node 2 ddp_job.py DATA RUN ACCUMULATE`, or
`python ddp_job.py ...` for one process. fp32 and no dropout, so N processes and one process accumulating N
micro-batches compute the same global batches (what is left: the order of floating-point sums)."""

import sys

from e2edrive.model.config import ModelConfig
from e2edrive.train.config import TrainConfig
from e2edrive.train.loop import train

if __name__ == "__main__":
    data, run, accumulate = sys.argv[1], sys.argv[2], int(sys.argv[3])
    config = TrainConfig(
        minutes=None,
        max_steps=4,
        batch_size=4,
        accumulate=accumulate,
        bf16=False,
        workers=0,
        val_batches=2,
        warmup_steps=1,
        model=ModelConfig(dropout=0.0),
    )
    train(data, run, config, progress=False)
