-- One wrk script for every operation of the benchmark, configured by the environment:
--   WRK_METHOD (GET|POST), WRK_PATH, WRK_BODY (may hold %s), WRK_AUTH (the Authorization header),
--   WRK_POOL: a file of single-use values (codes, refresh tokens), one a line; each request puts
--   the next one into WRK_BODY's %s. Threads take disjoint slices of the pool.
-- done() prints one JSON line: requests, non-2xx answers, 5xx answers, latency p50/p90/p99 (µs).
local method = os.getenv("WRK_METHOD") or "GET"
local path = os.getenv("WRK_PATH")  -- default: the path of the URL given to wrk
local body = os.getenv("WRK_BODY")
local auth = os.getenv("WRK_AUTH")
local pool_file = os.getenv("WRK_POOL")
local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  thread:set("nthreads", 0)
  counter = counter + 1
  table.insert(threads, thread)
end

local pool = nil
local next_index = 1

function init(args)
  wrk.method = method
  if path then wrk.path = path end
  if auth then wrk.headers["Authorization"] = auth end
  if body then wrk.headers["Content-Type"] = "application/x-www-form-urlencoded" end
  if not pool_file and body then wrk.body = body end
  if pool_file then
    pool = {}
    local n, nthreads = 0, tonumber(os.getenv("WRK_THREADS") or "1")
    for line in io.lines(pool_file) do
      n = n + 1
      if (n - 1) % nthreads == id - 1 then table.insert(pool, line) end
    end
  end
  bad = 0
  errors5xx = 0
  exhausted = 0
end

function request()
  if pool then
    local value = pool[next_index]
    if value == nil then exhausted = exhausted + 1; value = "exhausted" else next_index = next_index + 1 end
    return wrk.format(nil, nil, nil, string.format(body, value))
  end
  return wrk.request()
end

function response(status, headers, resp_body)
  if status >= 300 then
    bad = bad + 1
    if status >= 500 then errors5xx = errors5xx + 1 end
    if bad == 1 then io.stderr:write("first non-2xx: " .. status .. " " .. string.sub(resp_body or "", 1, 300) .. "\n") end
  end
end

function done(summary, latency, requests)
  local b, e, x = 0, 0, 0
  for _, thread in ipairs(threads) do
    b = b + (thread:get("bad") or 0)
    e = e + (thread:get("errors5xx") or 0)
    x = x + (thread:get("exhausted") or 0)
  end
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "errors5xx": %d, "pool_exhausted": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, b, e, x,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
