-- wrk script: POST the sign-in server function with a demo patient's real password.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "portal=Patient&identifier=" .. (os.getenv("BENCH_USER") or "maria")
  .. "&password=" .. (os.getenv("BENCH_PASSWORD") or "sunflower-teapot-harbor")

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
