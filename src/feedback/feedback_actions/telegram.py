"""notify: a Telegram Bot API `sendMessage` to the user's chat.

The chat per user comes from the SSM parameter TELEGRAM_CHATS_PARAMETER, a JSON map
`{"<userId>": "<chatId>", "*": "<default chatId>"}`, which the operator creates (the stack
does not own it, so no deploy overwrites it); while it does not exist nobody has a chat.
The bot token comes from a secret.
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from automation_shared.contracts import ResultMessage
from automation_shared.http_client import api_access, raise_for_status, request

DEFAULT_BASE_URL = "https://api.telegram.org"
CACHE_SECONDS = 300
MAX_TEXT = 4096  # Telegram's limit for one message


def chat_for(user_id: str) -> str | None:
    try:
        chats = parameters.get_parameter(
            os.environ["TELEGRAM_CHATS_PARAMETER"], transform="json", max_age=CACHE_SECONDS
        )
    except GetParameterError as failed:
        if "ParameterNotFound" not in str(failed):
            raise
        return None  # not created yet: nobody has a chat
    chat = chats.get(user_id, chats.get("*")) if isinstance(chats, dict) else None
    return str(chat) if chat else None


def message_text(result: ResultMessage, summary: str | None = None) -> str:
    text = (
        f"{result.status.value.upper()} {result.taskType} ({result.orderId})\n{summary or result.result.summary or ''}"
    )
    return text[:MAX_TEXT]


def send(chat_id: str, text: str, deadline: float) -> None:
    token, base_url = api_access("TELEGRAM_BOT_TOKEN_SECRET_NAME", "TELEGRAM_API_BASE_URL", DEFAULT_BASE_URL)
    response = request(
        f"{base_url}/bot{token}/sendMessage", deadline, method="POST", json_body={"chat_id": chat_id, "text": text}
    )
    raise_for_status(response, "Telegram")
