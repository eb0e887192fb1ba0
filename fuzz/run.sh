#!/usr/bin/env bash
# Fuzzes aksim's hostile-input surfaces with cargo-fuzz (libFuzzer): request paths, ARM
# request bodies, Kubernetes request bodies, scenario files and cassettes (`aksim parity`).
# Each target runs for FUZZ_SECS seconds (default 60); the script fails if any target finds a
# crash (the input is kept under fuzz/artifacts/<target>/). The checks themselves are `sim::hostile`, which
# sim/tests/hostile_props.rs also runs on stable as part of `cargo test`.
#
#   fuzz/run.sh                         every target, 60 s each
#   FUZZ_SECS=600 fuzz/run.sh arm_body  one target, 10 minutes
#   FUZZ_SANITIZER=address fuzz/run.sh  with AddressSanitizer (default: none — sim forbids
#                                       unsafe code, so panics are what there is to find)
#
# Only a stable toolchain is needed: cargo fuzz passes nightly `-Z` flags, which
# RUSTC_BOOTSTRAP=1 lets stable rustc accept. Not part of `cargo test` or .ci/run.
set -euo pipefail
cd "$(dirname "$0")"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz is not installed; installing it with: cargo install cargo-fuzz --locked" >&2
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1

secs=${FUZZ_SECS:-60}
sanitizer=${FUZZ_SANITIZER:-none}
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    targets=(arm_path arm_body kube_body scenario cassette)
fi

cargo fuzz build --sanitizer "$sanitizer"

# The scenario library, each file as a YAML input (selector '0'), joins the committed seeds.
library=corpus/scenario-library
rm -rf "$library" && mkdir -p "$library"
while IFS= read -r -d '' f; do
    { printf 0; cat "$f"; } >"$library/$(basename "$f")"
done < <(find ../scenarios -name '*.yaml' -print0)

failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    extra=()
    if [ "$t" = scenario ]; then extra=("$library"); fi
    # Per-target options: dictionaries (JSON syntax and the bodies' field names, so mutations
    # reach past the parser), input length.
    opts=()
    case "$t" in
        arm_body) opts=(-dict=dicts/arm.dict) ;;
        kube_body) opts=(-dict=dicts/kube.dict) ;;
        # Paths longer than the 8 KiB limit must reach the length check.
        arm_path) opts=(-max_len=20000) ;;
        # Recorded cassettes run to tens of kilobytes.
        cassette) opts=(-max_len=65536) ;;
    esac
    echo "== $t: ${secs}s" >&2
    # New inputs go to corpus/<t> (not committed); seeds/<t> is read only.
    if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "corpus/$t" "seeds/$t" "${extra[@]}" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 "${opts[@]}"; then
        failed+=("$t")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz/run.sh: crashes in: ${failed[*]} (inputs under fuzz/artifacts/; replay with" \
        "RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer $sanitizer <target> <file>)" >&2
    exit 1
fi
echo "fuzz/run.sh: no crash in ${targets[*]} (${secs}s each)" >&2
