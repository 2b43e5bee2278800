-- wrk script: POST the sign-in server function with a demo patient's real password.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "portal=Patient&identifier=" .. (os.getenv("BENCH_USER") or "maria")
  .. "&password=" .. (os.getenv("BENCH_PASSWORD") or "sunflower-teapot-harbor")

-- Each request from an address of its own (the server trusts 127.0.0.1 as its proxy), as a
-- clinic's patients are: one address may hold only its share of the argon2 slots. With
-- BENCH_FROM set, every request comes from that one address instead (the flood below).
local from = os.getenv("BENCH_FROM")
local n = 0
request = function()
  n = n + 1
  local addr = from or string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil, nil, { ["X-Forwarded-For"] = addr }, nil)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  local non2xx = (summary.errors.status or 0)
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
