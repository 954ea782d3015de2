-- GET a path picked at random from a file of paths, one a line (args: the file).

local paths = {}

function init(args)
  for line in io.lines(args[1]) do
    table.insert(paths, line)
  end
  math.randomseed(os.time() * 1000 + id)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end
