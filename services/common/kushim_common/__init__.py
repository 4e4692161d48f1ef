"""Pieces every Kushim service shares: log format, gRPC serving, request ids."""
