-- wrk script for scripts/bench_api.py's baseline: GET / against scripts/bare_asgi.py,
-- printing the same TIZBEK line as the other scripts.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  failed = 0
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local f = 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("failed")
  end
  io.write(string.format(
    "TIZBEK {\"requests\": %d, \"failed\": %d, \"seconds\": %.3f, " ..
    "\"p50_ms\": %.3f, \"p99_ms\": %.3f}\n",
    summary.requests, f, summary.duration / 1e6,
    latency:percentile(50) / 1e3, latency:percentile(99) / 1e3))
end
