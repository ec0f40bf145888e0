# Thin entry points; CMake does the work (see CMakeLists.txt).
#   make demo   install missing packages, build, run the main job on the built-in synthetic data
#   make test   install missing packages, build, run every test (ctest)
#   make asan   the unit and CLI tests under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench  build the benchmarks (bench/README.md says how to run them)
#   make mpi    the MPI build (Open MPI installed if missing) into build-mpi and its mpirun tests
#   make fuzz   build the libFuzzer harnesses with clang and run each FUZZ_SECONDS (fuzz/README.md)
#   make format / format-check / lint
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
MPI_BUILD  ?= build-mpi
FUZZ_SECONDS ?= 60
JOBS       ?= $(shell nproc)
CMAKE_FLAGS ?=
ifeq ($(CI),true)
CMAKE_FLAGS += -DHC_WERROR=ON
endif
SOURCES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)

.PHONY: deps build demo test asan bench mpi fuzz format format-check lint clean

deps:
	@tools/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@tools/demo.sh $(BUILD)/hetcomp demo-out

test: build
	@cd $(BUILD) && ctest --output-on-failure -j 2

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHC_WERROR=ON \
	    -DHC_SANITIZE=address,undefined >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -L 'unit|cli'

bench: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DHC_BUILD_BENCH=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# Open MPI from Debian, only for this build (docs/distributed.md); the tests labelled mpi.
mpi:
	@tools/install-deps.sh libopenmpi-dev openmpi-bin
	@cmake -S . -B $(MPI_BUILD) -DCMAKE_BUILD_TYPE=Release -DHC_MPI=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(MPI_BUILD) -j $(JOBS)
	@cd $(MPI_BUILD) && ctest --output-on-failure -L mpi

# clang with its libFuzzer / sanitizer runtimes and OpenMP; HC_WERROR holds for clang too.
fuzz:
	@tools/install-deps.sh clang libclang-rt-dev libomp-dev
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DHC_FUZZ=ON -DHC_BUILD_TESTS=OFF -DHC_WERROR=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)
	@fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	@clang-format -i $(SOURCES)

format-check:
	@clang-format --dry-run --Werror $(SOURCES)

lint:
	@cppcheck --quiet --enable=warning,performance,portability --error-exitcode=1 \
	    -I include -I src src cli

clean:
	@rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(MPI_BUILD)
