-- wrk script for scripts/bench_api.py: inclusion proofs of random entries of a log of SIZE.
-- With a TOKEN and a LOTS_FILE (one lot id per line) as well, half the requests instead read
-- a random lot's record (its state, holder and history) with that inspector's token.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  size = tonumber(args[1])
  lots = {}
  if args[3] ~= nil then
    auth = "Bearer " .. args[2]
    for line in io.lines(args[3]) do
      table.insert(lots, line)
    end
  end
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  failed, records = 0, 0
end

function request()
  if #lots > 0 and math.random() < 0.5 then
    records = records + 1
    local lot = lots[math.random(1, #lots)]
    return wrk.format("GET", "/v1/lots/" .. lot, {["Authorization"] = auth})
  end
  local seq = math.random(0, size - 1)
  return wrk.format("GET", string.format("/v1/proof/inclusion?seq=%d&size=%d", seq, size))
end

function response(status, headers, body)
  if status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local f, r = 0, 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("failed")
    r = r + thread:get("records")
  end
  io.write(string.format(
    "TIZBEK {\"failed\": %d, \"seconds\": %.3f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, " ..
    "\"requests\": %d, \"records\": %d}\n",
    f, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    summary.requests, r))
end
