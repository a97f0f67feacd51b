-- wrk script: GET WRK_PATH with "{id}" replaced by a random integer in 1..WRK_IDS, and one JSON
-- summary line at the end (prefix "WRKJSON ") that bench/throughput.py reads.
-- With WRK_TIMELINE=1 it also counts responses by outcome (ok / non-2xx) per half second of
-- CLOCK_MONOTONIC (the clock Python's time.monotonic() reads), so the runner can line them up with
-- the moments it stopped and restarted Redis. Keys are floor(seconds * 2).
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clk_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")
local function half_second()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
  return math.floor((tonumber(now_ts.tv_sec) + tonumber(now_ts.tv_nsec) / 1e9) * 2)
end

local path = os.getenv("WRK_PATH") or "/"
local ids = tonumber(os.getenv("WRK_IDS") or "1")
local timeline = os.getenv("WRK_TIMELINE") == "1"
local threads = {}

ok_by_half_second = {}
bad_by_half_second = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
end

request = function()
  local p = path:gsub("{id}", tostring(math.random(ids)))
  return wrk.format("GET", p)
end

if timeline then
  response = function(status, headers, body)
    local second = half_second()
    if status >= 200 and status < 400 then
      ok_by_half_second[second] = (ok_by_half_second[second] or 0) + 1
    else
      bad_by_half_second[second] = (bad_by_half_second[second] or 0) + 1
    end
  end
end

local function series(name)
  -- Merge every thread's table into "[[half_second, count], ...]".
  local merged, keys = {}, {}
  for _, thread in ipairs(threads) do
    local t = thread:get(name) or {}
    for second, count in pairs(t) do
      if merged[second] == nil then table.insert(keys, second) end
      merged[second] = (merged[second] or 0) + count
    end
  end
  table.sort(keys)
  local parts = {}
  for _, second in ipairs(keys) do
    table.insert(parts, string.format("[%d,%d]", second, merged[second]))
  end
  return "[" .. table.concat(parts, ",") .. "]"
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,"errors_read":%d,' ..
    '"errors_write":%d,"errors_status":%d,"errors_timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"ok_by_half_second":%s,"bad_by_half_second":%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    series("ok_by_half_second"), series("bad_by_half_second")))
end
