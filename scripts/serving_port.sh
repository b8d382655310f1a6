# Sourced by the black-box scripts: serving_port LOG PID prints the port the
# marketd writing LOG bound (its "event=serving" line), or fails after 10 s or
# when the process exits. The caller defines fail().
serving_port() {
  local log=$1 pid=$2 port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*event=serving listen=127.0.0.1:\([0-9]*\).*/\1/p' "$log")
    [[ -n $port ]] && break
    kill -0 "$pid" 2>/dev/null || fail "marketd exited at start"
    sleep 0.1
  done
  [[ -n $port ]] || fail "marketd did not start serving"
  echo "$port"
}
