"""tests/serve/test_openai.py - `lmrt serve` through the real `openai` Python client (PyPI).

What must hold, against the server tests/cli_serve.sh started (see common.py):
- chat and completions at temperature 0 give exactly what `lmrt run --temp 0` gives (the same
  engine, so the same tokens), with OpenAI's response shape and usage;
- streamed deltas concatenate to the non-streamed text, each chunk shaped as OpenAI's, the
  finish_reason on the last; stream_options.include_usage adds one final chunk with empty
  choices and the usage, and no chunk carries usage without it;
- stop strings cut the text before the earliest match (finish_reason "stop"), also when they
  span tokens and when streaming; max_tokens ends with "length" after exactly that many tokens;
- the same seed at temperature > 0 gives the same text, other seeds do not all agree;
- logit_bias +100 on one token makes every token that one;
- embeddings (strings, token arrays; float and base64) equal `lmrt embed`'s within cosine
  > 0.99999 or max abs diff < 1e-5, with usage counting the tokens as truncated;
- the model list; 404 for an unknown model; 401 for a wrong or missing key; 429 (the client's
  RateLimitError) when the queue is full.
Expected texts and vectors come from the CLI at run time, never from this file.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import openai  # noqa: E402
from common import (  # noqa: E402
    CTX,
    EMBED,
    Failure,
    KEY,
    KEY_URL,
    SANITIZED,
    URL,
    b64_floats,
    check,
    check_error,
    lmrt_embed,
    lmrt_run,
    lmrt_tokenize,
    GEN,
    model_ids,
    post_json,
    request,
    run_tests,
    vec_close,
)

client = openai.OpenAI(base_url=URL + "/v1", api_key="unused", max_retries=0, timeout=120)
QUESTION = "What is the capital of France?"
N = 12 if SANITIZED else 24  # tokens per answer (a sanitizer build is about ten times slower)
PROMPT = "The capital of France is"


def chat(**kw):
    kw.setdefault("model", model_ids()[0])
    kw.setdefault("messages", [{"role": "user", "content": QUESTION}])
    return client.chat.completions.create(**kw)


def completion(**kw):
    kw.setdefault("model", model_ids()[0])
    kw.setdefault("prompt", PROMPT)
    return client.completions.create(**kw)


def stream_chat(**kw):
    """Streamed chat: (text, finish_reason, chunks)."""
    chunks = list(chat(stream=True, **kw))
    text, finish = "", None
    for c in chunks:
        check(c.object == "chat.completion.chunk", f"chunk object {c.object!r}")
        for ch in c.choices:
            check(ch.index == 0, f"chunk choice index {ch.index}")
            if ch.delta.role is not None:
                check(ch.delta.role == "assistant", f"delta role {ch.delta.role!r}")
            text += ch.delta.content or ""
            if ch.finish_reason:
                check(finish is None, "two chunks with a finish_reason")
                finish = ch.finish_reason
    check(chunks, "no chunks")
    check(len({c.id for c in chunks}) == 1, f"chunk ids differ: {[c.id for c in chunks]}")
    return text, finish, chunks


def stream_completion(**kw):
    chunks = list(completion(stream=True, **kw))
    text, finish = "", None
    for c in chunks:
        check(c.object == "text_completion", f"completion chunk object {c.object!r}")
        for ch in c.choices:
            text += ch.text or ""
            if ch.finish_reason:
                check(finish is None, "two chunks with a finish_reason")
                finish = ch.finish_reason
    return text, finish, chunks


def test_models_list():
    models = client.models.list()
    ids = [m.id for m in models.data]
    gen, emb = model_ids()
    check(sorted(ids) == sorted([gen, emb]), f"models {ids}")
    for m in models.data:
        check(m.object == "model", f"model object {m.object!r}")
        check(isinstance(m.created, int), f"model created {m.created!r}")
        check(isinstance(m.owned_by, str), f"model owned_by {m.owned_by!r}")
    check("smollm2" in gen.lower(), f"text model id {gen!r} does not name the file")


def test_chat_matches_cli():
    want = lmrt_run(QUESTION, N, chat=True)
    t0 = int(time.time())
    r = chat(temperature=0, max_tokens=N)
    check(r.object == "chat.completion", f"object {r.object!r}")
    check(r.id.startswith("chatcmpl-"), f"id {r.id!r}")
    check(abs(r.created - t0) <= 5, f"created {r.created}, now {t0}")
    check(r.model == model_ids()[0], f"model {r.model!r}")
    check(len(r.choices) == 1, f"{len(r.choices)} choices")
    c = r.choices[0]
    check(c.index == 0 and c.message.role == "assistant", f"choice {c!r}")
    check(c.message.content == want, f"chat text {c.message.content!r}, lmrt run --chat {want!r}")
    check(c.finish_reason in ("stop", "length"), f"finish_reason {c.finish_reason!r}")
    u = r.usage
    check(0 < u.completion_tokens <= N, f"completion_tokens {u.completion_tokens}")
    check(u.prompt_tokens > 5, f"prompt_tokens {u.prompt_tokens} (the template adds tokens)")
    check(u.total_tokens == u.prompt_tokens + u.completion_tokens, f"usage {u!r}")
    check((c.finish_reason == "length") == (u.completion_tokens == N), f"{c.finish_reason}/{u}")


def test_chat_stream_equals_nonstream():
    msgs = [
        {"role": "system", "content": "You are brief."},
        {"role": "user", "content": "Name three colours."},
        {"role": "assistant", "content": "Red, green, blue."},
        {"role": "user", "content": "And three animals?"},
    ]
    r = chat(messages=msgs, temperature=0, max_tokens=N + 8)
    text, finish, chunks = stream_chat(messages=msgs, temperature=0, max_tokens=N + 8)
    check(text == r.choices[0].message.content, f"stream {text!r} != {r.choices[0].message!r}")
    check(finish == r.choices[0].finish_reason, f"finish {finish} != {r.choices[0].finish_reason}")
    check(chunks[0].id.startswith("chatcmpl-"), f"chunk id {chunks[0].id!r}")
    last = [c for c in chunks if c.choices][-1]
    check(last.choices[0].finish_reason == finish, "the finish_reason is not on the last chunk")
    check(all(c.usage is None for c in chunks), "usage in a chunk without include_usage")
    # one delta per token (a token that ends inside a UTF-8 character waits for the next)
    pieces = sum(1 for c in chunks for ch in c.choices if ch.delta.content)
    n = r.usage.completion_tokens
    check(pieces * 2 >= n, f"{pieces} text chunks for {n} tokens: not flushed per token")


def test_include_usage():
    r = chat(temperature=0, max_tokens=16)
    text, finish, chunks = stream_chat(
        temperature=0, max_tokens=16, stream_options={"include_usage": True}
    )
    check(text == r.choices[0].message.content, "include_usage changed the text")
    final = chunks[-1]
    check(final.choices == [], f"the usage chunk has choices {final.choices!r}")
    check(final.usage is not None, "no usage in the last chunk")
    check(final.usage.prompt_tokens == r.usage.prompt_tokens, f"{final.usage} vs {r.usage}")
    check(final.usage.completion_tokens == r.usage.completion_tokens, f"{final.usage}/{r.usage}")
    check(final.usage.total_tokens == r.usage.total_tokens, f"{final.usage} vs {r.usage}")
    check(all(c.usage is None for c in chunks[:-1]), "usage before the last chunk")


def test_completions_match_cli():
    want = lmrt_run(PROMPT, 16)
    r = completion(temperature=0, max_tokens=16)
    check(r.object == "text_completion", f"object {r.object!r}")
    check(r.id.startswith("cmpl-"), f"id {r.id!r}")
    check(r.choices[0].text == want, f"completion {r.choices[0].text!r}, lmrt run {want!r}")
    check(r.usage.completion_tokens <= 16, f"usage {r.usage}")
    text, finish, _ = stream_completion(temperature=0, max_tokens=16)
    check(text == want, f"streamed completion {text!r}, lmrt run {want!r}")
    check(finish == r.choices[0].finish_reason, f"finish {finish} vs {r.choices[0].finish_reason}")


def test_stop_strings():
    full = completion(temperature=0, max_tokens=N).choices[0].text
    words = [w for w in full.split() if len(w) >= 3 and full.find(w) > 0]
    check(len(words) >= 2, f"too few words to stop on in {full!r}")
    late, early = words[len(words) // 2], words[0]
    span = full[len(full) // 3 : len(full) // 3 + 5]  # likely across a token boundary
    cases = [
        (late, [late]),
        (span, [span]),
        (None, [late, early]),  # the earliest match wins, whatever the order
        (None, "zzzz-never-zzzz"),
    ]
    for one, stop in cases:
        stops = [stop] if isinstance(stop, str) else stop
        hits = [full.find(s) for s in stops if full.find(s) >= 0]
        want = full[: min(hits)] if hits else full
        r = completion(temperature=0, max_tokens=N, stop=stop)
        got = r.choices[0].text
        check(got == want, f"stop={stop!r}: {got!r}, want {want!r} (from {full!r})")
        if hits:
            check(r.choices[0].finish_reason == "stop", f"stop={stop!r}: {r.choices[0]!r}")
        text, finish, _ = stream_completion(temperature=0, max_tokens=N, stop=stop)
        check(text == want, f"streamed, stop={stop!r}: {text!r}, want {want!r}")
        check(finish == r.choices[0].finish_reason, f"stop={stop!r}: streamed finish {finish}")
    # chat too
    answer = chat(temperature=0, max_tokens=N).choices[0].message.content
    w = [w for w in answer.split() if len(w) >= 3 and answer.find(w) > 0]
    check(w, f"no word to stop on in {answer!r}")
    r = chat(temperature=0, max_tokens=N, stop=[w[0]])
    want = answer[: answer.find(w[0])]
    check(r.choices[0].message.content == want, f"chat stop {w[0]!r}: {r.choices[0].message!r}")
    check(r.choices[0].finish_reason == "stop", f"chat stop: {r.choices[0].finish_reason}")


def test_max_tokens_length():
    r = completion(prompt="Once upon a time, in a land far away,", temperature=0, max_tokens=5)
    check(r.choices[0].finish_reason == "length", f"finish {r.choices[0].finish_reason!r}")
    check(r.usage.completion_tokens == 5, f"completion_tokens {r.usage.completion_tokens}")
    r = chat(temperature=0, max_tokens=3)
    check(r.choices[0].finish_reason == "length", f"chat finish {r.choices[0].finish_reason!r}")
    check(r.usage.completion_tokens == 3, f"chat completion_tokens {r.usage.completion_tokens}")
    text, finish, _ = stream_chat(temperature=0, max_tokens=3)
    check(finish == "length" and text == r.choices[0].message.content, f"{text!r} {finish}")


def test_seed_determinism():
    kw = dict(temperature=1.0, top_p=0.95, max_tokens=N)
    a = chat(seed=1234, **kw).choices[0].message.content
    b = chat(seed=1234, **kw).choices[0].message.content
    check(a == b, f"seed 1234 twice: {a!r} vs {b!r}")
    s, _, _ = stream_chat(seed=1234, **kw)
    check(s == a, f"seed 1234 streamed: {s!r} vs {a!r}")
    others = [chat(seed=seed, **kw).choices[0].message.content for seed in (1, 2, 3)]
    check(any(o != a for o in others), f"seeds 1, 2, 3 and 1234 all gave {a!r}")
    # penalties are accepted and deterministic too
    kw.update(presence_penalty=0.5, frequency_penalty=0.5)
    p = [completion(seed=7, **kw).choices[0].text for _ in range(2)]
    check(p[0] == p[1], f"penalised, seed 7 twice: {p}")


def test_logit_bias():
    ids = lmrt_tokenize(GEN, " Paris", special=False)
    check(len(ids) == 1, f"' Paris' is {ids} in SmolLM2's vocabulary")
    r = completion(prompt="Hello", temperature=0, max_tokens=4, logit_bias={str(ids[0]): 100})
    check(r.choices[0].text == " Paris" * 4, f"logit_bias +100: {r.choices[0].text!r}")
    first = completion(temperature=0, max_tokens=1).choices[0].text
    tok = lmrt_tokenize(GEN, first, special=False)
    check(len(tok) == 1, f"first greedy token {first!r} is {tok}")
    r = completion(temperature=0, max_tokens=1, logit_bias={str(tok[0]): -100})
    check(r.choices[0].text != first, f"logit_bias -100 on {first!r} still gave it")


TEXTS = [
    "hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Größe, café, naïve - ünïcödé ✓ 日本語のテキスト 🙂",
    "  leading and trailing spaces  ",
    " ".join(["a long text that the model must truncate to its 512 positions"] * 60),
]


def test_embeddings_float():
    want = lmrt_embed(TEXTS)
    r = client.embeddings.create(model=model_ids()[1], input=TEXTS, encoding_format="float")
    check(r.object == "list", f"object {r.object!r}")
    check(r.model == model_ids()[1], f"model {r.model!r}")
    check(len(r.data) == len(TEXTS), f"{len(r.data)} embeddings for {len(TEXTS)} texts")
    for i, d in enumerate(r.data):
        check(d.object == "embedding" and d.index == i, f"data[{i}]: {d.object} {d.index}")
        ok, cos, diff = vec_close(d.embedding, want[i])
        check(ok, f"text {i}: cosine {cos:.8f}, max diff {diff:.3g} against lmrt embed")
    n_tok = sum(min(len(lmrt_tokenize(EMBED, t)), 512) for t in TEXTS)
    check(r.usage.prompt_tokens == n_tok, f"usage {r.usage}, want {n_tok} prompt tokens")
    check(r.usage.total_tokens == n_tok, f"usage {r.usage}")
    one = client.embeddings.create(model=model_ids()[1], input=TEXTS[1], encoding_format="float")
    check(len(one.data) == 1, f"{len(one.data)} embeddings for one string")
    ok, cos, diff = vec_close(one.data[0].embedding, want[1])
    check(ok, f"single string: cosine {cos:.8f}, max diff {diff:.3g}")


def test_embeddings_base64():
    want = lmrt_embed(TEXTS[:3])
    obj = post_json(
        "/v1/embeddings",
        {"model": model_ids()[1], "input": TEXTS[:3], "encoding_format": "base64"},
    )
    for i, d in enumerate(obj["data"]):
        check(isinstance(d["embedding"], str), f"base64 data[{i}] is {type(d['embedding'])}")
        v = b64_floats(d["embedding"])
        check(len(v) == 384, f"base64 data[{i}]: {len(v)} floats")
        ok, cos, diff = vec_close(v, want[i])
        check(ok, f"base64 text {i}: cosine {cos:.8f}, max diff {diff:.3g}")
    # the client passes base64 through; decoded it is the same vector
    r = client.embeddings.create(model=model_ids()[1], input=TEXTS[0], encoding_format="base64")
    e = r.data[0].embedding
    v = b64_floats(e) if isinstance(e, str) else e
    ok, cos, diff = vec_close(v, want[0])
    check(ok, f"client base64: cosine {cos:.8f}, max diff {diff:.3g}")


def test_embeddings_tokens():
    want = lmrt_embed(["hello world", "The quick brown fox"])
    ids = [lmrt_tokenize(EMBED, t) for t in ("hello world", "The quick brown fox")]
    r = client.embeddings.create(model=model_ids()[1], input=ids, encoding_format="float")
    for i in range(2):
        ok, cos, diff = vec_close(r.data[i].embedding, want[i])
        check(ok, f"token array {ids[i]}: cosine {cos:.8f}, max diff {diff:.3g}")
    check(r.usage.prompt_tokens == len(ids[0]) + len(ids[1]), f"usage {r.usage}")
    r = client.embeddings.create(model=model_ids()[1], input=ids[0], encoding_format="float")
    ok, cos, diff = vec_close(r.data[0].embedding, want[0])
    check(len(r.data) == 1 and ok, f"one token array: cosine {cos:.8f}")


def expect_status(fn, status, cls, what, mention=None):
    try:
        fn()
    except openai.APIStatusError as e:
        check(isinstance(e, cls), f"{what}: {type(e).__name__}, want {cls.__name__}")
        check_error(e.status_code, e.response.content, status, what, mention)
        return
    raise Failure(f"{what}: no error")


def test_unknown_model_404():
    nf = openai.NotFoundError
    expect_status(lambda: chat(model="no-such-model"), 404, nf, "chat", "no-such-model")
    expect_status(lambda: completion(model="no-such-model"), 404, nf, "completion")
    expect_status(
        lambda: client.embeddings.create(model="no-such-model", input="x"), 404, nf, "embedding"
    )
    # a model of the wrong kind is an error too, not a silent answer from the other one
    try:
        client.embeddings.create(model=model_ids()[0], input="x")
        raise Failure("embeddings with the text model answered 200")
    except openai.APIStatusError as e:
        check(e.status_code in (400, 404), f"embeddings with the text model: {e.status_code}")
        check_error(e.status_code, e.response.content, e.status_code, "wrong-kind model")


def test_prompt_over_context():
    long_prompt = "hello " * (CTX + 100)
    expect_status(
        lambda: completion(prompt=long_prompt, max_tokens=4),
        400,
        openai.BadRequestError,
        "prompt over the context",
        str(CTX),
    )


def test_api_key():
    check(KEY_URL and KEY, "no key server in the environment (LMRT_SERVE_KEY_URL)")
    au = openai.AuthenticationError
    for key in ("wrong-" + KEY, KEY + "x", KEY[:-1]):
        bad = openai.OpenAI(base_url=KEY_URL + "/v1", api_key=key, max_retries=0)
        expect_status(lambda: bad.models.list(), 401, au, f"key {key!r}")
        expect_status(
            lambda: bad.completions.create(model="x", prompt="hi", max_tokens=1), 401, au, "key"
        )
    for hdr in ({}, {"Authorization": "Basic " + KEY}, {"Authorization": KEY}):
        status, _, data = request("GET", "/v1/models", headers=hdr, url=KEY_URL)
        check_error(status, data, 401, f"headers {hdr}")
    good = openai.OpenAI(base_url=KEY_URL + "/v1", api_key=KEY, max_retries=0)
    ids = [m.id for m in good.models.list().data]
    r = good.completions.create(model=ids[0], prompt=PROMPT, max_tokens=2, temperature=0)
    check(r.usage.completion_tokens >= 1, f"with the key: {r!r}")


def test_queue_full_429():
    """The key server has --slots 1 --max-queue 1: of 4 simultaneous requests one runs, at most
    one waits, the others get 429 (the client's RateLimitError)."""
    good = openai.OpenAI(base_url=KEY_URL + "/v1", api_key=KEY, max_retries=0, timeout=120)
    gid = [m.id for m in good.models.list().data if "minilm" not in m.id.lower()][0]
    results, go = [None] * 4, threading.Barrier(4)

    def one(i):
        go.wait()
        try:
            good.completions.create(
                model=gid, prompt="Once upon a time", max_tokens=48, temperature=0
            )
            results[i] = 200
        except openai.RateLimitError as e:
            check_error(e.status_code, e.response.content, 429, "queue full")
            results[i] = 429
        except Exception as e:  # reported below
            results[i] = repr(e)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(all(r in (200, 429) for r in results), f"results {results}")
    check(1 <= results.count(200) <= 2 and results.count(429) >= 2, f"results {results}")


if __name__ == "__main__":
    run_tests(globals())
