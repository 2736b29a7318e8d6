# Flint developer targets. The README's two commands need none of these.
GO ?= go
SF ?= 1
BENCH_DIR ?= $(HOME)/.cache/flint/tpch-sf$(SF)

.PHONY: demo test build image cluster-up cluster-down bench bench-memory bench-cluster bench-data bench-s3 bench-ml bench-pipeline proto fuzz fuzz-sql fuzz-sql-ci

build:
	$(GO) build -o bin/flint ./cmd/flint

# image: flint:latest and flint-versitygw:latest, FROM scratch with a static
# binary built here (deploy/build-images.sh; nothing is pulled).
# cluster-up / cluster-down: deploy/compose.yaml (versitygw as S3, three
# drivers as a raft group, driver-1 on 127.0.0.1:7070, two executors);
# cluster-down also removes its volumes.
COMPOSE ?= docker-compose
image:
	GO=$(GO) ./deploy/build-images.sh

cluster-up: image
	$(COMPOSE) -f deploy/compose.yaml up -d

cluster-down:
	$(COMPOSE) -f deploy/compose.yaml down -v

demo:
	$(GO) run ./cmd/flint demo --sf $(SF)

test:
	$(GO) test ./...

# bench: the 22 TPC-H queries at scale SF, each as a whole flint process,
# next to DuckDB (2 threads) on the same files; prints times, ratios, peak
# RSS of both and bytes spilled. FLINT_ARGS="--memory-limit 1GiB" passes
# flags to flint. bench-memory: the heaviest queries under a sweep of
# --memory-limit values (MEMORY_LIMITS).
bench: build bench-data
	./scripts/bench-tpch.sh $(BENCH_DIR)

MEMORY_LIMITS ?= 4GiB 2GiB 1GiB 512MiB
MEMORY_QUERIES ?= 5 9 18 21
bench-memory: build bench-data
	./scripts/bench-memory.sh $(BENCH_DIR) "$(MEMORY_LIMITS)" "$(MEMORY_QUERIES)"

# bench-s3: the 22 queries over s3:// (a local versitygw) next to local
# files, and a full lineitem scan in MB/s (Flint local, Flint S3, DuckDB).
bench-s3: bench-data
	./scripts/bench-s3.sh $(BENCH_DIR)

# bench-cluster: the 22 TPC-H queries at scale SF through a driver and two
# 1-slot executors on this machine (flint sql --driver) next to local mode
# with 2 slots, as whole processes; prints times and the cluster/local
# ratio and checks both print the same results.
bench-cluster: build bench-data
	./scripts/bench-cluster.sh $(BENCH_DIR)

# bench-ml: scores 1M and 10M rows × 8 features from Parquet with a
# 60-tree depth-6 binary XGBoost model as one flint process (read, score,
# write) next to XGBoost's inplace_predict (2 threads, rows in memory) and
# the pandas path (read CSV, DMatrix, predict, write CSV); prints times,
# rows/s, peak RSS and ratios, after checking Flint's predictions are
# XGBoost's. Needs python3-xgboost and python3-pandas; data and model are
# made once under ML_BENCH_DIR. ML_ROWS and RUNS (default 3) narrow it.
ML_BENCH_DIR ?= $(HOME)/.cache/flint/ml-bench
ML_ROWS ?= 1000000 10000000
bench-ml: build
	ROWS="$(ML_ROWS)" ./scripts/bench-ml.sh $(ML_BENCH_DIR)

# bench-pipeline: the late-delivery pipeline (examples/late-delivery) as
# flint steps next to pandas + XGBoost at TPC-H SF (default 1): time per
# step, peak memory. PANDAS_MEM=4G caps the pandas process;
# PIPELINE_EXECUTORS="1 2 4" also trains on local clusters of that size.
bench-pipeline: build
	./scripts/bench-pipeline.sh $(or $(PIPELINE_SF),1)

bench-data:
	@test -f $(BENCH_DIR)/lineitem.parquet || $(GO) run ./cmd/flint bench tpch gen --sf $(SF) --out $(BENCH_DIR)

# Operator micro-benchmarks; compare commits with benchstat over -count=10.
bench-ops:
	$(GO) test ./exec/... -run '^$$' -bench . -benchmem -count=10 | tee bench-ops.txt

fuzz:
	$(GO) test ./sql/parser -run '^$$' -fuzz FuzzParse -fuzztime 60s

# fuzz-sql: random queries over testdata/slt/data/tpchn run in DuckDB and in
# Flint under several configurations (tools/sqlfuzz, a separate module:
# DuckDB comes in through cgo). Every disagreement is reduced and printed
# as an .slt record; findings also go to FUZZ_OUT. Random seed (printed);
# FUZZ_ARGS adds flags, e.g. FUZZ_ARGS="-seed 42 -subquery-or=false".
# FUZZ_SALT=N runs over another sample of the same shape (other orders,
# NULLs elsewhere), generated into FUZZ_OUT/data-N; its findings' .slt answers
# are for that sample: rerun them (sqlfuzz -slt -e) over the committed one.
FUZZ_N ?= 3000
FUZZ_OUT ?= $(or $(TMPDIR),/tmp)/flint-sqlfuzz
FUZZ_SALT ?= 0
fuzz-sql:
	cd tools/sqlfuzz && if [ "$(FUZZ_SALT)" != 0 ]; then \
		$(GO) run . gendata -salt $(FUZZ_SALT) -out $(FUZZ_OUT)/data-$(FUZZ_SALT) && \
		$(GO) run . -n $(FUZZ_N) -out $(FUZZ_OUT) -max-findings 50 -data $(FUZZ_OUT)/data-$(FUZZ_SALT) $(FUZZ_ARGS); \
	else $(GO) run . -n $(FUZZ_N) -out $(FUZZ_OUT) -max-findings 50 $(FUZZ_ARGS); fi

# fuzz-sql-ci: the tool's tests and a fixed-seed batch, for CI: about 2.5
# minutes on 2 cores with an empty build cache, under a minute with a warm one.
fuzz-sql-ci:
	cd tools/sqlfuzz && $(GO) test . && $(GO) run . -seed 1 -n 300

# proto: regenerate proto/flintpb from proto/flint/v1/*.proto. Needs protoc
# (Debian: protobuf-compiler) and protoc-gen-go at the go.mod protobuf
# version and protoc-gen-go-grpc:
#   go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
#   go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.0
proto:
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" protoc -I proto \
		--go_out=. --go_opt=module=github.com/flint-engine/flint \
		--go-grpc_out=. --go-grpc_opt=module=github.com/flint-engine/flint \
		proto/flint/v1/plan.proto proto/flint/v1/physical.proto proto/flint/v1/service.proto
