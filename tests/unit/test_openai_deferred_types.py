"""The OpenAI SDK with its type packages deferred answers as before, with far fewer modules.

The worker's entry defers them (`wta_runtime.openai_deferred_types`) to keep the SDK's unused
type modules out of every model-calling tenant's pod; a fresh interpreter with and without the
deferral makes the calls the runtime makes against a scripted endpoint and compares.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wta_runtime.openai_deferred_types import DeferredTypesFinder, Origin, reexports

SDK_CALLS = """
import json, sys
if sys.argv[1] == "deferred":
    from wta_runtime import openai_deferred_types
    openai_deferred_types.install()

import asyncio
import httpx2
import openai
from openai.types.chat import ChatCompletionMessageToolCall
from openai.types.chat.chat_completion import ChatCompletion

CHAT = {
    "id": "c1", "object": "chat.completion", "created": 1, "model": "m",
    "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": None, "tool_calls": [{
            "id": "t1", "type": "function",
            "function": {"name": "opening_hours", "arguments": "{}"}}]}}],
    "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
}
EMBEDDINGS = {
    "object": "list", "model": "e",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 0.25]}],
    "usage": {"prompt_tokens": 1, "total_tokens": 1},
}


def answer(request):
    path = request.url.path
    if path.endswith("/chat/completions"):
        if json.loads(request.content)["model"] == "busy":
            return httpx2.Response(429, json={"error": {"message": "slow down"}})
        return httpx2.Response(200, json=CHAT)
    if path.endswith("/embeddings"):
        return httpx2.Response(200, json=EMBEDDINGS)
    if path.endswith("/audio/transcriptions"):
        return httpx2.Response(200, json={"text": "hello"})
    return httpx2.Response(404, json={"error": {"message": path}})


async def calls():
    client = openai.AsyncOpenAI(
        api_key="sk-test", base_url="http://model.test/v1", max_retries=0,
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(answer)),
    )
    messages = [{"role": "user", "content": "when are you open?"}]
    tools = [{"type": "function", "function": {"name": "opening_hours", "parameters": {}}}]
    typed = await client.chat.completions.create(model="m", messages=messages, tools=tools)
    raw = await client.post(
        "/chat/completions", body={"model": "m", "messages": messages}, cast_to=object
    )
    vectors = await client.embeddings.create(model="e", input="hours")
    heard = await client.audio.transcriptions.create(
        model="w", file=("voice.ogg", b"OggS", "audio/ogg")
    )
    try:
        await client.post("/chat/completions", body={"model": "busy"}, cast_to=object)
        refused = None
    except openai.APIStatusError as exc:
        refused = [type(exc).__name__, exc.status_code]
    await client.close()
    call = typed.choices[0].message.tool_calls[0]
    return {
        "typed": [type(typed).__name__, type(call).__name__, call.function.name],
        "raw": raw["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
        "embedding": vectors.data[0].embedding,
        "transcription": heard.text,
        "refused": refused,
    }


found = asyncio.run(calls())
# Providers other than `openai` go through LangChain, whose adapter reads the SDK's types.
from wta_runtime.agents.langchain_models import to_langchain

found["langchain"] = type(to_langchain([{"role": "user", "content": "hi"}])[0]).__name__
chat = openai.types.chat
namespace = {}
exec("from openai.types.chat import *", namespace)
found |= {
    "same class": chat.ChatCompletion is ChatCompletion,
    "tool call": ChatCompletionMessageToolCall.__name__,
    "in dir": "ChatCompletionToolParam" in dir(chat),
    "star import": "ChatCompletionMessageParam" in namespace,
    "unknown name": hasattr(chat, "NoSuchType"),
    "submodule": openai.types.shared.chat_model.__name__,
}
loaded = sum(1 for name in sys.modules if name.startswith("openai.types"))
print(json.dumps({"found": found, "loaded": loaded}))
"""


def _sdk_calls(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SDK_CALLS, mode],
        env={k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "WTA_"))},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_the_sdk_answers_as_before_with_far_fewer_type_modules() -> None:
    eager, deferred = _sdk_calls("eager"), _sdk_calls("deferred")
    assert deferred["found"] == eager["found"]
    assert eager["found"] == {
        "typed": ["ChatCompletion", "ChatCompletionMessageFunctionToolCall", "opening_hours"],
        "raw": "opening_hours",
        "embedding": [0.5, 0.25],
        "transcription": "hello",
        "refused": ["RateLimitError", 429],
        "same class": True,
        "tool call": "ChatCompletionMessageFunctionToolCall",
        "in dir": True,
        "star import": True,
        "unknown name": False,
        "submodule": "openai.types.shared.chat_model",
        "langchain": "HumanMessage",
    }
    assert isinstance(eager["loaded"], int)
    assert isinstance(deferred["loaded"], int)
    # ~500 type modules eagerly; the calls above need about a fifth of them.
    assert deferred["loaded"] * 3 < eager["loaded"]


def test_the_pods_command_defers_the_sdks_types() -> None:
    """`python -m wta_runtime worker` up to its first settings error has the finder installed."""
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['wta_runtime', 'worker']\n"
        "try:\n"
        "    runpy.run_module('wta_runtime', run_name='__main__', alter_sys=True)\n"
        "except SystemExit:\n"
        "    pass\n"
        "print([type(f).__name__ for f in sys.meta_path].count('DeferredTypesFinder'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "WTA_WORKER_CONCURRENCY": "many"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout.splitlines()[-1] == "1", done.stderr


def test_reexports_are_read_without_running_the_init() -> None:
    source = (
        '"""Types."""\n'
        "from __future__ import annotations\n"
        "from .shared import Model as Model, Other\n"
        "from .model import Model as Model\n"
        "from .deep.inner import Thing as Alias\n"
        "from . import extra\n"
    )
    assert reexports(source) == {
        "shared": Origin("shared", None),
        "Model": Origin("model", "Model"),  # the last binding wins, as it does when run
        "Other": Origin("shared", "Other"),
        "model": Origin("model", None),
        "deep": Origin("deep", None),
        "Alias": Origin("deep.inner", "Thing"),
        "extra": Origin("extra", None),
    }


@pytest.mark.parametrize(
    "source",
    [
        "from .a import A\nX = 1\n",
        "from .a import A\nif A:\n    pass\n",
        "from .a import *\n",
        "from ..a import A\n",
        "from openai.types.a import A\n",
        "import os\n",
        "from .a import (\n",
    ],
)
def test_an_init_that_does_more_than_reexport_is_not_deferred(source: str) -> None:
    assert reexports(source) is None


@pytest.fixture
def sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package `fakesdk` with `fakesdk.types`, its `__init__`s recording that they ran."""
    package = "fakesdk"
    types = tmp_path / package / "types"
    (types / "plain").mkdir(parents=True)
    (types / "busy").mkdir()
    (tmp_path / package / "__init__.py").write_text("")
    (types / "__init__.py").write_text(
        "from .plain import Plain as Plain\nfrom .widget import Widget as Widget\n"
    )
    (types / "widget.py").write_text("class Widget:\n    pass\n")
    (types / "plain" / "__init__.py").write_text("from .plain import Plain as Plain\n")
    (types / "plain" / "plain.py").write_text("class Plain:\n    pass\n")
    (types / "busy" / "__init__.py").write_text("RAN = True\nfrom .parts import Part as Part\n")
    (types / "busy" / "parts.py").write_text("class Part:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", [DeferredTypesFinder(f"{package}.types"), *sys.meta_path])
    yield package
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]


def test_a_deferred_package_imports_a_name_on_first_use(sdk: str) -> None:
    types: ModuleType = importlib.import_module(f"{sdk}.types")
    assert f"{sdk}.types.widget" not in sys.modules
    assert types.Widget.__module__ == f"{sdk}.types.widget"
    assert f"{sdk}.types.plain" not in sys.modules
    plain = importlib.import_module(f"{sdk}.types.plain")
    assert plain.Plain is types.Plain
    assert not hasattr(types, "Missing")


def test_a_package_that_does_more_than_reexport_runs_its_init(sdk: str) -> None:
    busy = importlib.import_module(f"{sdk}.types.busy")
    assert busy.RAN is True
    assert f"{sdk}.types.busy.parts" in sys.modules
