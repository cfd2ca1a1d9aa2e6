"""Perplexity's chat completions API (key from a secret, base URL overridable for local runs)."""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters

from .http_client import ExternalCallError, raise_for_status, request

DEFAULT_BASE_URL = "https://api.perplexity.ai"
DEFAULT_MODEL = "sonar"
SECRET_CACHE_SECONDS = 300


def complete(prompt: str, deadline: float, *, system: str = "Be precise and concise.") -> str:
    api_key = parameters.get_secret(os.environ["PERPLEXITY_API_KEY_SECRET_NAME"], max_age=SECRET_CACHE_SECONDS)
    base_url = os.environ.get("PERPLEXITY_API_BASE_URL", DEFAULT_BASE_URL).rstrip("/")
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
