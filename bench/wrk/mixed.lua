-- A mixed load: each request picks a group by weight, then a request of that group. Args:
-- the file of GET paths (one "group path" a line), the file of form posts (one "group path
-- body" a line), the number of threads, then "group=weight" pairs. A GET group's path is
-- drawn at random; a post group sends the thread's next post of that group, each post once
-- (thread n takes a group's lines n, n + threads, ..., as in form_posts.lua).

local gets = {}
local posts = {}
local nxt = {}
local picks = {}
local total = 0
exhausted = 0

function init(args)
  for line in io.lines(args[1]) do
    local group, path = line:match("^(%S+) (%S+)$")
    gets[group] = gets[group] or {}
    table.insert(gets[group], path)
  end
  local step = tonumber(args[3])
  local seen = {}
  for line in io.lines(args[2]) do
    local group, path, body = line:match("^(%S+) (%S+) (%S+)$")
    local n = seen[group] or 0
    if n % step == id then
      posts[group] = posts[group] or {}
      table.insert(posts[group], { path, body })
      nxt[group] = 1
    end
    seen[group] = n + 1
  end
  for i = 4, #args do
    local group, weight = args[i]:match("^(%S+)=(%d+)$")
    total = total + tonumber(weight)
    table.insert(picks, { group, total })
  end
  math.randomseed(os.time() * 1000 + id)
end

local function post(group)
  local list = posts[group]
  local item = list[nxt[group]]
  if item == nil then
    exhausted = 1
    wrk.thread:stop()
    item = list[#list]
  end
  nxt[group] = nxt[group] + 1
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  local formatted = wrk.format("POST", item[1], nil, item[2])
  wrk.headers["Content-Type"] = nil
  return formatted
end

function request()
  local roll = math.random(total)
  for _, pick in ipairs(picks) do
    if roll <= pick[2] then
      if posts[pick[1]] then
        return post(pick[1])
      end
      local paths = gets[pick[1]]
      return wrk.format("GET", paths[math.random(#paths)])
    end
  end
end
