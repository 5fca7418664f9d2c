"""kubedora: DORA metrics from Failure, Deployment and DoraSource resources."""
