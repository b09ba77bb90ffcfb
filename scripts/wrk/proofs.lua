-- wrk script for scripts/bench_api.py: inclusion proofs of random entries of a log of SIZE.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  size = tonumber(args[1])
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  failed = 0
end

function request()
  local seq = math.random(0, size - 1)
  return wrk.format("GET", string.format("/v1/proof/inclusion?seq=%d&size=%d", seq, size))
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
    "TIZBEK {\"failed\": %d, \"seconds\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, " ..
    "\"requests\": %d}\n",
    f, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.requests))
end
