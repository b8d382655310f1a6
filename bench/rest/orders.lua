-- orders.lua — wrk script for bench/order_rtt.sh: each connection places
-- limit orders alternately buying and selling 1 at 100.00, so every second
-- one trades and the book stays small; the done() hook is the nginx peer's
-- (one WRK line of integer figures).
dofile(os.getenv("REPORT_LUA") or "../shared/peers/nginx/report.lua")

local bodies = {
  '{"side":"buy","qty":"1","price":"100.00"}',
  '{"side":"sell","qty":"1","price":"100.00"}',
}
local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, bodies[n % 2 + 1])
end
