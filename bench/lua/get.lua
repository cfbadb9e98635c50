-- GET each path in turn, so that consecutive requests read different rows.
local paths = $paths
local headers = $headers
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("GET", paths[counter % #paths + 1], headers)
end
