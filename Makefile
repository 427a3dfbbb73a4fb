# yolox-kpt: `make demo` runs the main job on built-in synthetic data, `make test` runs the tests.
# Both set up `.venv/` first if it is missing. The install order matters (see README "Install"):
# torch first, then mmcv 2.1.0 compiled from source against it (pip keeps the built wheel in its
# cache, so it compiles once per machine), then mmengine/mmdet and this package.

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
TORCH_SPEC ?= torch==2.13.0
MMCV_SPEC ?= mmcv==2.1.0
MMDEPLOY_SPEC ?= mmdeploy==1.3.1
PYTEST_ARGS ?=

.PHONY: install demo test test-all clean-venv

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade "pip>=24"
	$(PIP) install "$(TORCH_SPEC)" "setuptools>=77,<82" wheel numpy
	MMCV_WITH_OPS=1 MAX_JOBS=$${MAX_JOBS:-2} $(PIP) install --no-build-isolation "$(MMCV_SPEC)"
	$(PIP) install --no-build-isolation -e ".[train,dev,deploy]"
	$(PIP) install --no-deps "$(MMDEPLOY_SPEC)"
	$(PY) -c "import mmcv.ops, mmdet, yolox_kpt; print('yolox-kpt installed: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__)"
	touch $(STAMP)

demo: install
	$(PY) tools/demo_synthetic.py

test: install
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

test-all: install
	$(PY) -m pytest $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
