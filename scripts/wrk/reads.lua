-- wrk script for scripts/bench_api.py: readers alongside the devices. Each request is, at
-- random, an inclusion proof of an entry of a log of SIZE, or a lot's record (its state,
-- holder and history) read with an inspector's TOKEN, for one of the lots in LOTS_FILE.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  size = tonumber(args[1])
  auth = "Bearer " .. args[2]
  lots = {}
  for line in io.lines(args[3]) do
    table.insert(lots, line)
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  failed, proofs, records = 0, 0, 0
end

function request()
  if math.random() < 0.5 then
    proofs = proofs + 1
    local seq = math.random(0, size - 1)
    return wrk.format("GET", string.format("/v1/proof/inclusion?seq=%d&size=%d", seq, size))
  end
  records = records + 1
  local lot = lots[math.random(1, #lots)]
  return wrk.format("GET", "/v1/lots/" .. lot, {["Authorization"] = auth})
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local f, p, r = 0, 0, 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("failed")
    p = p + thread:get("proofs")
    r = r + thread:get("records")
  end
  io.write(string.format(
    "TIZBEK {\"failed\": %d, \"seconds\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, " ..
    "\"requests\": %d, \"proofs\": %d, \"records\": %d}\n",
    f, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.requests, p, r))
end
