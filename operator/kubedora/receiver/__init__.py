"""The webhook receiver: an aiohttp app that turns PagerDuty and
Datadog-compatible calls into Failure and Deployment resources."""
