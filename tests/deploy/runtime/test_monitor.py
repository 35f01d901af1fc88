import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2edrive.core.policy import Action
from e2edrive.deploy.runtime.monitor import LeadEstimate, MonitorConfig, SafetyMonitor

DT_S = 0.05
EPS = 1e-9
wild = st.floats(allow_nan=True, allow_infinity=True, width=64)
commands = st.one_of(st.none(), st.builds(Action, wild, wild))
leads = st.one_of(
    st.none(),
    st.builds(LeadEstimate, st.floats(0.0, 300.0), st.floats(-40.0, 40.0)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(commands, leads), min_size=1, max_size=60))
def test_every_command_is_within_limits_and_rate_limits(sequence):
    c = MonitorConfig()
    monitor = SafetyMonitor(c)
    last = Action(0.0, 0.0)
    for command, lead in sequence:
        out = monitor.filter(command, DT_S, lead)
        a = out.action
        assert math.isfinite(a.steer_rad) and math.isfinite(a.accel_mps2)
        assert -c.max_steer_rad - EPS <= a.steer_rad <= c.max_steer_rad + EPS
        assert c.min_accel_mps2 - EPS <= a.accel_mps2 <= c.max_accel_mps2 + EPS
        assert abs(a.steer_rad - last.steer_rad) <= c.max_steer_rate_radps * DT_S + EPS
        rise = a.accel_mps2 - last.accel_mps2
        assert rise <= c.max_jerk_mps3 * DT_S + EPS
        if "emergency_brake" not in out.interventions:
            assert -rise <= c.max_jerk_mps3 * DT_S + EPS
        last = a


def test_missing_output_holds_once_then_brakes_gently():
    monitor = SafetyMonitor()
    for _ in range(40):
        monitor.filter(Action(0.0, 1.0), DT_S)
    held = monitor.filter(None, DT_S)
    assert held.action.accel_mps2 == pytest.approx(1.0) and "missing_output" in held.interventions
    outs = [monitor.filter(None, DT_S).action.accel_mps2 for _ in range(20)]
    assert outs[0] < 1.0 and outs[-1] == pytest.approx(MonitorConfig().fallback_decel_mps2)


def test_nan_is_replaced_and_reported():
    out = SafetyMonitor().filter(Action(float("nan"), 0.5), DT_S)
    assert "non_finite_output" in out.interventions
    assert math.isfinite(out.action.steer_rad)


def test_emergency_brake_on_short_time_to_collision():
    monitor = SafetyMonitor()
    out = monitor.filter(Action(0.0, 1.0), DT_S, LeadEstimate(distance_m=10.0, closing_speed_mps=10.0))
    assert "emergency_brake" in out.interventions
    assert out.action.accel_mps2 == pytest.approx(MonitorConfig().emergency_decel_mps2)
    calm = SafetyMonitor().filter(Action(0.0, 0.1), DT_S, LeadEstimate(distance_m=80.0, closing_speed_mps=2.0))
    assert calm.interventions == []


def test_bad_limits_are_named():
    with pytest.raises(ValueError, match="fallback_decel_mps2"):
        MonitorConfig(fallback_decel_mps2=1.0)
