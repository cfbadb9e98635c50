-- POST a JSON body to each path in turn; "%d" in the body becomes the request's number.
local paths = $paths
local body = $body
local headers = $headers
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("POST", paths[counter % #paths + 1], headers, string.format(body, counter))
end
