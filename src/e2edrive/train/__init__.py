"""Training: the loop, distributed setup, checkpoints, logs, the torchrun launcher and the compute planner."""
