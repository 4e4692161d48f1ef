"""Webhook payloads shaped like the platforms' documented examples."""

import json
from pathlib import Path

HERE = Path(__file__).parent


def load(name: str) -> dict:
    return json.loads((HERE / f"{name}.json").read_text())


def raw(name: str) -> bytes:
    return (HERE / f"{name}.json").read_bytes()
