#!/usr/bin/env bash
# Runs the unit and integration tests under c8 with the coverage gate (90 % of lines).
# c8's scratch files go to a private temp dir so concurrent runs in this directory never clash.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
c8 --temp-directory "$scratch/raw" --reports-dir "$scratch/report" \
  --reporter=text --all --src src --include 'src/**/*.ts' \
  --check-coverage --lines 90 \
  node --import tsx --test --test-concurrency=2 test/*.test.ts
