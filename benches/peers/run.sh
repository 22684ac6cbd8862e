#!/usr/bin/env bash
# softland's engine against XState v5 in one run: criterion's whole-lifecycle benchmark, then the
# same lifecycle in XState (xstate-soft-landing.mjs), then the ratio. Run from anywhere:
#   benches/peers/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
(cd benches/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cargo bench -p softland-workflow --bench engine -- lifecycle
target_dir=$(cargo metadata --format-version 1 --no-deps | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).target_directory))')
estimates="$target_dir/criterion/lifecycle/soft-landing-sz-to-hk/new/estimates.json"
peer=$(node benches/peers/xstate-soft-landing.mjs 5)
node - "$estimates" "$peer" <<'JS'
const fs = require('node:fs');
const [estimates, peerLine] = process.argv.slice(2);
const est = JSON.parse(fs.readFileSync(estimates, 'utf8'));
// criterion's reported figure: the slope of its linear sampling (the mean when there is none)
const softlandUs = (est.slope ?? est.mean).point_estimate / 1000;
const peer = JSON.parse(peerLine);
const result = {
  softland_lifecycle_us: softlandUs,
  softland_lifecycles_per_second: 1e6 / softlandUs,
  peer: peer.engine,
  peer_runtime: `node ${peer.node}`,
  peer_lifecycle_us: peer.lifecycle_us,
  peer_lifecycles_per_second: peer.lifecycles_per_second,
  softland_speedup: peer.lifecycle_us / softlandUs,
};
console.log(`softland engine: ${softlandUs.toFixed(2)} µs per lifecycle (${result.softland_lifecycles_per_second.toFixed(0)}/s)`);
console.log(`${peer.engine} on node ${peer.node}: ${peer.lifecycle_us.toFixed(2)} µs per lifecycle (${peer.lifecycles_per_second.toFixed(0)}/s)`);
console.log(`ratio: softland is ${result.softland_speedup.toFixed(1)}× the peer's throughput`);
console.log(JSON.stringify(result));
JS
