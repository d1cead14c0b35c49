"""perf/serve_load.py - the load bars of `lmrt serve` (issue 5), on loopback.

    python3 perf/serve_load.py                       # starts its own server: -t 2 --slots 16
    python3 perf/serve_load.py --url http://127.0.0.1:8080 --streams 1,8

Generation: for each concurrency C (default 1, 4, 8, 16), C clients start together and each
streams one completion of a fixed story opening (a different one per client) at temperature 0
with max_tokens --tokens and stream_options.include_usage, so the tokens counted are the tokens
actually generated (an early end token shows as fewer). Per C: aggregate generated tok/s (all
tokens / wall time from the first request to the last answer), time to first token p50/p99, and
the gap between consecutive streamed chunks p50/p99 (the server flushes one chunk per token; the
chunk count is printed beside the token count so a difference shows). --rounds repeats each C
and pools the samples. The bar: the 8-stream aggregate >= 4x the 1-stream one.

Embeddings: --embed-requests requests of 32 distinct sentences each, one after another, against
`lmrt embed -t THREADS` over the same sentences in the same run. lmrt embed's time includes
loading the model, so it is also run on one sentence and that time subtracted; both ratios
are printed. The bar: the server within 10% of lmrt embed.

Standard library only; the helpers are tests/serve/common.py's. Figures depend on the machine
and on what else runs on it: the script prints the CPU model and the load average.
"""

import argparse
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "serve"))
import common  # noqa: E402

OPENINGS = [
    "Once upon a time, in a small village by the sea, there lived an old fisherman who",
    "The spaceship drifted silently past the rings of Saturn while the crew",
    "In the heart of the ancient forest, a young girl discovered a hidden door that",
    "The detective looked at the muddy footprints on the carpet and realised that",
    "Long ago, before the mountains had names, a dragon and a shepherd",
    "On the first day of school, the new teacher walked into the classroom and",
    "The storm had been raging for three days when the lighthouse keeper",
    "Deep beneath the city streets, a forgotten railway tunnel led to",
    "When the robot woke up for the first time, the first thing it saw was",
    "The king summoned his advisors to the great hall because",
    "At the edge of the desert stood a lonely inn where travellers",
    "My grandmother always told me a story about the winter when",
    "The train was late again, so the two strangers on the platform began to",
    "Nobody in the town knew where the mysterious musician came from, but",
    "The last bakery in the city opened its doors at dawn, and",
    "Under the light of a full moon, the children crept out of the house to",
]

SUBJECTS = [
    "The cat",
    "A young engineer",
    "The old library",
    "Our neighbour",
    "The river",
    "A tired traveller",
    "The orchestra",
    "This small company",
]
VERBS = [
    "quietly watched",
    "carefully repaired",
    "happily described",
    "slowly crossed",
    "proudly presented",
    "suddenly forgot",
]
OBJECTS = [
    "the broken bridge near the station.",
    "a map of the northern islands.",
    "the results of the experiment to everyone.",
    "an unusual recipe for bread.",
    "the long road through the valley at night.",
    "a letter written many years ago.",
]


def sentences(n):
    out, i = [], 0
    while len(out) < n:
        s = SUBJECTS[i % len(SUBJECTS)]
        v = VERBS[(i // len(SUBJECTS)) % len(VERBS)]
        o = OBJECTS[(i // (len(SUBJECTS) * len(VERBS))) % len(OBJECTS)]
        out.append(f"{s} {v} {o} ({i})")
        i += 1
    return out


def pct(xs, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(-(-p * len(xs) // 100)) - 1))
    return xs[k]


def one_stream(model, i, n_tokens):
    """Stream one completion: (t_start, [arrival times of chunks with text], usage tokens)."""
    times, usage = [], [0]

    def on_event(ev, t):
        if any(ch.get("text") for ch in ev.get("choices", [])):
            times.append(t)
        if ev.get("usage"):
            usage[0] = ev["usage"]["completion_tokens"]

    t0 = time.monotonic()
    common.stream_text(
        "/v1/completions",
        {
            "model": model,
            "prompt": OPENINGS[i % len(OPENINGS)],
            "max_tokens": n_tokens,
            "temperature": 0,
            "stream": True,
            "stream_options": {"include_usage": True},
        },
        on_event=on_event,
    )
    return t0, times, usage[0]


def run_concurrency(model, c, n_tokens):
    results, go = [None] * c, threading.Barrier(c)

    def client(i):
        go.wait()
        results[i] = one_stream(model, i, n_tokens)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(c)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        if r is None:
            raise RuntimeError("a client failed (see the traceback above)")
    return results


def gen_table(model, streams, n_tokens, rounds):
    rows = {}
    for c in streams:
        ttft, gaps, tokens, chunks, wall = [], [], 0, 0, 0.0
        for _ in range(rounds):
            res = run_concurrency(model, c, n_tokens)
            start = min(r[0] for r in res)
            end = max(r[1][-1] for r in res if r[1])
            wall += end - start
            for t0, times, n in res:
                tokens += n
                chunks += len(times)
                if times:
                    ttft.append(times[0] - t0)
                    gaps += [b - a for a, b in zip(times, times[1:])]
        rows[c] = dict(
            req=c * rounds,
            tokens=tokens,
            chunks=chunks,
            wall=wall,
            agg=tokens / wall,
            ttft=ttft,
            gaps=gaps,
        )
        r = rows[c]
        print(
            f"{c:>7} {r['req']:>8} {tokens:>7} {chunks:>7} {wall:>7.2f} {r['agg']:>9.1f} "
            f"{pct(ttft, 50) * 1e3:>9.0f} {pct(ttft, 99) * 1e3:>9.0f} "
            f"{pct(gaps, 50) * 1e3:>8.1f} {pct(gaps, 99) * 1e3:>8.1f}",
            flush=True,
        )
    return rows


def embed_bench(model, n_req, lmrt, embed_path, threads):
    sents = sentences(32 * n_req)
    common.post_json("/v1/embeddings", {"model": model, "input": sents[:32]})  # warm-up
    t0 = time.monotonic()
    for k in range(n_req):
        obj = common.post_json(
            "/v1/embeddings", {"model": model, "input": sents[32 * k : 32 * (k + 1)]}
        )
        common.check(len(obj["data"]) == 32, f"{len(obj['data'])} embeddings for 32")
    server = time.monotonic() - t0

    def cli(texts):
        data = ("\n".join(texts) + "\n").encode() if texts else b""
        t = time.monotonic()
        subprocess.run(
            [lmrt, "embed", "-m", embed_path, "-t", threads],
            input=data,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        return time.monotonic() - t

    cli(sents[:32])  # page the model in
    load = min(cli(sents[:1]) for _ in range(3))  # start-up: load and one sentence
    whole = min(cli(sents) for _ in range(2))
    n = len(sents)
    print(f"embeddings: {n_req} requests x 32 sentences")
    print(f"  server                  {n / server:8.1f} sentences/s  ({server:.2f} s)")
    print(f"  lmrt embed              {n / whole:8.1f} sentences/s  ({whole:.2f} s, with load)")
    print(
        f"  lmrt embed, less load   {n / (whole - load):8.1f} sentences/s  "
        f"({whole - load:.2f} s; start-up with one sentence {load:.2f} s)"
    )
    print(
        f"  server / lmrt embed: {whole / server:.2f} (with load), "
        f"{(whole - load) / server:.2f} (less load); the bar: >= 0.90"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="a running server (else one is started)")
    ap.add_argument("--lmrt", default="build/lmrt")
    ap.add_argument("--model", default="build/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--embed-model", default="build/models/minilm")
    ap.add_argument("-t", "--threads", default="2")
    ap.add_argument("--slots", default="16", help="--slots of a started server (default 16)")
    ap.add_argument("--streams", default="1,4,8,16")
    ap.add_argument("--tokens", type=int, default=96, help="max_tokens per stream (default 96)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--embed-requests", type=int, default=16)
    ap.add_argument("--no-embed", action="store_true")
    args = ap.parse_args()
    streams = [int(s) for s in args.streams.split(",")]

    proc = None
    if args.url:
        common.URL = args.url
    else:
        log = f"/tmp/lmrt-serve-load-{os.getpid()}.log"
        proc, common.URL = common.start_server(
            [
                "-m",
                args.model,
                "--embed-model",
                args.embed_model,
                "--slots",
                args.slots,
                "--ctx",
                "1024",
                "-t",
                args.threads,
            ],
            log,
            args.lmrt,
        )
        print(
            f"server: {common.URL} (pid {proc.pid}, log {log}), -t {args.threads} "
            f"--slots {args.slots}"
        )
    try:
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in open("/proc/cpuinfo")
                if ln.startswith("model name")
            ),
            "?",
        )
        print(f"cpu: {cpu}, {os.cpu_count()} logical; load average {os.getloadavg()[0]:.2f}")
        gen_id, emb_id = common.model_ids()
        one_stream(gen_id, 0, 8)  # warm-up
        print(f"generation: {gen_id}, max_tokens {args.tokens}, temperature 0")
        print(
            " streams requests  tokens  chunks  wall_s agg_tok/s ttft_p50ms ttft_p99ms "
            "tok_p50ms tok_p99ms"
        )
        rows = gen_table(gen_id, streams, args.tokens, args.rounds)
        if 1 in rows and 8 in rows:
            print(
                f"aggregate 8 streams / 1 stream: {rows[8]['agg'] / rows[1]['agg']:.2f} "
                f"(the bar: >= 4)"
            )
        if not args.no_embed:
            embed_bench(emb_id, args.embed_requests, args.lmrt, args.embed_model, args.threads)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if proc:
            rc = common.stop_server(proc)
            print(f"server exit status after SIGTERM: {rc}")


if __name__ == "__main__":
    main()
