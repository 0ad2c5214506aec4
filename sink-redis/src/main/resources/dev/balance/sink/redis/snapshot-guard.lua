-- Writes one balance snapshot field only when it moves the balance forward.
-- KEYS[1] = the account's hash, ARGV[1] = the currency (field), ARGV[2] = the new version
-- (decimal, no leading zeros), ARGV[3] = the new value "version|available|frozen|updated_at_ms".
-- Returns 1 when the field was written, 0 when the stored version was equal or higher (a stale
-- or repeated write that the guard refused). A stored value without a leading version is not one
-- this sink wrote and is replaced.
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local stored = string.match(current, '^(%d+)|')
  if stored then
    local incoming = ARGV[2]
    -- Versions are compared as digit strings, exact for any 64-bit value (Lua numbers are doubles).
    if #stored > #incoming or (#stored == #incoming and stored >= incoming) then
      return 0
    end
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
