import json
import shutil

import pytest

from e2edrive.core.control import ControllerConfig
from e2edrive.core.errors import UserError
from e2edrive.deploy.export import export_onnx
from e2edrive.deploy.runtime.onnx_policy import OnnxPolicy
from e2edrive.model.policy import TorchPolicy
from e2edrive.policies import check_policy_spec, make_policy, policy_cameras, policy_controller
from e2edrive.sim.drivers.expert import ExpertPolicy
from e2edrive.sim.drivers.oracle import OraclePickPolicy
from e2edrive.sim.drivers.rules import RulesPolicy


@pytest.fixture(scope="module")
def run_dir(untrained_run):
    return untrained_run


def test_each_spec_builds_its_policy(run_dir, tmp_path):
    export_onnx(run_dir, tmp_path / "model.onnx")
    assert isinstance(make_policy("expert"), ExpertPolicy) and make_policy("expert").privileged
    blind_to_routes = make_policy("expert-no-routes")
    assert isinstance(blind_to_routes, ExpertPolicy) and blind_to_routes.privileged and not blind_to_routes.knows_routes
    assert isinstance(make_policy("rules"), RulesPolicy) and not make_policy("rules").privileged
    assert isinstance(make_policy(str(run_dir)), TorchPolicy)
    assert isinstance(make_policy(str(tmp_path / "model.onnx")), OnnxPolicy)
    specs = ("expert", "expert-no-routes", "rules", str(run_dir))
    assert [policy_cameras(s) for s in specs] == [(), (), ("front",), ("front",)]
    assert policy_cameras(str(tmp_path / "model.onnx")) == ("front",)
    pick = make_policy(f"oracle-pick:{run_dir}")
    assert isinstance(pick, OraclePickPolicy) and pick.privileged
    assert policy_cameras(f"oracle-pick:{run_dir}") == ("front",)


def test_a_bad_spec_is_a_user_error_naming_what_was_expected(tmp_path):
    with pytest.raises(UserError, match="not a training run: expected model.safetensors and config.json"):
        check_policy_spec(str(tmp_path))
    with pytest.raises(UserError, match="neither 'expert' nor 'expert-no-routes' nor 'rules'"):
        make_policy(str(tmp_path / "no_such_run"))
    with pytest.raises(UserError, match="no such ONNX file"):
        make_policy(str(tmp_path / "missing.onnx"))
    with pytest.raises(UserError, match="oracle-pick: takes a training run directory"):
        check_policy_spec("oracle-pick:expert")
    (tmp_path / "fake.onnx").write_text("not a model")
    with pytest.raises(UserError, match="is not a loadable ONNX model"):
        make_policy(str(tmp_path / "fake.onnx"))


def test_a_network_drives_with_the_controller_its_run_records_through_its_export_unless_told(run_dir, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(run_dir, run)
    saved = json.loads((run / "config.json").read_text())
    controls = ControllerConfig(accel_from="controls", max_lateral_accel_mps2=5.0)
    (run / "config.json").write_text(json.dumps(saved | {"controller": controls.to_json()}))
    export_onnx(run, tmp_path / "model.onnx")
    for spec in (str(run), str(tmp_path / "model.onnx"), f"oracle-pick:{run}"):
        assert make_policy(spec).controller == controls == policy_controller(spec), spec
        told = {"accel_from": "trajectory"}
        trajectory = ControllerConfig(accel_from="trajectory", max_lateral_accel_mps2=5.0)
        assert make_policy(spec, told).controller == trajectory
        assert policy_controller(spec, told) == make_policy(spec, told).controller
    assert make_policy(str(run_dir)).controller == ControllerConfig(), "a run saved before the controller: defaults"
    assert policy_controller("oracle", {"accel_from": "controls"}) == ControllerConfig(accel_from="controls")
    assert policy_controller("expert") is None and policy_controller("rules") is None
    with pytest.raises(UserError, match="accel_from='sideways'"):
        make_policy(str(run), {"accel_from": "sideways"})
