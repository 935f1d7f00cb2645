-- wrk script for the benchmark (bench/run.py sets these environment variables):
--   BENCH_PATHS  comma-separated paths, requested in turn
--   BENCH_METHOD GET (default) or POST;  BENCH_TOKEN  a JWT access token, or unset for none
--   BENCH_BODY_FILE, BENCH_CONTENT_TYPE  a POST's body, read once, and its type (else empty)
-- At the end it prints one line "BENCH_JSON {...}": counts and 1000 latency quantiles (us).
local paths = {}
for path in string.gmatch(os.getenv("BENCH_PATHS") or "/healthz", "[^,]+") do
  table.insert(paths, path)
end
local method = os.getenv("BENCH_METHOD") or "GET"
local token = os.getenv("BENCH_TOKEN")
local body = nil
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local file = assert(io.open(body_file, "rb"))
  body = file:read("*a")
  file:close()
end
local counter = 0
local offset = 0
local threads = {}

function setup(thread)
  thread:set("offset", #threads * 7919)
  table.insert(threads, thread)
end

function init(args)
  counter = offset
end

function request()
  counter = counter + 1
  local headers = {}
  if token and token ~= "" then
    headers["Authorization"] = "Bearer " .. token
  end
  if body then
    headers["Content-Type"] = content_type
  elseif method == "POST" then
    headers["Content-Length"] = "0"
  end
  return wrk.format(method, paths[(counter % #paths) + 1], headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  -- 1000 quantiles, so that runs split in rounds can be merged into one distribution.
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = string.format("%d", latency:percentile(i / 10))
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "errors": %d, "max": %d, ' ..
    '"quantiles": [%s]}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency.max, table.concat(quantiles, ",")))
end
