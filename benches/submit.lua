-- wrk script: submit a ticket per request through the Help Center form (POST /help/tickets).
-- The CSRF token of the logged-in session comes from the environment (load.sh sets it).
local csrf = os.getenv("CSRF") or ""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
local n = 0
request = function()
  n = n + 1
  local body = "csrf_token=" .. csrf .. "&subject=Load+test+" .. n .. "&description=Submitted+by+wrk&priority=Medium"
  return wrk.format(nil, nil, nil, body)
end
