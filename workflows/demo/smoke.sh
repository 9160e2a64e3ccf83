#!/usr/bin/env bash
# Smoke test for the demo Smithers workflow (smithers-orchestrator 0.5.0).
#
#   run → exit 3 at the gate → approve → resume → exit 0, run status 'finished'
#   run → exit 3 at the gate → deny    → resume → exit 1, run status 'failed'
#
# Runs in a fresh temp dir (cwd outside the repository) and exits non-zero on any mismatch.
# Usage: workflows/demo/smoke.sh            (KEEP=1 keeps the temp dir)
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BUN="$REPO/node_modules/.bin/bun"
CLI="$REPO/node_modules/smithers-orchestrator/src/cli/index.ts"
WF="$HERE/workflow.tsx"

for f in "$BUN" "$CLI" "$WF"; do
  [ -e "$f" ] || { echo "smoke: missing $f (run 'npm install' in $REPO)" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "smoke: python3 is required" >&2; exit 2; }

WORK="$(mktemp -d "${TMPDIR:-/tmp}/demo-smoke.XXXXXX")"
cleanup() { if [ "${KEEP:-0}" = "1" ]; then echo "smoke: kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
cd "$WORK" || exit 2

export DEMO_TASK_MS=100
export SMITHERS_DB_PATH="$WORK/.smithers/state.db"

FAIL=0
fail() { echo "smoke: FAIL: $*" >&2; FAIL=1; }

smithers() { "$BUN" "$CLI" "$@"; }

# expect_exit <expected> <label> <cmd...>
expect_exit() {
  local want="$1" label="$2"; shift 2
  "$@" >>"$WORK/smoke.log" 2>&1
  local got=$?
  if [ "$got" = "$want" ]; then echo "smoke: ok   $label (exit $got)"; else fail "$label: exit $got, expected $want (see log below)"; fi
}

q() { python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:]).fetchone(); print("" if r is None or r[0] is None else r[0])' "$SMITHERS_DB_PATH" "$@"; }

expect_eq() {
  local label="$1" got="$2" want="$3"
  if [ "$got" = "$want" ]; then echo "smoke: ok   $label = $got"; else fail "$label = '$got', expected '$want'"; fi
}

# --- 1. approve path ---------------------------------------------------------
RUN1=smoke-approve
expect_exit 3 "run $RUN1 stops at gate" smithers run "$WF" --run-id "$RUN1" --root "$WORK"
expect_eq "$RUN1 status at gate" "$(q 'SELECT status FROM _smithers_runs WHERE run_id=?' "$RUN1")" waiting-approval
expect_eq "$RUN1 approval requested" "$(q "SELECT status FROM _smithers_approvals WHERE run_id=? AND node_id='human-gate'" "$RUN1")" requested
expect_exit 0 "approve $RUN1" smithers approve "$WF" --run-id "$RUN1" --node-id human-gate --note "looks good" --decided-by smoke-tester
expect_exit 0 "resume $RUN1 finishes" smithers resume "$WF" --run-id "$RUN1" --root "$WORK"
expect_eq "$RUN1 status" "$(q 'SELECT status FROM _smithers_runs WHERE run_id=?' "$RUN1")" finished
expect_eq "$RUN1 decided_by" "$(q "SELECT decided_by FROM _smithers_approvals WHERE run_id=? AND node_id='human-gate'" "$RUN1")" smoke-tester
expect_eq "$RUN1 task_report rows" "$(q 'SELECT count(*) FROM task_report WHERE run_id=?' "$RUN1")" 9
expect_eq "$RUN1 review_report rows" "$(q 'SELECT count(*) FROM review_report WHERE run_id=?' "$RUN1")" 4
expect_eq "$RUN1 rejecting reviewers" "$(q 'SELECT count(*) FROM review_report WHERE run_id=? AND approved=0' "$RUN1")" 1
expect_eq "$RUN1 finished nodes" "$(q "SELECT count(*) FROM _smithers_nodes WHERE run_id=? AND state='finished'" "$RUN1")" 14
[ -s "$WORK/.smithers/executions/$RUN1/logs/stream.ndjson" ] && echo "smoke: ok   $RUN1 stream.ndjson written" || fail "$RUN1 stream.ndjson missing"

# --- 2. deny path ------------------------------------------------------------
RUN2=smoke-deny
expect_exit 3 "run $RUN2 stops at gate" smithers run "$WF" --run-id "$RUN2" --root "$WORK"
expect_exit 0 "deny $RUN2" smithers deny "$WF" --run-id "$RUN2" --node-id human-gate --note "not this time" --decided-by smoke-tester
expect_exit 1 "resume $RUN2 fails" smithers resume "$WF" --run-id "$RUN2" --root "$WORK"
expect_eq "$RUN2 status" "$(q 'SELECT status FROM _smithers_runs WHERE run_id=?' "$RUN2")" failed
expect_eq "$RUN2 approval" "$(q "SELECT status FROM _smithers_approvals WHERE run_id=? AND node_id='human-gate'" "$RUN2")" denied
expect_eq "$RUN2 done ran" "$(q "SELECT count(*) FROM task_report WHERE run_id=? AND node_id='done'" "$RUN2")" 0

if [ "$FAIL" != 0 ]; then
  echo "---- smithers output ----" >&2
  cat "$WORK/smoke.log" >&2
  echo "smoke: FAILED" >&2
  exit 1
fi
echo "smoke: PASSED"
