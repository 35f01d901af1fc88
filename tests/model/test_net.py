import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.core.control import FrameContext, plan_to_action, point_at_distance
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.model.config import ModelConfig
from e2edrive.model.net import DrivingNet, plan_loss


def test_output_shape_and_straight_prior():
    torch.manual_seed(0)
    model = DrivingNet().eval()
    frames = torch.zeros(io.frames_shape(2), dtype=torch.uint8)
    plan = model([frames], torch.tensor([[10.0], [20.0]]), torch.zeros(2, io.N_COMMANDS))
    assert plan.shape == (2, io.PLAN_SIZE)
    traj = plan[:, io.TRAJECTORY].reshape(2, io.TRAJECTORY_POINTS, 2)
    assert traj[1, -1, 0] > traj[0, -1, 0]  # faster car, longer path


def test_training_steps_lower_the_loss_on_a_tiny_set(tiny_clips):
    torch.manual_seed(0)
    ds = ClipDataset(tiny_clips, DatasetConfig("all"))
    model = DrivingNet(ModelConfig(dropout=0.0))
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    batch = ds.batch(torch.arange(0, len(ds), max(1, len(ds) // 32)))
    batch.pop("frames")["front"]
    batch["frames"] = ds.batch(torch.arange(0, len(ds), max(1, len(ds) // 32)))["frames"]["front"].contiguous()
    snapshot = {k: v.clone() for k, v in batch.items()}
    losses = []
    for _ in range(40):
        loss, parts = plan_loss(model([batch["frames"]], batch["speed_mps"], batch["command"]), batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * losses[0], losses
    assert set(parts) == {"traj", "steer", "accel"}
    assert all(torch.equal(batch[k], snapshot[k]) for k in batch), "the loss must not mutate the batch"


def test_pure_pursuit_steers_towards_the_path():
    straight = np.concatenate([np.stack([np.arange(1, 7) * 10.0, np.zeros(6)], -1).ravel(), [0.0, 0.5]])
    left = np.concatenate([np.stack([np.arange(1, 7) * 10.0, np.arange(1, 7) * 1.0], -1).ravel(), [0.0, -1.0]])
    a = plan_to_action(straight, 20.0)
    b = plan_to_action(left, 20.0)
    assert a.steer_rad == pytest.approx(0.0) and a.accel_mps2 == pytest.approx(0.5)
    assert b.steer_rad > 0.01 and b.accel_mps2 == pytest.approx(-1.0)
    bad = plan_to_action(np.full(io.PLAN_SIZE, np.nan), 20.0)
    assert np.isfinite(bad.steer_rad) and np.isfinite(bad.accel_mps2)


def test_point_at_distance_interpolates_and_extrapolates():
    traj = np.array([[10.0, 0.0], [20.0, 0.0]])
    np.testing.assert_allclose(point_at_distance(traj, 5.0), [5.0, 0.0])
    np.testing.assert_allclose(point_at_distance(traj, 30.0), [30.0, 0.0])


def test_frame_context_orders_oldest_first_and_resets():
    ctx = FrameContext()
    frames = [np.full((io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3), i, np.uint8) for i in range(10)]
    out = None
    for f in frames:
        out = ctx.push(f)
    assert [int(out[k, 0, 0, 0]) for k in range(io.CONTEXT_FRAMES)] == [9 + o for o in io.CONTEXT_OFFSETS_FRAMES]
    ctx.reset()
    out = ctx.push(frames[3])
    assert np.all(out == 3)
    with pytest.raises(ValueError):
        ctx.push(np.zeros((10, 10, 3), np.uint8))


def test_config_rejects_a_stem_that_does_not_divide_the_image():
    with pytest.raises(ValueError, match="stem_patch_px=7"):
        ModelConfig(stem_patch_px=7)
    assert ModelConfig().feature_hw(ModelConfig().cameras[0]) == (6, 10)


def test_a_model_reads_the_cameras_and_context_its_config_names():
    from e2edrive.model.config import CameraInput

    config = ModelConfig(
        cameras=(CameraInput("front"), CameraInput("front_wide", 96, 192)), context_offsets_frames=(-2, 0)
    )
    model = DrivingNet(config).eval()
    front = torch.zeros(io.frames_shape(2, 2), dtype=torch.uint8)
    wide = torch.zeros(io.frames_shape(2, 2, 96, 192), dtype=torch.uint8)
    assert model([front, wide], torch.ones(2, 1), torch.zeros(2, io.N_COMMANDS)).shape == (2, io.PLAN_SIZE)
    assert ModelConfig.from_json(config.to_json()) == config
    old = {k: v for k, v in ModelConfig().to_json().items() if k not in ("cameras", "context_offsets_frames")}
    assert ModelConfig.from_json(old) == ModelConfig(), "configs saved before cameras were named read as front"


def test_model_info_counts_parameters_flops_per_camera_and_activations():
    from e2edrive.model.config import CameraInput
    from e2edrive.model.info import model_info

    one = model_info(DrivingNet())
    assert (
        one["parameters"]
        == sum(one["parameters_by_part"].values())
        == sum(p.numel() for p in DrivingNet().parameters())
    )
    assert one["flops_per_sample"] == sum(one["flops_per_sample_by_part"].values())
    # first conv: 4x4 patches of 3 channels into 32, on a 24x40 map, per context frame: 2 FLOPs a multiply-add
    stem = 2 * (4 * 4 * 3) * 32 * 24 * 40 * io.CONTEXT_FRAMES
    assert one["flops_per_sample_by_part"]["encoder"] > stem
    two = model_info(DrivingNet(ModelConfig(cameras=(CameraInput("front"), CameraInput("rear")))))
    assert two["flops_per_sample_by_camera"]["rear"] == one["flops_per_sample_by_camera"]["front"]
    assert two["flops_per_sample"] > 1.9 * one["flops_per_sample_by_camera"]["front"]
    assert one["activation_memory_batch1"]["saved_for_backward_bytes"] > 0 and one["context_s"] == 0.4
