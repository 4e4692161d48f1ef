"""A small synchronous JSON client for the Kushim HTTP API."""

import json
import urllib.error
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:3001"


class CliError(Exception):
    """An expected failure, shown as one line; `exit_code` is what the command returns."""

    exit_code = 1


class ConnectionFailed(CliError):
    exit_code = 2


class ApiError(CliError):
    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        self.status, self.code, self.details = status, code, details or {}
        super().__init__(message)

    @property
    def transient(self) -> bool:
        return self.status in (502, 503, 504)

    def __str__(self) -> str:
        text = f"{self.args[0]} (HTTP {self.status} {self.code})"
        if self.status == 401:
            text += "; run `kushim login` (or set KUSHIM_TOKEN)"
        return text


class Client:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, *,
                timeout: float | None = None, answer_statuses: tuple[int, ...] = ()) -> Any:
        """The decoded JSON answer; ApiError for an error status not in answer_statuses."""
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 - the URL is the user's KUSHIM_URL
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout or self.timeout) as response:  # noqa: S310
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code in answer_statuses:
                try:
                    return json.loads(exc.read())
                except ValueError:
                    pass
            raise _api_error(exc) from None
        except urllib.error.URLError as exc:
            raise ConnectionFailed(
                f"cannot reach Kushim at {self.base_url}: {exc.reason}"
            ) from None
        except (TimeoutError, ConnectionError) as exc:
            raise ConnectionFailed(f"cannot reach Kushim at {self.base_url}: {exc}") from None
        except ValueError:
            raise CliError(f"{self.base_url} answered something that is not JSON") from None

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, body: Any, *, timeout: float | None = None) -> Any:
        return self.request("POST", path, body, timeout=timeout)


def _api_error(exc: urllib.error.HTTPError) -> ApiError:
    try:
        payload = json.loads(exc.read() or b"{}")
        error = payload.get("error", {}) if isinstance(payload, dict) else {}
    except ValueError:
        error = {}
    return ApiError(exc.code, error.get("code", "error"),
                    error.get("message", exc.reason or "request failed"), error.get("details"))
