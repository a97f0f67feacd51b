"""The offline cost estimate: a dated price table (offline/pricing/), one estimator per billable
resource type, and how the plan shows the result (docs/cost.md)."""
