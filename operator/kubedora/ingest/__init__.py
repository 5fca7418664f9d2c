"""What senders send, parsed: PagerDuty webhooks and Datadog DORA API bodies,
folded into Failure and Deployment specs with deterministic names. Pure: no
HTTP, no Kubernetes, so the receiver and the operator share it."""
