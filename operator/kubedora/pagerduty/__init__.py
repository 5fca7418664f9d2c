"""PagerDuty's REST API: the HTTP client the operator reads incident history
and alerts with, within PagerDuty's rate limits."""
