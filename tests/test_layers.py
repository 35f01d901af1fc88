"""The import layers, stated once and checked on every module (lazy imports inside functions included):

- core/ imports nothing of the package and nothing but numpy and the standard library;
- sim/ and data/ never import train, evaluate, deploy or report;
- deploy/runtime/ (what the car installs) reaches, through every import chain, only core, itself and the clip
  reader and triggers that shadow mode replays, and no third-party module but numpy, onnxruntime, PyAV,
  Pillow and pyarrow;
- the command line and the runtime load with torch, highway-env, Panda3D and the other extras blocked.
"""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import e2edrive

PACKAGE = Path(e2edrive.__file__).parent
STDLIB = set(sys.stdlib_module_names) | {"__future__"}
RUNTIME_ALLOWED = ("e2edrive.core", "e2edrive.deploy.runtime", "e2edrive.data.clip", "e2edrive.data.triggers")
RUNTIME_THIRD_PARTY = {"numpy", "onnxruntime", "av", "PIL", "pyarrow"}
EXTRAS_MODULES = ("torch", "highway_env", "gymnasium", "panda3d", "matplotlib", "duckdb", "safetensors", "onnx", "ray")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module an import statement in the file names (absolute; relative imports resolved)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_name(path).split(".")
                base = base[: len(base) - node.level + (path.name == "__init__.py")]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module
            out.add(prefix)
            # `from e2edrive.core import io` imports the submodule e2edrive.core.io
            out |= {
                f"{prefix}.{a.name}"
                for a in node.names
                if (PACKAGE.parent / (prefix + "." + a.name).replace(".", "/")).with_suffix(".py").exists()
            }
    return out


MODULES = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def internal(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] == "e2edrive" and n != "e2edrive"}


def third_party(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names if n.split(".")[0] not in STDLIB and n.split(".")[0] != "e2edrive"}


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def closure(start: str) -> set[str]:
    """Every package module reachable from start by imports (parent packages' __init__ included)."""
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in seen or name not in MODULES:
            continue
        seen.add(name)
        parents = [".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 1)]
        todo += [*internal(MODULES[name]), *parents]
    return seen


def test_the_module_table_is_complete():
    assert "e2edrive.core.policy" in MODULES and "e2edrive.deploy.runtime.loop" in MODULES
    assert len(MODULES) > 60


@pytest.mark.parametrize("name", sorted(n for n in MODULES if within(n, ["e2edrive.core"])))
def test_core_imports_only_numpy_and_the_standard_library(name):
    assert {n for n in internal(MODULES[name]) if not within(n, ["e2edrive.core"])} == set()
    assert third_party(MODULES[name]) <= {"numpy"}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if within(n, ["e2edrive.sim", "e2edrive.data"])))
def test_sim_and_data_never_import_later_stages(name):
    later = ["e2edrive.train", "e2edrive.evaluate", "e2edrive.deploy", "e2edrive.report"]
    assert {n for n in internal(MODULES[name]) if within(n, later)} == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if within(n, ["e2edrive.deploy.runtime"])))
def test_runtime_reaches_only_core_the_clip_reader_and_its_own_modules(name):
    reach = closure(name)
    assert {
        n for n in reach if not within(n, RUNTIME_ALLOWED) and n not in ("e2edrive.deploy", "e2edrive.data")
    } == set()
    assert set().union(*(third_party(MODULES[n]) for n in reach)) <= RUNTIME_THIRD_PARTY


def test_the_rule_catches_a_violation(tmp_path):
    """The checks above are not vacuous: a module that imports sim is reported."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from e2edrive.sim.world import World\n    import torch\n")
    assert internal(imports_of(bad)) == {"e2edrive.sim.world"} and third_party(imports_of(bad)) == {"torch"}


def test_cli_and_runtime_load_without_the_extras():
    blocked = "".join(f"sys.modules[{m!r}] = None\n" for m in EXTRAS_MODULES)
    code = (
        "import sys, pkgutil, importlib\n" + blocked + "import e2edrive.deploy.runtime as r\n"
        "names = [m.name for m in pkgutil.walk_packages(r.__path__, 'e2edrive.deploy.runtime.')]\n"
        "[importlib.import_module(n) for n in names]\n"
        "import e2edrive.cli\n"
        "print(len(names))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) >= 6  # drive, loop, monitor, onnx_policy, overlay, shadow, sources
