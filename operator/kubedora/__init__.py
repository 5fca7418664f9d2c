"""kubedora: DORA metrics from Failure, Deployment and DoraSource resources."""

__version__ = "0.1.0"
