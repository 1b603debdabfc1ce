# The commands a person types. `make test` and `make run` work on a fresh Debian 12 machine:
# they install what is missing, build, then test or run.
BUILD      ?= build
SAN_BUILD  ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
BENCH_BUILD ?= build-bench
JOBS       ?= $(shell nproc)
GENERATOR  := $(shell command -v ninja >/dev/null 2>&1 && echo "-G Ninja")
LAUNCHER   := $(shell command -v ccache >/dev/null 2>&1 && echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache")
CTEST_ARGS ?=

.PHONY: deps build test run demo clean format sanitize bench fuzz readme-settings env-example connector-schema connector-catalog console-screenshots install help

help:
	@echo "make run        install dependencies, build, run the poller and the dispatcher"
	@echo "make test       install dependencies, build, run every test"
	@echo "make deps | build | clean | format | sanitize | bench | fuzz | readme-settings | env-example | connector-schema | connector-catalog | console-screenshots | install"

deps:
	@scripts/install-deps.sh

$(BUILD)/build.ninja $(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

run: build
	@scripts/run.sh $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

# The image-libraries test is skipped: sanitized binaries link libasan/libubsan, which the
# runtime image rightly does not ship.
sanitize: deps
	cmake -S . -B $(SAN_BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Debug -DWEBHOOK_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	cd $(SAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit -E RuntimeLibrariesTest
	@if [ -x scripts/fuzz.sh ]; then scripts/fuzz.sh --short; fi

bench: deps
	cmake -S . -B $(BENCH_BUILD) $(GENERATOR) $(LAUNCHER) -DCMAKE_BUILD_TYPE=Release -DWEBHOOK_BENCH=ON -DBUILD_TESTING=OFF
	cmake --build $(BENCH_BUILD) -j $(JOBS)
	@scripts/bench.sh $(BENCH_BUILD)

fuzz: deps
	scripts/fuzz.sh

readme-settings: build
	@python3 scripts/update_readme_settings.py $(BUILD)/ctl/webhookctl README.md

env-example: build
	$(BUILD)/ctl/webhookctl settings --env-example > docker/.env.example

# OpenCTI's connector catalog reads this schema; like the two above it comes from the setting
# table (common/setting_table.cpp) and a test fails when the committed file drifts.
connector-schema: build
	$(BUILD)/ctl/webhookctl settings --json-schema > __metadata__/connector_config_schema.json

# The two __metadata__ files and the logo as one catalog file for OpenCTI's app:custom_catalogs.
connector-catalog:
	python3 scripts/connector_catalog.py $(BUILD)/opencti-webhook-catalog.json
	@echo "wrote $(BUILD)/opencti-webhook-catalog.json"

# The README's console screenshots, taken by the browser tests (tests/ctl/console/).
console-screenshots: build
	cd $(BUILD) && ctest --output-on-failure -R ConsoleBrowserTest
	cp $(BUILD)/docs/console-overview.png $(BUILD)/docs/console-job.png docs/

install: build
	cmake --install $(BUILD)

format:
	@git ls-files --cached --others --exclude-standard '*.cpp' '*.h' | xargs -r clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) $(BENCH_BUILD)
