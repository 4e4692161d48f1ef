"""Where the bearer token lives: KUSHIM_TOKEN, or a 0600 file under ~/.config/kushim."""

import json
import os
from collections.abc import Mapping
from pathlib import Path


def config_dir(env: Mapping[str, str] = os.environ) -> Path:
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(base) / "kushim"


def token_path(env: Mapping[str, str] = os.environ) -> Path:
    return config_dir(env) / "credentials.json"


def save(url: str, token: str, email: str, env: Mapping[str, str] = os.environ) -> Path:
    path = token_path(env)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"url": url, "token": token, "email": email}, f)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load(url: str, env: Mapping[str, str] = os.environ) -> str | None:
    """KUSHIM_TOKEN, else the saved token when it was issued by the same URL."""
    if env.get("KUSHIM_TOKEN"):
        return env["KUSHIM_TOKEN"]
    try:
        saved = json.loads(token_path(env).read_text())
    except (OSError, ValueError):
        return None
    if isinstance(saved, dict) and saved.get("url", "").rstrip("/") == url.rstrip("/"):
        return saved.get("token")
    return None
