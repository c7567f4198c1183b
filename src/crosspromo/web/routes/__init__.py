"""Routes by lifecycle stage, each module with its `api` router (REST API v1) and its `pages`
router (dashboard and portal): parse, call the stage's service, render what it returns."""
