import numpy as np
import pytest
import torch

from e2edrive.core import io
from e2edrive.core.control import (
    ControllerConfig,
    FrameContext,
    plan_to_action,
    point_at_distance,
)
from e2edrive.core.errors import UserError
from e2edrive.data.dataset import ClipDataset, DatasetConfig
from e2edrive.model.config import ModelConfig
from e2edrive.model.net import DrivingNet, plan_loss


def test_output_shape_and_straight_prior():
    torch.manual_seed(0)
    model = DrivingNet().eval()
    frames = torch.zeros(io.frames_shape(2), dtype=torch.uint8)
    plan = model([frames], torch.tensor([[10.0], [20.0]]), torch.zeros(2, io.N_COMMANDS))
    assert plan.shape == (2, io.PLAN_LAYOUT.size)
    layout = io.PLAN_LAYOUT
    traj = plan[:, layout.trajectories].reshape(2, layout.hypotheses, io.TRAJECTORY_POINTS, 2)
    assert (traj[1, :, -1, 0] > traj[0, :, -1, 0]).all()  # faster car, longer path, in every hypothesis


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
    assert set(parts) == {"traj", "confidence", "steer", "accel", "aux"}
    assert all(torch.equal(batch[k], snapshot[k]) for k in batch), "the loss must not mutate the batch"


def test_pure_pursuit_steers_towards_the_path():
    straight = np.concatenate([np.stack([np.arange(1, 7) * 10.0, np.zeros(6)], -1).ravel(), [0.0, 0.5]])
    left = np.concatenate([np.stack([np.arange(1, 7) * 10.0, np.arange(1, 7) * 1.0], -1).ravel(), [0.0, -1.0]])
    heads = ControllerConfig(accel_from="controls", max_lateral_accel_mps2=0.0)  # the heads as they are
    a = plan_to_action(straight, 20.0, heads, layout=io.LEGACY_PLAN_LAYOUT)  # one trajectory, then the controls
    b = plan_to_action(left, 20.0, heads, layout=io.LEGACY_PLAN_LAYOUT)
    assert a.steer_rad == pytest.approx(0.0) and a.accel_mps2 == pytest.approx(0.5)
    assert b.steer_rad > 0.01 and b.accel_mps2 == pytest.approx(-1.0)
    # by default the trajectory sets the pace: 10 m every 0.5 s is 20 m/s held, whatever the controls head says
    assert plan_to_action(straight, 20.0, layout=io.LEGACY_PLAN_LAYOUT).accel_mps2 == pytest.approx(0.0, abs=1e-6)
    assert plan_to_action(straight, 25.0, layout=io.LEGACY_PLAN_LAYOUT).accel_mps2 < -1.0
    bad = plan_to_action(np.full(io.PLAN_LAYOUT.size, np.nan), 20.0)
    assert np.isfinite(bad.steer_rad) and np.isfinite(bad.accel_mps2)


def test_point_at_distance_interpolates_and_extrapolates():
    traj = np.array([[10.0, 0.0], [20.0, 0.0]])
    np.testing.assert_allclose(point_at_distance(traj, 5.0), [5.0, 0.0])
    np.testing.assert_allclose(point_at_distance(traj, 30.0), [30.0, 0.0])


def test_frame_context_orders_oldest_first_and_resets():
    ctx = FrameContext()
    frames = [np.full((io.IMAGE_HEIGHT_PX, io.IMAGE_WIDTH_PX, 3), i, np.uint8) for i in range(20)]
    out = None
    for f in frames:
        out = ctx.push(f)
    assert [int(out[k, 0, 0, 0]) for k in range(io.CONTEXT_FRAMES)] == [19 + o for o in io.CONTEXT_OFFSETS_FRAMES]
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
    assert model([front, wide], torch.ones(2, 1), torch.zeros(2, io.N_COMMANDS)).shape == (2, io.PLAN_LAYOUT.size)
    assert ModelConfig.from_json(config.to_json()) == config
    old = {k: v for k, v in ModelConfig().to_json().items() if k not in ("cameras", "context_offsets_frames")}
    assert ModelConfig.from_json(old) == ModelConfig(context_offsets_frames=io.LEGACY_CONTEXT_OFFSETS_FRAMES), (
        "configs saved before cameras and context were named read as front, (-4, -2, 0)"
    )
    newer = config.to_json()
    newer["plan"] = {**newer["plan"], "stop_hypotheses": 1}
    with pytest.raises(UserError, match="stop_hypotheses"):  # misread outputs would drive without an error
        ModelConfig.from_json(newer)
    with pytest.raises(UserError, match="newer version"):
        ModelConfig.from_json({**config.to_json(), "some_future_field": 1})


def test_early_fusion_feeds_the_context_frames_to_the_stem_together():
    config = ModelConfig(fusion="early")
    model = DrivingNet(config).eval()
    assert model.encoder[0][0].in_channels == io.IMAGE_CHANNELS * config.context_frames
    assert DrivingNet().encoder[0][0].in_channels == io.IMAGE_CHANNELS
    frames = torch.randint(0, 255, io.frames_shape(2), dtype=torch.uint8)
    speed, command = torch.ones(2, 1), torch.zeros(2, io.N_COMMANDS)
    plan = model([frames], speed, command)
    assert plan.shape == (2, io.PLAN_LAYOUT.size)
    assert not torch.allclose(plan, model([frames.flip(1)], speed, command)), "the frames' order reaches the plan"
    assert ModelConfig.from_json(config.to_json()) == config
    old = {k: v for k, v in ModelConfig().to_json().items() if k != "fusion"}
    assert ModelConfig.from_json(old).fusion == "late", "configs saved before the option read as late fusion"
    with pytest.raises(UserError, match="fusion='mid'"):
        ModelConfig(fusion="mid")


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
    assert one["activation_memory_batch1"]["saved_for_backward_bytes"] > 0 and one["context_s"] == 1.0


def test_trajectory_points_a_push_moved_teach_nothing():
    layout = io.PLAN_LAYOUT
    b, p = 3, io.TRAJECTORY_POINTS
    torch.manual_seed(0)
    plan = torch.randn(b, layout.size)
    target = torch.randn(b, p, 2)
    known = torch.ones(b, p, dtype=torch.bool)
    known[0, 3:] = False  # sample 0: pushed from its fourth point on
    known[1] = False  # sample 1: pushed from the start, no path label at all
    batch = {"trajectory": target, "trajectory_known": known, "controls": torch.zeros(b, 2)}
    batch["aux"] = torch.full((b, len(io.AUX_NAMES)), float("nan"))
    moved = {**batch, "trajectory": target.clone()}
    moved["trajectory"][0, 3:] += 50.0
    moved["trajectory"][1] -= 50.0
    assert plan_loss(plan, moved, layout)[1] == pytest.approx(plan_loss(plan, batch, layout)[1])
    only_labelled = {k: v[[0, 2]] for k, v in batch.items()}
    assert plan_loss(plan, batch, layout)[1]["traj"] == pytest.approx(
        plan_loss(plan[[0, 2]], only_labelled, layout)[1]["traj"]
    )
    everything = {k: v for k, v in batch.items() if k != "trajectory_known"}
    assert plan_loss(plan, everything, layout)[1] != plan_loss(plan, batch, layout)[1], "no mask: every point counts"


def test_the_controls_head_is_taught_only_what_moves_the_car():
    from e2edrive.core.policy import MAX_ACCEL_MPS2
    from e2edrive.model.net import STEER_LABEL_MIN_SPEED_MPS, STEER_LOSS_SCALE_RAD

    layout = io.PLAN_LAYOUT
    b = 4
    plan = torch.zeros(b, layout.size, requires_grad=True)
    lock, bend = 1.0, 2 * STEER_LOSS_SCALE_RAD  # the lock at a standstill; a bend while moving
    batch = {
        "trajectory": torch.zeros(b, io.TRAJECTORY_POINTS, 2),
        "controls": torch.tensor([[lock, 0.0], [lock, 0.0], [bend, 0.0], [bend, 0.0]]),
        "aux": torch.full((b, len(io.AUX_NAMES)), float("nan")),
        "speed_mps": torch.tensor([[0.0], [STEER_LABEL_MIN_SPEED_MPS - 0.1], [STEER_LABEL_MIN_SPEED_MPS], [20.0]]),
    }
    loss, parts = plan_loss(plan, batch, layout)
    loss.backward()
    steer_grad = plan.grad[:, layout.control][:, 0]
    assert (steer_grad[:2] == 0).all() and (steer_grad[2:] != 0).all(), "standing or creeping: no steering label"
    assert parts["steer"] == pytest.approx(1.5)  # smooth-L1 of 2 loss scales, over the two moving samples
    unknown_speed = {k: v for k, v in batch.items() if k != "speed_mps"}
    lock_loss = lock / STEER_LOSS_SCALE_RAD - 0.5
    assert plan_loss(plan, unknown_speed, layout)[1]["steer"] == pytest.approx((2 * lock_loss + 2 * 1.5) / 4)
    hard_stop = {**batch, "controls": torch.tensor([[0.0, -90.0], [0.0, -MAX_ACCEL_MPS2], [0.0, 0.0], [0.0, 0.0]])}
    at_the_limit = {**hard_stop, "controls": hard_stop["controls"].clamp(min=-MAX_ACCEL_MPS2)}
    assert plan_loss(plan, hard_stop, layout)[1]["accel"] == pytest.approx(
        plan_loss(plan, at_the_limit, layout)[1]["accel"]
    ), "an acceleration beyond the car's limit is taught as the limit"


def test_winner_takes_all_pulls_only_the_closest_hypothesis_and_teaches_the_confidence():
    layout = io.PLAN_LAYOUT
    b, k, p = 4, layout.hypotheses, io.TRAJECTORY_POINTS
    target = torch.randn(b, p, 2)
    trajs = torch.stack([target + 5.0, target + 0.1, target - 7.0], dim=1)  # hypothesis 1 is closest
    plan = torch.zeros(b, layout.size)
    plan[:, layout.trajectories] = trajs.reshape(b, -1)
    plan.requires_grad_(True)
    batch = {
        "trajectory": target,
        "controls": torch.zeros(b, 2),
        "aux": torch.full((b, len(io.AUX_NAMES)), float("nan")),
    }
    batch["aux"][0, io.AUX_NAMES.index("lane_offset_m")] = 0.3
    loss, parts = plan_loss(plan, batch, layout)
    loss.backward()
    grad = plan.grad[:, layout.trajectories].reshape(b, k, p, 2).abs().sum(dim=(2, 3))
    assert (grad[:, 1] > 0).all() and (grad[:, [0, 2]] == 0).all(), "only the winner moves"
    assert parts["confidence"] == pytest.approx(float(np.log(k)), rel=1e-5)  # uniform logits, winner 1
    aux_grad = plan.grad[:, layout.aux_values]
    assert aux_grad[0].abs().sum() > 0 and aux_grad[1:].abs().sum() == 0, "missing labels are masked"
    trajectory, controls = layout.split(
        np.concatenate([plan[0].detach().numpy()[: layout.confidences.start], [0, 9, 0], np.zeros(2 + len(layout.aux))])
    )
    assert np.allclose(trajectory, trajs[0, 1].numpy()), "the most confident hypothesis drives"


def test_a_legacy_one_trajectory_model_keeps_its_layout():
    from e2edrive.model.config import ModelConfig as MC

    old = {k: v for k, v in MC().to_json().items() if k != "plan"}
    config = MC.from_json(old)
    assert config.plan == io.LEGACY_PLAN_LAYOUT and DrivingNet(config)(
        [torch.zeros(io.frames_shape(1), dtype=torch.uint8)], torch.ones(1, 1), torch.zeros(1, io.N_COMMANDS)
    ).shape == (1, 14)


def test_the_yield_decision_is_a_yes_no_head_learned_with_cross_entropy():
    layout = io.PlanLayout(aux=io.AUX_NAMES)
    column = io.AUX_NAMES.index("expert_yielding")
    assert "expert_yielding" in io.AUX_BINARY and "expert_yielding" not in io.PLAN_LAYOUT.aux, "opt-in"
    b = 3
    plan = torch.zeros(b, layout.size, requires_grad=True)
    aux = torch.full((b, len(io.AUX_NAMES)), float("nan"))
    aux[0, column], aux[1, column] = 1.0, 0.0  # sample 2: no expert in its clip (a real log)
    batch = {"trajectory": torch.zeros(b, io.TRAJECTORY_POINTS, 2), "controls": torch.zeros(b, 2), "aux": aux}
    loss, parts = plan_loss(plan, batch, layout)
    assert parts["aux_binary"] == pytest.approx(float(np.log(2)), rel=1e-5), "a logit of 0 is p = 0.5 on both"
    assert parts["aux"] == 0.0, "no regression label known"
    loss.backward()
    grad = plan.grad[:, layout.aux_values][:, layout.aux.index("expert_yielding")]
    assert grad[0] < 0 < grad[1] and grad[2] == 0, "towards yes, towards no, nothing where unknown"
    values = np.zeros(layout.size, np.float32)
    values[layout.aux_values.start + layout.aux.index("expert_yielding")] = 2.0
    values[layout.aux_values.start + layout.aux.index("lane_offset_m")] = 2.0
    read = layout.aux_of(values)
    assert read["expert_yielding"] == pytest.approx(1 / (1 + np.exp(-2.0))) and read["lane_offset_m"] == 2.0
