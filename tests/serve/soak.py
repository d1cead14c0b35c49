"""tests/serve/soak.py - a bounded soak of `lmrt serve` on loopback: mixed traffic for a fixed
time, then no errors, RSS flat and no stuck slots.

    soak.py --duration 180 [--workers 6]               # starts its own server (A's settings)
    soak.py --url http://127.0.0.1:PORT --pid PID ...   # or soaks a running one

Workers pick at random: streamed chat, chat, completion (all at temperature 0, checked against
the text the same request gave at the start), seeded sampling at temperature 0.8 (checked
against the first answer for that seed), embeddings (checked against `lmrt embed`), a hostile
request from test_hostile.py (checked for its 4xx error body), and a stream dropped after its
first event. A sampler reads VmRSS every 2 s. It passes when no request failed, RSS at the end
is less than 2 MiB above RSS at the end of the warm-up (the first half of the time, and at
least 100 requests), the KV cache having been filled
first (every slot to the end of its context) so that its first touches do not count, and
lmrt_slots_busy and lmrt_queue_depth are 0 within 2 s of the last request. Not part of
`ninja test` (it takes minutes); tests/cli_serve.sh runs it when LMRT_SERVE_SOAK=SECONDS.
"""

import argparse
import os
import random
import sys
import threading
import time

here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--duration", type=float, default=60, help="seconds of traffic (default 60)")
ap.add_argument("--workers", type=int, default=6, help="concurrent clients (default 6)")
ap.add_argument("--url", help="soak a running server (else start one)")
ap.add_argument("--pid", type=int, help="its process id, for RSS (with --url)")
ap.add_argument("--ctx", type=int, default=512, help="the server's --ctx (default 512)")
ap.add_argument("--lmrt", default="build/lmrt")
ap.add_argument("--model", default="build/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
ap.add_argument("--embed-model", default="build/models/minilm")
ap.add_argument("--threads", default="2")
ap.add_argument("--seed", type=int, default=1)
args = ap.parse_args()
if args.url and not args.pid:
    ap.error("--url needs --pid (RSS is read from /proc/PID/status)")
os.environ.update(
    LMRT=args.lmrt,
    LMRT_SERVE_GEN=args.model,
    LMRT_SERVE_EMBED=args.embed_model,
    LMRT_SERVE_CTX=str(args.ctx),
    LMRT_SERVE_THREADS=args.threads,
)
sys.path.insert(0, here)
import common  # noqa: E402
import test_hostile  # noqa: E402
from common import check, metric, metrics, post_json, rss_kib, stream_text, vec_close  # noqa

CHAT, COMP, EMB = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"
PROMPTS = [
    "What is the capital of France?",
    "Write a short poem about autumn.",
    "Explain what a CPU does.",
    "Name four fruits.",
    "Hi",
    "Why do cats purr?",
]
SENTENCES = [
    "the soak test embeds this sentence",
    "and this one",
    "café ✓ 日本語",
    "a somewhat longer sentence with several more words in it than the others",
]


def chat_req(i, stream, **kw):
    r = {
        "model": common.model_ids()[0],
        "messages": [{"role": "user", "content": PROMPTS[i]}],
        "max_tokens": 24,
        "temperature": 0,
        "stream": stream,
    }
    r.update(kw)
    return r


class Soak:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts, self.errors, self.seeded = {}, [], {}
        self.ref_chat = [
            post_json(CHAT, chat_req(i, False))["choices"][0]["message"]["content"]
            for i in range(len(PROMPTS))
        ]
        self.ref_comp = post_json(
            COMP,
            {
                "model": common.model_ids()[0],
                "max_tokens": 16,
                "prompt": "Once upon a time",
                "temperature": 0,
            },
        )
        self.ref_comp = self.ref_comp["choices"][0]["text"]
        self.ref_vec = common.lmrt_embed(SENTENCES)
        self.hostile = test_hostile.hostile_mix()

    def op_stream(self, rnd):
        i = rnd.randrange(len(PROMPTS))
        text, _, _ = stream_text(CHAT, chat_req(i, True))
        check(text == self.ref_chat[i], f"stream {i}: {text!r} vs {self.ref_chat[i]!r}")

    def op_chat(self, rnd):
        i = rnd.randrange(len(PROMPTS))
        text = post_json(CHAT, chat_req(i, False))["choices"][0]["message"]["content"]
        check(text == self.ref_chat[i], f"chat {i}: {text!r} vs {self.ref_chat[i]!r}")

    def op_completion(self, rnd):
        obj = post_json(
            COMP,
            {
                "model": common.model_ids()[0],
                "prompt": "Once upon a time",
                "max_tokens": 16,
                "temperature": 0,
            },
        )
        text = obj["choices"][0]["text"]
        check(text == self.ref_comp, f"completion {text!r} vs {self.ref_comp!r}")

    def op_seeded(self, rnd):
        seed = rnd.randrange(4)
        r = chat_req(seed, rnd.random() < 0.5, temperature=0.8, seed=seed)
        text = (
            stream_text(CHAT, r)[0]
            if r["stream"]
            else post_json(CHAT, r)["choices"][0]["message"]["content"]
        )
        with self.lock:
            want = self.seeded.setdefault(seed, text)
        check(text == want, f"seed {seed}: {text!r} vs {want!r}")

    def op_embed(self, rnd):
        k = rnd.randrange(1, len(SENTENCES) + 1)
        obj = post_json(EMB, {"model": common.model_ids()[1], "input": SENTENCES[:k]})
        for d in obj["data"]:
            ok, cos, diff = vec_close(d["embedding"], self.ref_vec[d["index"]])
            check(ok, f"embedding {d['index']}: cosine {cos:.8f}, max diff {diff:.3g}")

    def op_hostile(self, rnd):
        rnd.choice(self.hostile)()

    def op_drop(self, rnd):
        test_hostile.start_stream(
            chat_req(rnd.randrange(len(PROMPTS)), True, max_tokens=200)
        ).close()

    def worker(self, wid, deadline):
        rnd = random.Random(args.seed * 1000 + wid)
        ops = [
            (self.op_stream, 3),
            (self.op_chat, 2),
            (self.op_completion, 2),
            (self.op_seeded, 1),
            (self.op_embed, 2),
            (self.op_hostile, 6),
            (self.op_drop, 1),
        ]
        fns, weights = zip(*ops)
        while time.monotonic() < deadline:
            fn = rnd.choices(fns, weights)[0]
            name = fn.__name__[3:]
            try:
                fn(rnd)
                err = None
            except Exception as e:  # every failure is counted and reported
                err = f"{name}: {e!r}"[:400]
            with self.lock:
                self.counts[name] = self.counts.get(name, 0) + 1
                if err:
                    self.errors.append(err)


def fill_kv():
    """Run one long stream in every slot at once, to the end of its context: the KV cache is
    touched lazily, so without this RSS climbs for minutes as slots first reach new positions
    (by up to the cache's size, ~94 MB for SmolLM2 at 8 x 512), which is not a leak."""
    slots = int(metric(metrics(), "lmrt_slots_total"))
    # SmolLM2's end tokens (<|endoftext|>, <|im_start|>, <|im_end|>) held off, so none stops early
    no_end = {"0": -100, "1": -100, "2": -100}
    t0, got = time.monotonic(), [0] * slots

    def one(i):
        r = {
            "model": common.model_ids()[0],
            "prompt": f"Story {i}: once upon a time",
            "max_tokens": args.ctx - 16,
            "temperature": 0.8,
            "seed": i,
            "logit_bias": no_end,
        }
        got[i] = post_json(COMP, r, timeout=900)["usage"]["completion_tokens"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(
        f"soak: KV cache filled: {slots} slots, {sum(got)} tokens in "
        f"{time.monotonic() - t0:.0f} s; VmRSS {rss_kib()} KiB"
    )


def main():
    proc = None
    if args.url:
        common.URL, common.PID = args.url, args.pid
    else:
        log = f"/tmp/lmrt-soak-{os.getpid()}.log"
        proc, common.URL = common.start_server(
            [
                "-m",
                args.model,
                "--embed-model",
                args.embed_model,
                "--slots",
                "8",
                "--ctx",
                str(args.ctx),
                "-t",
                args.threads,
            ],
            log,
            args.lmrt,
        )
        common.PID = proc.pid
        print(f"soak: server pid {proc.pid} at {common.URL}, log {log}")
    fill_kv()
    soak = Soak()
    t0 = time.monotonic()
    deadline = t0 + args.duration
    warm = max(10.0, args.duration / 2)
    samples, stop = [], threading.Event()

    def sampler():
        while not stop.wait(2.0):
            with soak.lock:
                n = sum(soak.counts.values())
            samples.append((time.monotonic() - t0, rss_kib(), n))

    st = threading.Thread(target=sampler)
    st.start()
    workers = [
        threading.Thread(target=soak.worker, args=(w, deadline)) for w in range(args.workers)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    st.join()
    elapsed = time.monotonic() - t0
    settled = {}
    for name in ("lmrt_slots_busy", "lmrt_queue_depth"):
        ok, v, dt = common.wait_metric(name, lambda v: v == 0, timeout=2.0)
        settled[name] = (ok, v, dt)
    rss_end = rss_kib()
    # the warm-up is the first half (allocator arenas and caches reach their high-water marks
    # over the first thousand or so requests); a leak shows as growth over the second half
    base = next((i for i, (t, _, n) in enumerate(samples) if t >= warm and n >= 100), None)
    after = [r for _, r, _ in samples[base:]] if base is not None else []
    rss_warm = after[0] if after else rss_end
    warm_t = samples[base][0] if after else elapsed
    m = metrics()

    total = sum(soak.counts.values())
    print(
        f"soak: {total} requests in {elapsed:.0f} s by {args.workers} workers "
        f"({total / elapsed:.1f}/s): "
        + ", ".join(f"{k} {v}" for k, v in sorted(soak.counts.items()))
    )
    print(
        f"soak: server counted {metric(m, 'lmrt_prompt_tokens_total'):.0f} prompt and "
        f"{metric(m, 'lmrt_generated_tokens_total'):.0f} generated tokens"
    )
    print(
        f"soak: VmRSS at the end of the warm-up ({warm_t:.0f} s) {rss_warm} KiB, max after "
        f"{max(after) if after else rss_end} KiB, at the end {rss_end} KiB "
        f"({rss_end - rss_warm:+d} KiB)"
    )
    step = max(1, len(samples) // 12)
    print(
        "soak: VmRSS KiB by time: "
        + ", ".join(f"{t:.0f}s {r} ({n} req)" for t, r, n in samples[::step])
    )
    for name, (ok, v, dt) in settled.items():
        print(f"soak: {name} {v:.0f} {'after %.2f s' % dt if ok else '(stuck)'}")
    print(f"soak: {len(soak.errors)} errors")
    for e in soak.errors[:10]:
        print("   ", e)
    bad = (
        bool(soak.errors)
        or rss_end - rss_warm >= 2048
        or not all(ok for ok, _, _ in settled.values())
    )
    if proc:
        rc = common.stop_server(proc)
        print(f"soak: server exit status after SIGTERM: {rc}")
        bad = bad or rc != 0
    print("soak: FAIL" if bad else "soak: passed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
