# Quick start on a fresh machine: `make demo`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The CPU build of torch; GPU users install their own build first (pyproject only asks torch>=2.4).
TORCH_PIN ?= torch==2.13.0
DEMO_OUT ?= demo_out

.PHONY: venv demo test lint bench runtime-check clean

$(BIN)/e2edrive: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH_PIN)"
	$(BIN)/pip install --quiet -e ".[dev]"  # dev = all extras (sim, train, data, report) + test tools
	touch $@

venv: $(BIN)/e2edrive

demo: venv
	$(BIN)/e2edrive demo --out $(DEMO_OUT)

test: venv
	$(BIN)/python -m pytest tests

# the in-car runtime installed alone into a clean venv drives the real dashcam sample (CI runs it too)
runtime-check: venv
	.ci/runtime-only

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

bench: venv
	$(BIN)/python benchmarks/rig_throughput.py
	$(BIN)/python benchmarks/road_speedup.py
	$(BIN)/python benchmarks/sim_camera.py
	$(BIN)/python benchmarks/collect_speedup.py
	$(BIN)/python benchmarks/train_throughput.py
	$(BIN)/python benchmarks/onnx_latency.py
	$(BIN)/python benchmarks/loader_speed.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache
