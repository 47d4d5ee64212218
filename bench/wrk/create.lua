-- POST /api/v1/api-keys round robin over many workspaces, one full-access key each, read
-- from the file WRK_KEYS (one key per line): each workspace stays a realistic size instead
-- of one workspace growing by thousands of keys.
--   WRK_KEYS=keys.txt wrk -s create.lua URL
local keys = {}
for line in io.lines(os.getenv("WRK_KEYS")) do
  keys[#keys + 1] = line
end
local next_key = 0
local headers = { ["Content-Type"] = "application/json" }
local body = '{"name": "bench create"}'

request = function()
  next_key = next_key % #keys + 1
  headers["Authorization"] = "Bearer " .. keys[next_key]
  return wrk.format("POST", nil, headers, body)
end
