"""What an operator sees of a running process: Prometheus metrics, JSON logs with request ids, traces."""
