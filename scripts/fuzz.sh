#!/usr/bin/env bash
# Run every fuzz target for a fixed time (default 60 s each; CI uses a few seconds), seeded from
# the fixtures. Needs the nightly toolchain; installs cargo-fuzz if missing.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]
# A crash stops the script with the crashing input under fuzz/artifacts/<target>/; turn it into
# a regression test by copying it to tests/fuzz_regressions/ (tests/errors.rs loads every file there).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
rustup toolchain list | grep -q '^nightly' || { echo "fuzz: needs the nightly toolchain (cargo-fuzz uses sanitizers)" >&2; exit 1; }

# Seeds: every fixture pickle and hostile file; bundles and predict inputs made from the fixtures.
seeds=target/fuzz-seeds
rm -rf "$seeds"
mkdir -p "$seeds/pickle" "$seeds/lightgbm" "$seeds/xgboost"
for f in tests/fixtures/*/*.pkl tests/fixtures/sk*/*.joblib* tests/fixtures/hostile/*; do
  cp "$f" "$seeds/pickle/$(basename "$(dirname "$f")")-$(basename "$f")"
done
for f in tests/fixtures/lgbm*/*.txt tests/fixtures/hostile/lgbm_*.txt; do
  cp "$f" "$seeds/lightgbm/$(basename "$(dirname "$f")")-$(basename "$f")"
done
for f in tests/fixtures/xgb*/*.model.json tests/fixtures/xgb*/*.ubj tests/fixtures/hostile/xgb_*; do
  cp "$f" "$seeds/xgboost/$(basename "$(dirname "$f")")-$(basename "$f")"
done
find tests/fuzz_regressions -type f ! -name '*.md' -exec cp {} "$seeds/pickle/" \;
cargo run --quiet --release --example fuzz_seeds -- "$seeds" tests/fixtures/sk*/*.p4.pkl tests/fixtures/lgbm4/*.txt tests/fixtures/xgb3/*.ubj

status=0
targets="load_pickle load_lightgbm_text load_xgboost load_bundle load_then_predict"
for target in $targets; do
  case $target in
    load_pickle) seed=$seeds/pickle ;;
    load_lightgbm_text) seed=$seeds/lightgbm ;;
    load_xgboost) seed=$seeds/xgboost ;;
    load_bundle) seed=$seeds/bundle ;;
    load_then_predict) seed=$seeds/predict ;;
  esac
  mkdir -p "fuzz/corpus/$target"
  log=target/fuzz-$target.log
  if ! (cd fuzz && cargo +nightly fuzz run "$target" "corpus/$target" "../$seed" -- \
        -max_total_time="$seconds" -rss_limit_mb=2560 -max_len=1048576 -print_final_stats=1) >"$log" 2>&1; then
    status=1
    echo "fuzz: $target FOUND A CRASH (see $log and fuzz/artifacts/$target/)"
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  echo "fuzz: $target ran ${runs:-?} executions in ${seconds}s"
done
n=$(echo $targets | wc -w)
if [ "$status" = 0 ]; then echo "fuzz: $n passed, 0 failed"; else echo "fuzz: crashes found"; fi
exit $status
