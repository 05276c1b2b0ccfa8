"""The engine: from a snapshot to per-(account, portal) verdicts, findings and metrics."""
