-- wrk script for scripts/bench_api.py: each connection posts pre-signed submissions, each once.
-- The bodies file holds one submission per line; thread N of T takes lines N, N+T, N+2T, ...
-- Counts answers by status so the benchmark knows how many entries were appended (201).
-- An optional third argument paces the submissions: they fall due at random moments (a
-- Poisson process) that many milliseconds apart on average, counted over all connections,
-- whatever the server's latency; each goes out on the first connection free after it is
-- due, as devices in the field submit when they have something, one at a time each.
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } tizbek_timespec;
int clock_gettime(int clk_id, tizbek_timespec *tp);
]]
local clock = ffi.new("tizbek_timespec")
local CLOCK_MONOTONIC = 1

local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

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
  -- This thread's share of the arrivals: one in `total` of them, so `total` times apart.
  spacing = tonumber(args[3] or "0") * total
  due = nil
  math.randomseed(os.time() + id)
end

function delay()
  if spacing <= 0 then
    return 0
  end
  local now = now_ms()
  due = (due or now) - spacing * math.log(1 - math.random())
  return math.max(0, due - now)
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
