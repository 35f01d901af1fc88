import pytest

from e2edrive.core.errors import UserError
from e2edrive.sim.overrides import parse_overrides
from e2edrive.sim.scenarios import get_scenario, scenario_overrides


def test_values_parse_as_json_else_strings():
    assert parse_overrides(["vehicles_density=1.5", "lanes_count=3", "name=x", "flag=true"]) == {
        "vehicles_density": 1.5,
        "lanes_count": 3,
        "name": "x",
        "flag": True,
    }
    with pytest.raises(UserError, match="KEY=VALUE"):
        parse_overrides(["vehicles_density"])


def test_overrides_are_checked_against_the_scenarios_config():
    highway = get_scenario("highway")
    assert scenario_overrides(highway, {"vehicles_density": 2, "duration": 4.0}) == {
        "vehicles_density": 2,
        "duration": 4.0,
    }
    with pytest.raises(UserError, match=r'vehicles_density="abc": expected a number'):
        scenario_overrides(highway, parse_overrides(["vehicles_density=abc"]))
    with pytest.raises(UserError, match="no such key in highway's config"):
        scenario_overrides(highway, {"vehicle_density": 2.0})
    with pytest.raises(UserError, match="expected true or false"):
        scenario_overrides(highway, {"offroad_terminal": 1})
    # a key only the intersection has
    assert scenario_overrides(get_scenario("intersection"), {"spawn_probability": 0.1})
    with pytest.raises(UserError, match="no such key"):
        scenario_overrides(highway, {"spawn_probability": 0.1})
