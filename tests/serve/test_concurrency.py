"""tests/serve/test_concurrency.py - continuous batching must not change what a client gets.

16 different chat prompts are streamed at temperature 0, first one at a time (each alone in the
server), then all 16 at once against a server with --slots 8, so eight are decoded together
while the rest wait in the queue and take the slots the first ones free, their prompts being
prefilled alongside the others' decode steps. Every client must get exactly the text and
finish_reason it got alone. /metrics is sampled meanwhile: all 8 slots must have been busy and
the queue non-empty at some point (so the test did exercise batching and queueing), and both
back at 0 at the end. Completions and embeddings are mixed in the same way once.
"""

import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import (  # noqa: E402
    SANITIZED,
    SLOTS,
    check,
    lmrt_embed,
    metric,
    metrics,
    model_ids,
    post_json,
    run_tests,
    stream_text,
    vec_close,
    wait_metric,
)

CHAT, COMP, EMB = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"
# enough for 8 slots to decode together while 8 wait (a sanitizer build is ~10x slower)
N_TOKENS = 12 if SANITIZED else 24
QUESTIONS = [
    "What is the capital of France?",
    "Write a haiku about the sea.",
    "Explain photosynthesis in one sentence.",
    "List three prime numbers.",
    "What is 12 times 12?",
    "Give me a name for a black cat.",
    "Why is the sky blue?",
    "Translate 'good morning' into Spanish.",
    "What does a compiler do?",
    "Describe a rainy day in Paris.",
    "Who wrote Romeo and Juliet?",
    "Suggest a healthy breakfast.",
    "How many legs does a spider have?",
    "What is the boiling point of water?",
    "Tell me a joke about computers, please, and make it a long one with a twist at the end.",
    "Hi",
]


def req(i):
    return {
        "model": model_ids()[0],
        "messages": [{"role": "user", "content": QUESTIONS[i]}],
        "max_tokens": N_TOKENS,
        "temperature": 0,
        "stream": True,
    }


class Sampler(threading.Thread):
    """Polls /metrics every 20 ms and keeps the largest slots-busy and queue-depth seen."""

    def __init__(self):
        super().__init__()
        self.stop, self.busy, self.queue = threading.Event(), 0, 0

    def run(self):
        while not self.stop.is_set():
            m = metrics()
            self.busy = max(self.busy, metric(m, "lmrt_slots_busy"))
            self.queue = max(self.queue, metric(m, "lmrt_queue_depth"))
            time.sleep(0.02)


def run_all_at_once(fns):
    """Start every fn at the same moment in its own thread; their results, in order."""
    results, go = [None] * len(fns), threading.Barrier(len(fns))

    def one(i):
        go.wait()
        try:
            results[i] = fns[i]()
        except Exception as e:  # the caller checks every result
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(fns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_16_streams_match_alone():
    check(len(QUESTIONS) == 16 and SLOTS == 8, f"{len(QUESTIONS)} prompts, --slots {SLOTS}")
    alone = []
    for i in range(16):
        text, finish, _ = stream_text(CHAT, req(i))
        check(text and finish in ("stop", "length"), f"prompt {i} alone: {text!r} {finish}")
        alone.append((text, finish))
    sampler = Sampler()
    sampler.start()
    t0 = time.monotonic()
    try:
        together = run_all_at_once([lambda i=i: stream_text(CHAT, req(i))[:2] for i in range(16)])
    finally:
        sampler.stop.set()
        sampler.join()
    dt = time.monotonic() - t0
    bad = [i for i in range(16) if together[i] != alone[i]]
    for i in bad:
        print(f"        prompt {i}: alone {alone[i]!r}\n        together {together[i]!r}")
    check(not bad, f"{len(bad)} of 16 concurrent streams differ from their text alone: {bad}")
    print(
        f"        16 streams at once in {dt:.1f} s; most slots busy {sampler.busy:.0f}, "
        f"deepest queue {sampler.queue:.0f}"
    )
    check(sampler.busy == SLOTS, f"at most {sampler.busy} slots were busy, want all {SLOTS}")
    check(sampler.queue >= 1, "the queue never held a request: nothing waited for a slot")
    for name in ("lmrt_slots_busy", "lmrt_queue_depth"):
        ok, v, _ = wait_metric(name, lambda v: v == 0, timeout=2.0)
        check(ok, f"{name} is {v} after every stream ended")


def test_mixed_kinds_at_once():
    """Streams, non-streamed chats, completions and embeddings at the same time."""
    texts = ["a sentence to embed", "another one, a little longer than the first"]
    want_vec = lmrt_embed(texts)
    comp = {
        "model": model_ids()[0],
        "prompt": "The capital of France is",
        "max_tokens": 12,
        "temperature": 0,
    }
    want_comp = post_json(COMP, comp)["choices"][0]["text"]
    short = [dict(req(i), max_tokens=12) for i in range(4)]
    want_chat = [stream_text(CHAT, r)[0] for r in short]
    nonstream = dict(req(5), stream=False, max_tokens=12)
    want_ns = post_json(CHAT, nonstream)["choices"][0]["message"]["content"]

    fns = [lambda r=r: stream_text(CHAT, r)[0] for r in short]
    fns += [lambda: post_json(COMP, comp)["choices"][0]["text"]] * 3
    fns += [lambda: post_json(CHAT, nonstream)["choices"][0]["message"]["content"]] * 3
    fns += [
        lambda: [
            d["embedding"]
            for d in post_json(EMB, {"model": model_ids()[1], "input": texts})["data"]
        ]
    ] * 4
    got = run_all_at_once(fns)
    for i in range(4):
        check(got[i] == want_chat[i], f"stream {i}: {got[i]!r}, alone {want_chat[i]!r}")
    for g in got[4:7]:
        check(g == want_comp, f"completion: {g!r}, alone {want_comp!r}")
    for g in got[7:10]:
        check(g == want_ns, f"chat: {g!r}, alone {want_ns!r}")
    for g in got[10:]:
        check(isinstance(g, list) and len(g) == 2, f"embedding answer {g!r}"[:300])
        for v, w in zip(g, want_vec):
            ok, cos, diff = vec_close(v, w)
            check(ok, f"embedding under load: cosine {cos:.8f}, max diff {diff:.3g}")


if __name__ == "__main__":
    run_tests(globals())
