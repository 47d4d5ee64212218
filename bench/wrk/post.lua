-- POST with a JSON body and an Authorization header, both from the environment:
--   WRK_AUTH="Bearer kwsvc_…" WRK_BODY='{"key": "kw_…"}' wrk -s post.lua URL
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or ""
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
