"""The OpenAI SDK's errors, for `except` clauses, without importing the SDK.

The SDK is imported where a model is first called: its import holds ~15 MiB (~6 with its type
packages deferred) that an idle worker, or one whose agents run offline, does not need. Until
something imported it, no code could have raised one of its errors, so there is nothing to catch.
"""

from __future__ import annotations

import sys


def openai_errors(*others: type[Exception]) -> tuple[type[Exception], ...]:
    """`others`, and `openai.OpenAIError` once the SDK is imported."""
    sdk = sys.modules.get("openai")
    return (*others, sdk.OpenAIError) if sdk is not None else others
