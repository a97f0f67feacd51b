"""HTTP routers: the catalog API, ops, health and benchmark baselines."""
