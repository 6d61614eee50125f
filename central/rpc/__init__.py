"""The limes.v1.Central gRPC service: server, request parsing, the servicer, metrics and processes."""
