from dataclasses import fields, replace

import pytest

from e2edrive.core.errors import UserError
from e2edrive.train.plan import PlanConfig, plan, sources


def test_the_arithmetic_from_fleet_hours_to_gpu_days_cost_and_car_tops():
    config = PlanConfig(fleet_cars=100, hours_per_car_per_day=2, days=10, cameras=4, fps=10, epochs=2, gpus=8)
    config = replace(config, gpu_peak_tflops=1000, mfu=0.5, gpu_power_w=500, pue=1.0, electricity_usd_per_kwh=0.1)
    config = replace(config, gpu_price_usd=8760 * 4, gpu_life_years=4, car_tops=10, car_utilisation=0.5)
    r = plan(config, flops_per_camera=1e9, flops_head=1e8)
    assert r["flops_per_sample"] == 4.1e9
    assert r["samples"] == 100 * 2 * 10 * 3600 * 10  # 7.2e7 instants
    assert r["train_flops"] == pytest.approx(7.2e7 * 4.1e9 * 3 * 2)
    assert r["gpu_hours"] == pytest.approx(r["train_flops"] / (1000e12 * 0.5) / 3600)
    assert r["training_days"] == pytest.approx(r["gpu_hours"] / 8 / 24)
    assert r["cost_breakdown_usd"]["gpu_write_off"] == pytest.approx(r["gpu_hours"] * 1.0)  # $1 per GPU-hour
    assert r["energy_mwh"] == pytest.approx(r["gpu_hours"] * 0.5 / 1000)
    assert r["car_tops_needed"] == pytest.approx(4.1e10 / 1e12)
    assert r["car_headroom"] == pytest.approx(5 / 0.041)


def test_doubling_the_gpus_at_fixed_mfu_halves_the_days_and_keeps_the_gpu_hours():
    one, two = (plan(PlanConfig(gpus=g), 1e8, 1e6) for g in (10_000, 20_000))
    assert two["training_days"] == pytest.approx(one["training_days"] / 2)
    assert two["gpu_hours"] == one["gpu_hours"] and two["cost_usd"] == one["cost_usd"]


def test_every_assumption_has_its_source_and_bad_values_are_refused():
    assert set(sources()) == {f.name for f in fields(PlanConfig)}
    assert "989" in sources()["gpu_peak_tflops"] and "$500M" in sources()["gpu_price_usd"]
    with pytest.raises(UserError, match="mfu"):
        PlanConfig(mfu=1.5)
