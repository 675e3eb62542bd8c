"""Wrappers for LLM SDK clients: each call an ``llm`` run with its model, tokens and stream.

::

    import openai
    from jsontrace.wrappers import wrap_openai      # was: from langsmith.wrappers import wrap_openai

    client = wrap_openai(openai.OpenAI())
    client.chat.completions.create(model="gpt-4o-mini", messages=[...])

Importing this module needs neither ``openai`` nor ``anthropic``: the wrappers
read the client they are given and never import an SDK themselves.
"""

from __future__ import annotations

from ._anthropic import wrap_anthropic
from ._openai import wrap_openai

__all__ = ["wrap_anthropic", "wrap_openai"]
