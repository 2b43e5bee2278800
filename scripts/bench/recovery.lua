-- wrk script: POST the forgot-password request (a text code) for a demo patient. The endpoint
-- only queues the request, so this measures the request path, not delivery.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "who%5Bidentifier%5D=" .. (os.getenv("BENCH_USER") or "maria") .. "&who%5Bemail%5D=&channel=Sms"

done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    "RESULT rps=%.1f p50_ms=%.1f p95_ms=%.1f p99_ms=%.1f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, (summary.errors.status or 0),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
