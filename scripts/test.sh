#!/usr/bin/env bash
# The whole test suite, as CI runs it: install everything, lint and format check, type check,
# then every test (unit, HTTP integration, real clients, crash) with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "== build (esbuild bundle for fast start-up)"
npm run build
echo "== lint and format (biome)"
npx biome check src test bench scripts web
echo "== type check (tsc --noEmit)"
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p web/tsconfig.json

echo "== tests"
mapfile -t files < <(find test -name '*.test.ts' | sort)
# Files run one at a time: the real-client tests start daemons (containerd, dockerd) and the
# crash test kills servers; two cores do not gain from overlapping them.
node --import tsx --test --test-concurrency=1 --test-timeout=600000 "${files[@]}"
