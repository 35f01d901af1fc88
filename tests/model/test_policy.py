import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.core.control import plan_to_action
from e2edrive.core.policy import Observation
from e2edrive.model.policy import TorchPolicy


@pytest.fixture(scope="module")
def policy(untrained_run):
    return TorchPolicy(untrained_run)


def _obs(value: int, speed_mps: float = 20.0, command: str = "follow") -> Observation:
    frame = np.full((io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3), value, np.uint8)
    # a second camera and simulator state must be ignored: the policy reads only the front camera
    other = np.full_like(frame, 255 - value)
    return Observation({"front": frame, "left": other}, speed_mps, command, 0.0, state=object())


def test_act_is_pure_pursuit_on_the_network_plan(policy):
    policy.reset(0)
    obs = _obs(90)
    action = policy.act(obs)
    assert action == plan_to_action(policy.last_plan, obs.speed_mps, policy.controller)
    assert policy.last_plan.shape == (io.PLAN_LAYOUT.size,)


def test_plan_equals_the_network_on_the_stacked_context(policy):
    policy.reset(0)
    values = list(range(10, 230, 20))  # 11 frames: the context reaches 10 back
    for v in values:
        plan = policy.plan(_obs(v, command="left"))
    stack = np.stack(
        [
            np.full((3, io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX), values[-1 + o], np.uint8)
            for o in io.CONTEXT_OFFSETS_FRAMES
        ]
    )
    with torch.no_grad():
        expected = policy.model(
            [torch.from_numpy(stack[None])], torch.tensor([[20.0]]), torch.from_numpy(io.command_one_hot("left")[None])
        )[0].numpy()
    np.testing.assert_allclose(plan, expected, rtol=0, atol=1e-6)


def test_reset_forgets_the_last_episode(policy):
    policy.reset(0)
    fresh = policy.plan(_obs(200)).copy()
    policy.reset(1)
    for v in (10, 40, 70):
        policy.plan(_obs(v))
    policy.reset(2)
    np.testing.assert_allclose(policy.plan(_obs(200)), fresh, atol=1e-6)


def test_the_command_changes_the_plan(policy):
    policy.reset(0)
    a = policy.plan(_obs(120, command="follow")).copy()
    policy.reset(0)
    b = policy.plan(_obs(120, command="right")).copy()
    assert np.abs(a - b).max() > 1e-4
