-- GET with an Authorization header from the environment:
--   WRK_AUTH="Bearer kw_…" wrk -s get.lua URL
wrk.method = "GET"
wrk.headers["Authorization"] = os.getenv("WRK_AUTH")
