-- wrk script: GET WRK_PATH with "{id}" replaced by a random integer in 1..WRK_IDS, and one JSON
-- summary line at the end (prefix "WRKJSON ") that bench/throughput.py reads.
-- With WRK_TIMELINE=1 it also counts responses per second by outcome (ok / non-2xx), for plots.
local path = os.getenv("WRK_PATH") or "/"
local ids = tonumber(os.getenv("WRK_IDS") or "1")
local timeline = os.getenv("WRK_TIMELINE") == "1"
local threads = {}

ok_per_second = {}
bad_per_second = {}
started_at = os.time()

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  started_at = os.time()
end

request = function()
  local p = path:gsub("{id}", tostring(math.random(ids)))
  return wrk.format("GET", p)
end

if timeline then
  response = function(status, headers, body)
    local second = os.time() - started_at
    if status >= 200 and status < 400 then
      ok_per_second[second] = (ok_per_second[second] or 0) + 1
    else
      bad_per_second[second] = (bad_per_second[second] or 0) + 1
    end
  end
end

local function series(name)
  -- Merge every thread's per-second table into "[[second, count], ...]".
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
    '"max_us":%d,"mean_us":%.1f,"ok_per_second":%s,"bad_per_second":%s}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    series("ok_per_second"), series("bad_per_second")))
end
