-- PATCH postmortems in turn with If-Match: each answer's ETag is kept for the next visit of its id.
-- There are many more ids than connections, so an id comes round long after its last answer; one
-- still waiting for its answer (a request stuck behind a lock) is passed over, never sent twice.
local ids = $ids
local etags = $etags
local body = $body
local headers = $headers
local waiting = {}
local counter = 0

request = function()
  local id
  repeat
    counter = counter + 1
    id = ids[counter % #ids + 1]
  until not waiting[id]
  waiting[id] = true
  headers["If-Match"] = etags[id]
  return wrk.format("PATCH", "/v1/postmortems/" .. id, headers, string.format(body, counter))
end

response = function(status, answer_headers, answer)
  local id = answer:match('"id"%s*:%s*"([%x%-]+)"')
  if id then
    waiting[id] = nil
    etags[id] = answer_headers["etag"] or answer_headers["ETag"]
  end
end
