-- The same signed body every time, each as a new delivery: a unique X-GitHub-Delivery per request.
local file = assert(io.open($body_file, "rb"))
local body = file:read("*a")
file:close()
local path = $path
local headers = $headers
local prefix = $delivery_prefix
local counter = 0

request = function()
  counter = counter + 1
  headers["X-GitHub-Delivery"] = prefix .. "-" .. counter
  return wrk.format("POST", path, headers, body)
end
