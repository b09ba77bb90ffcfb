-- wrk script for scripts/bench_api.py: each connection posts pre-signed submissions, each once.
-- The bodies file holds one submission per line; thread N of T takes lines N, N+T, N+2T, ...
-- Counts answers by status so the benchmark knows how many entries were appended (201).
-- An optional third argument paces each connection like a device that waits between
-- submissions: a random think time (exponential, that many milliseconds on average).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local total = tonumber(args[2])
  bodies = {}
  local n = 0
  for line in io.lines(args[1]) do
    if n % total == id then
      table.insert(bodies, line)
    end
    n = n + 1
  end
  next_body = 1
  created, other, spent = 0, 0, 0
  think = tonumber(args[3] or "0")
  math.randomseed(os.time() + id)
end

function delay()
  if think <= 0 then
    return 0
  end
  return -think * math.log(1 - math.random())
end

function request()
  local body = bodies[next_body]
  if body == nil then
    spent = spent + 1
    return wrk.format("GET", "/v1/log")
  end
  next_body = next_body + 1
  return wrk.format("POST", "/v1/events", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status == 201 then
    created = created + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local c, o, s = 0, 0, 0
  for _, thread in ipairs(threads) do
    c = c + thread:get("created")
    o = o + thread:get("other")
    s = s + thread:get("spent")
  end
  io.write(string.format(
    "TIZBEK {\"created\": %d, \"other\": %d, \"spent\": %d, \"seconds\": %.3f, " ..
    "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"requests\": %d}\n",
    c, o, s, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, summary.requests))
end
