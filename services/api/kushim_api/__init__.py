"""The Kushim HTTP gateway: a stateless aiohttp app in front of lockcache and graph."""
