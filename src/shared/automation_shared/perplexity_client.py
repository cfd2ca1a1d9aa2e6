"""Perplexity's chat completions API (key from a secret, base URL overridable for local runs)."""

from __future__ import annotations

import os

from .http_client import ExternalCallError, api_access, raise_for_status, request

DEFAULT_BASE_URL = "https://api.perplexity.ai"
DEFAULT_MODEL = "sonar"


def complete(prompt: str, deadline: float, *, system: str = "Be precise and concise.") -> str:
    api_key, base_url = api_access("PERPLEXITY_API_KEY_SECRET_NAME", "PERPLEXITY_API_BASE_URL", DEFAULT_BASE_URL)
    response = request(
        f"{base_url}/chat/completions",
        deadline,
        method="POST",
        headers={"Authorization": f"Bearer {api_key}"},
        json_body={
            "model": os.environ.get("PERPLEXITY_MODEL", DEFAULT_MODEL),
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": prompt}],
        },
    )
    raise_for_status(response, "Perplexity")
    try:
        return str(response.json()["choices"][0]["message"]["content"])
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise ExternalCallError("Perplexity answered without a completion") from error
