-- POST form bodies from a file, one a line, each sent once (args: the file, the path, the
-- number of threads). Thread n takes lines n, n + threads, ...: each body holds a slot and
-- a command id that no other request may reuse, so a thread that runs out stops instead
-- of sending one twice.

local bodies = {}
local nxt = 1
local path
exhausted = 0

function init(args)
  path = args[2]
  local step = tonumber(args[3])
  local n = 0
  for line in io.lines(args[1]) do
    if n % step == id then
      table.insert(bodies, line)
    end
    n = n + 1
  end
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
  local body = bodies[nxt]
  if body == nil then
    exhausted = 1
    wrk.thread:stop()
    body = bodies[#bodies]
  end
  nxt = nxt + 1
  return wrk.format("POST", path, nil, body)
end
