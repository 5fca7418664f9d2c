"""The service catalog: entries read from annotated Services and apps/v1
Deployments, StatefulSets and DaemonSets, what each object files under which
key, and what an edit changes. The operator keeps them in informer-fed
indexes (handlers/runtime.py) and reads them through matching.Catalog."""
