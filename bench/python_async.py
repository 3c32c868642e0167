"""AsyncWant against a sequential Want loop through a slow link (run by
bench/python-async.sh, which starts the server and the latency proxy).

    python3 bench/python_async.py ENDPOINT AK SK NAMESPACE [N] [SIZE] [SEQ_N]

N uploads of SIZE bytes started at once with asyncio.gather of
AsyncWant.upload_content, then SEQ_N of them one after the other with
Want.upload_content. Meanwhile a ticker coroutine wakes every 10 ms and
records how late it woke (the event loop's lag), and samples the
process's thread count (/proc/self/task). Afterwards the same ticker
runs alone for two seconds: the lag of an idle loop on this machine at
that time, the floor under the figure with uploads. Prints one JSON line.
"""

import asyncio
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bindings", "python"))

from want import AsyncWant, Want  # noqa: E402

TICK = 0.010


def threads():
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return threading.active_count()


def summary(lags):
    lags = sorted(lags)
    return round(lags[-1] * 1000, 1), round(lags[int(len(lags) * 0.99) - 1] * 1000, 1)


async def idle_lag(seconds):
    loop, lags = asyncio.get_running_loop(), []
    end = loop.time() + seconds
    while loop.time() < end:
        due = loop.time() + TICK
        await asyncio.sleep(TICK)
        lags.append(max(0.0, loop.time() - due))
    return summary(lags)


async def concurrent(endpoint, ak, sk, ns, n, size):
    bodies = [os.urandom(size) for _ in range(n)]
    policy = {"namespace": ns, "expiration": -1}
    lags, peak, stop = [], [threads()], asyncio.Event()

    async def ticker():
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            due = loop.time() + TICK
            await asyncio.sleep(TICK)
            lags.append(max(0.0, loop.time() - due))
            peak[0] = max(peak[0], threads())

    async with AsyncWant(ak, sk, None, endpoint, endpoint) as aw:
        tick = asyncio.ensure_future(ticker())
        await asyncio.sleep(3 * TICK)  # the ticker runs before the burst
        started = time.monotonic()
        results = await asyncio.gather(*[
            aw.upload_content(policy, "/py-async", "f%05d" % i, bodies[i]) for i in range(n)
        ])
        seconds = time.monotonic() - started
        stop.set()
        await tick
    failed = [r for r in results if r.get("code") != 200]
    lag_max, lag_p99 = summary(lags)
    idle_max, idle_p99 = await idle_lag(2.0)
    return {
        "ok": n - len(failed), "failed": len(failed),
        "first_error": failed[0] if failed else None,
        "seconds": round(seconds, 3), "files_per_s": round(n / seconds, 1),
        "lag_max_ms": lag_max, "lag_p99_ms": lag_p99,
        "idle_lag_max_ms": idle_max, "idle_lag_p99_ms": idle_p99,
        "ticks": len(lags), "threads_peak": peak[0],
    }


def sequential(endpoint, ak, sk, ns, n, size):
    policy = {"namespace": ns, "expiration": -1}
    body = os.urandom(size)
    with Want(ak, sk, None, endpoint, endpoint) as w:
        started = time.monotonic()
        failed = sum(w.upload_content(policy, "/py-seq", "f%05d" % i, body)["code"] != 200
                     for i in range(n))
        seconds = time.monotonic() - started
    return {"ok": n - failed, "failed": failed, "seconds": round(seconds, 3),
            "files_per_s": round(n / seconds, 1)}


def stored(endpoint, ak, sk, ns, dir):
    with Want(ak, sk, None, endpoint, endpoint) as w:
        r = w.file_list_all(ns, dir, 100000)
        return len(r.get("result", []))


def main():
    endpoint, ak, sk, ns = sys.argv[1:5]
    n = int(sys.argv[5]) if len(sys.argv) > 5 else 1000
    size = int(sys.argv[6]) if len(sys.argv) > 6 else 16384
    seq_n = int(sys.argv[7]) if len(sys.argv) > 7 else n
    threads_before = threads()
    conc = asyncio.run(concurrent(endpoint, ak, sk, ns, n, size))
    conc["stored"] = stored(endpoint, ak, sk, ns, "/py-async")
    seq = sequential(endpoint, ak, sk, ns, seq_n, size)
    print(json.dumps({
        "n": n, "size": size, "threads_at_start": threads_before,
        "async": conc, "sequential": seq,
        "ratio": round(conc["files_per_s"] / seq["files_per_s"], 1),
    }))


if __name__ == "__main__":
    main()
