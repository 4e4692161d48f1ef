"""`kushim`: the command line for the Kushim HTTP API."""
