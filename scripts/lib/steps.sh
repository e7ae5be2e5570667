# Timed steps for scripts/test.sh (sourced). `step NAME CMD...` runs CMD in the
# foreground; `step_bg NAME CMD...` starts it beside the others with its output
# in target/steps/NAME.log, and `step_wait NAME` joins it (its log is printed
# then, so parallel output never interleaves). When the script ends, for
# whatever reason, a table of every step's wall time is printed, so the next
# slow step is visible in any CI log.

STEPS_DIR=target/steps
mkdir -p "$STEPS_DIR"
STEPS_T0=$SECONDS
STEPS_TABLE=()
declare -A STEPS_PID STEPS_START

steps_summary() {
  local status=$?
  {
    echo
    echo "== step durations (wall time; bg = ran beside other steps)"
    local row
    for row in "${STEPS_TABLE[@]}"; do echo "  $row"; done
    local name
    for name in "${!STEPS_PID[@]}"; do
      echo "  $(printf '%5ss' "$(( SECONDS - STEPS_START[$name] ))")  $name (bg, unfinished)"
    done
    echo "  $(printf '%5ss' "$(( SECONDS - STEPS_T0 ))")  total$([ "$status" -eq 0 ] || echo ", FAILED (exit $status)")"
  } >&2
  # Background steps still running (after a failure) are stopped (the
  # timing subshell passes it on to its command).
  for name in "${!STEPS_PID[@]}"; do
    kill -- "${STEPS_PID[$name]}" 2>/dev/null || true
  done
}
trap steps_summary EXIT

step() {
  local name=$1 t0=$SECONDS status=0
  shift
  echo "== $name" >&2
  "$@" || status=$?
  STEPS_TABLE+=("$(printf '%5ss' "$(( SECONDS - t0 ))")  $name$([ "$status" -eq 0 ] || echo "  FAILED")")
  return "$status"
}

step_bg() {
  local name=$1
  shift
  echo "== $name (started in the background: $STEPS_DIR/$name.log)" >&2
  STEPS_START[$name]=$SECONDS
  # Its own wall time, written when it ends: the join may come much later.
  (
    t0=$(date +%s) status=0
    "$@" &
    child=$!
    trap 'kill -- "$child" 2>/dev/null' TERM
    wait "$child" || status=$?
    echo $(( $(date +%s) - t0 )) >"$STEPS_DIR/$name.secs"
    exit "$status"
  ) >"$STEPS_DIR/$name.log" 2>&1 &
  STEPS_PID[$name]=$!
}

step_wait() {
  local name=$1 status=0
  wait "${STEPS_PID[$name]}" || status=$?
  unset "STEPS_PID[$name]"
  echo "== $name (background) finished:" >&2
  cat "$STEPS_DIR/$name.log" >&2
  local secs waited
  secs=$(cat "$STEPS_DIR/$name.secs" 2>/dev/null || echo "?")
  waited=$(( SECONDS - STEPS_START[$name] ))
  STEPS_TABLE+=("$(printf '%5ss' "$secs")  $name (bg; joined after ${waited}s)$([ "$status" -eq 0 ] || echo "  FAILED")")
  return "$status"
}
