"""want.AsyncWant against a real wantu-server: the same answers as Want,
a thousand calls at once on few threads, progress on the loop, cancel,
close with calls pending, errors, and the waiter-thread path."""

import asyncio
import hashlib
import io
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest

import test_want as harness
import want
from want import AsyncWant

NS = harness.NS
SMALL_PARTS = {"part_size": 102400, "multipart_threshold": 102400}
# Fields that differ between two identical calls.
VOLATILE = {"request_id", "file_modified", "modified", "created", "upload_id", "id", "e_tag", "url",
            "name", "dir", "attempts", "retries", "seconds", "elapsed_ms"}


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


def async_client(**options):
    if options:
        return AsyncWant.with_options(harness.AK, harness.SK, None, harness.SERVER.url,
                                      harness.SERVER.url, **options)
    return AsyncWant(harness.AK, harness.SK, None, harness.SERVER.url, harness.SERVER.url)


def threads():
    """This process's threads, as the kernel counts them (C ones too)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:  # no /proc: Python's own count
        return threading.active_count()


def stable(result):
    return {k: v for k, v in result.items() if k not in VOLATILE}


class Silent(object):
    """A listener that accepts connections and never answers: calls to it
    hang until they are cancelled (or time out)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]

    def client(self):
        return AsyncWant(harness.AK, harness.SK, None, self.url, self.url)

    def close(self):
        self.sock.close()


class SameAnswers(unittest.IsolatedAsyncioTestCase):
    """Each call answers what Want answers."""

    async def asyncSetUp(self):
        self.w = harness.client()
        self.aw = async_client()
        self.tmp = tempfile.mkdtemp(prefix="wantu-py-async-")

    async def asyncTearDown(self):
        await self.aw.close()
        self.w.close()
        shutil.rmtree(self.tmp)

    def assertSame(self, got, expected):
        self.assertEqual(stable(got), stable(expected))
        self.assertEqual(set(got), set(expected))

    async def test_every_method_is_a_coroutine_with_want_s_signature(self):
        import inspect
        names = [n for n in dir(want.Want) if not n.startswith("_") and n not in ("close", "with_options")]
        self.assertIn("upload_content", names)
        for n in names:
            self.assertTrue(inspect.iscoroutinefunction(getattr(AsyncWant, n)), n)
            self.assertEqual(inspect.signature(getattr(AsyncWant, n)),
                             inspect.signature(getattr(want.Want, n)), n)
        self.assertTrue(inspect.iscoroutinefunction(AsyncWant.close))

    async def test_upload_content_and_file(self):
        body = harness.data(5000, 51)
        expected = self.w.upload_content(harness.policy(), "/as", "sync.bin", body, meta={"k": "v"})
        got = await self.aw.upload_content(harness.policy(), "/as", "async.bin", body, meta={"k": "v"})
        self.assertEqual(got["code"], 200, got)
        self.assertSame(got, expected)
        self.assertEqual(harness.SERVER.download("/as", "async.bin"), body)

        path = os.path.join(self.tmp, "f.bin")
        with open(path, "wb") as f:
            f.write(body)
        expected = self.w.upload_file(harness.policy(), "/as", "fsync.bin", path)
        got = await self.aw.upload_file(harness.policy(), "/as", "fasync.bin", path)
        self.assertEqual(got["code"], 200, got)
        self.assertSame(got, expected)
        token = await self.aw.upload_token(harness.policy())
        self.assertEqual(token["code"], 200, token)
        self.assertTrue(token["token"].startswith("UPLOAD_AK_TOP "), token)

    async def test_bytes_to_memory_and_open(self):
        body = harness.data(300000, 57)
        up = await self.aw.upload_content(harness.policy(), "/am", "m.bin", body)
        self.assertEqual(up["code"], 200, up)
        ns = harness.NS
        self.assertEqual(await self.aw.download_content(ns, "/am", "m.bin"), body)
        self.assertEqual(await self.aw.download_content(ns, "/am", "m.bin", 1000, 50),
                         self.w.download_content(ns, "/am", "m.bin", 1000, 50))
        with self.assertRaises(want.WantError):
            await self.aw.download_content(ns, "/am", "m.bin", 400000, 10)
        with self.assertRaises(want.WantError):
            await self.aw.download_content(ns, "/am", "no-such.bin")
        f = await self.aw.open(ns, "/am", "m.bin", read_ahead=65536)
        async with f:
            self.assertEqual(f.size, len(body))
            f.seek(-100, io.SEEK_END)
            self.assertEqual(await f.read(), body[-100:])
            f.seek(123456)
            self.assertEqual(await f.read(70000), body[123456:193456])
            self.assertEqual(f.tell(), 193456)
            self.assertLess(f.bytes_fetched, 3 * 65536 + 100)
        with self.assertRaises(ValueError):
            await f.read(1)
        # A download cancelled while it runs: its buffer is consumed in the
        # background, and the client goes on working.
        task = asyncio.ensure_future(self.aw.download_content(ns, "/am", "m.bin"))
        await asyncio.sleep(0)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        self.assertEqual(await self.aw.download_content(ns, "/am", "m.bin", 0, 10), body[:10])

    async def test_multipart_flow(self):
        first, second = harness.data(harness.MIN_PART, 52), harness.data(1000, 53)
        init = await self.aw.multipart_init(harness.policy(), "/as", "mp.bin", first)
        self.assertEqual((init["code"], init["part_number"]), (200, 1), init)
        part = await self.aw.multipart_upload(harness.policy(), init["id"], init["upload_id"], 2, second)
        self.assertEqual(part["code"], 200, part)
        parts = [{"part_number": 1, "e_tag": init["e_tag"]}, {"part_number": 2, "e_tag": part["e_tag"]}]
        done = await self.aw.multipart_complete(harness.policy(), init["id"], init["upload_id"], parts)
        self.assertEqual(done["code"], 200, done)
        self.assertEqual(harness.SERVER.download("/as", "mp.bin"), first + second)

        init = await self.aw.multipart_init(harness.policy(), "/as", "gone.bin", first)
        gone = await self.aw.multipart_cancel(harness.policy(), init["id"], init["upload_id"])
        self.assertEqual(gone["code"], 200, gone)

    async def test_manage_calls(self):
        for name in ("a", "b", "c"):
            r = await self.aw.upload_content(harness.policy(), "/as/m", name, b"hello")
            self.assertEqual(r["code"], 200, r)
        pairs = [
            ("file_exists", (NS, "/as/m", "a")),
            ("file_exists", (NS, "/as/m", "nope")),
            ("file_get", (NS, "/as/m", "a")),
            ("file_get", (NS, "/as/m", "nope")),
            ("file_list", (NS, "/as/m", 1, 2)),
            ("file_list_all", (NS, "/as/m")),
            ("dir_exists", (NS, "/as/m")),
            ("dir_list", (NS, "/as", 1, 10)),
            ("dir_list_all", (NS, "/as")),
            ("pts_get", ("no-such-task",)),
        ]
        for method, args in pairs:
            expected = getattr(self.w, method)(*args)
            got = await getattr(self.aw, method)(*args)
            self.assertEqual(got, expected if "request_id" not in got else
                             dict(expected, request_id=got["request_id"]), method)
        self.assertEqual((await self.aw.dir_create(NS, "/as/new"))["code"], 200)
        self.assertEqual((await self.aw.dir_create(NS, "/as/new"))["error"], "NameDuplicated")
        moved = await self.aw.file_rename(NS, "/as/m", "c", "/as/new", "c2")
        self.assertEqual((moved["code"], moved["dir"], moved["name"]), (200, "/as/new", "c2"), moved)
        self.assertEqual((await self.aw.file_delete(NS, "/as/new", "c2"))["code"], 200)
        self.assertEqual((await self.aw.dir_delete(NS, "/as/new"))["code"], 200)

    async def test_upload_with_progress_on_the_loop(self):
        body = harness.data(600000, 54)
        seen, loop_thread = [], threading.get_ident()

        def progress(sent, total):
            seen.append((sent, total, threading.get_ident()))

        r = await self.aw.upload(harness.policy(), "/as", "big.bin", body, progress=progress,
                                 concurrency=2, **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        self.assertTrue(r["multipart"], r)
        self.assertEqual(harness.SERVER.download("/as", "big.bin"), body)
        self.assertTrue(seen, "no progress was reported")
        self.assertEqual({t for _, _, t in seen}, {loop_thread}, "progress runs on the loop's thread")
        sent = [s for s, _, _ in seen]
        self.assertEqual(sent, sorted(sent))
        self.assertEqual(seen[-1][:2], (len(body), len(body)))

    async def test_upload_of_a_stream_and_a_path(self):
        import io
        body = harness.data(250000, 59)
        r = await self.aw.upload(harness.policy(), "/as", "stream.bin", io.BytesIO(body), **SMALL_PARTS)
        self.assertEqual((r["code"], r["multipart"]), (200, True), r)
        self.assertEqual(harness.SERVER.download("/as", "stream.bin"), body)
        path = os.path.join(self.tmp, "p.bin")
        with open(path, "wb") as f:
            f.write(body)
        r = await self.aw.upload(harness.policy(), "/as", "path.bin", path, **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(harness.SERVER.download("/as", "path.bin"), body)

    async def test_progress_returning_true_cancels_and_exceptions_propagate(self):
        r = await self.aw.upload(harness.policy(), "/as", "c1.bin", harness.data(500000, 55),
                                 progress=lambda s, t: True, concurrency=1, **SMALL_PARTS)
        self.assertEqual((r["code"], r["error"]), (0, "Cancelled"), r)
        self.assertEqual((await self.aw.file_exists(NS, "/as", "c1.bin"))["exist"], False)

        def boom(sent, total):
            raise ValueError("stop here")

        with self.assertRaisesRegex(ValueError, "stop here"):
            await self.aw.upload(harness.policy(), "/as", "e1.bin", harness.data(300000, 56),
                                 progress=boom, **SMALL_PARTS)
        self.assertEqual((await self.aw.file_exists(NS, "/as", "e1.bin"))["exist"], False)

    async def test_folder_batch_and_download(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(os.path.join(src, "sub"))
        for rel, n in (("a.txt", 10), ("sub/b.bin", 200000)):
            with open(os.path.join(src, rel), "wb") as f:
                f.write(harness.data(n, 57))
        ticks = []
        r = await self.aw.upload_dir(harness.policy(), src, "/as/tree", progress=lambda s, t: ticks.append(s))
        self.assertEqual((r["code"], r["uploaded"], r["failed"]), (200, 2, 0), r)
        self.assertTrue(ticks)
        r = await self.aw.batch(harness.policy(), [{"content": b"one", "dir": "/as/b", "name": "1"}])
        self.assertEqual((r["code"], r["uploaded"]), (200, 1), r)
        local = os.path.join(self.tmp, "b.bin")
        r = await self.aw.download(NS, "/as/tree/sub", "b.bin", local)
        self.assertEqual(r["code"], 200, r)
        with open(local, "rb") as f:
            self.assertEqual(f.read(), harness.data(200000, 57))
        r = await self.aw.download_dir(NS, "/as/tree", os.path.join(self.tmp, "back"))
        self.assertEqual((r["code"], r["downloaded"]), (200, 2), r)


class Many(unittest.IsolatedAsyncioTestCase):
    async def test_a_thousand_at_once_on_few_threads(self):
        n, size = 1000, 16 * 1024
        bodies = [hashlib.sha256(b"%d" % i).digest() * (size // 32) for i in range(n)]
        peak = [threads()]
        done = asyncio.Event()

        async def sample():
            while not done.is_set():
                peak[0] = max(peak[0], threads(), threading.active_count())
                await asyncio.sleep(0.005)

        async with async_client() as aw:
            sampler = asyncio.ensure_future(sample())
            results = await asyncio.gather(*[
                aw.upload_content(harness.policy(), "/many", "f%04d" % i, bodies[i]) for i in range(n)
            ])
            done.set()
            await sampler
            peak[0] = max(peak[0], threads())
            failed = [r for r in results if r["code"] != 200]
            self.assertEqual(failed, [], "%d of %d failed" % (len(failed), n))
            listed = await aw.file_list_all(NS, "/many")
            self.assertEqual(sorted(f["name"] for f in listed["result"]), ["f%04d" % i for i in range(n)])
            self.assertEqual({f["size"] for f in listed["result"]}, {size})
            self.assertFalse(aw._pending)
        self.assertLessEqual(peak[0], 16, "threads in this process during 1000 calls")
        self.assertEqual(harness.SERVER.download("/many", "f0999"), bodies[999])

    async def test_waiter_thread_path(self):
        """Where the loop cannot watch the descriptor (Windows), one thread
        waits on the queue; forced here on a loop that could."""
        aw = async_client()
        aw._use_reader = False
        results = await asyncio.gather(*[
            aw.upload_content(harness.policy(), "/waiter", "w%d" % i, b"x" * i) for i in range(50)
        ])
        self.assertEqual([r["code"] for r in results], [200] * 50)
        names = [t.name for t in threading.enumerate()]
        self.assertEqual(names.count("wantu-queue"), 1, names)
        self.assertFalse(aw._reader)
        r = await aw.upload(harness.policy(), "/waiter", "p.bin", harness.data(300000, 58),
                            progress=lambda s, t: None, **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        await aw.close()
        self.assertNotIn("wantu-queue", [t.name for t in threading.enumerate()])

    def test_one_client_serves_successive_loops(self):
        aw = async_client()

        async def one(i):
            return await aw.upload_content(harness.policy(), "/loops", "l%d" % i, b"x")

        self.assertEqual(asyncio.run(one(1))["code"], 200)
        self.assertEqual(asyncio.run(one(2))["code"], 200)
        asyncio.run(aw.close())


class Cancel(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.silent = Silent()

    async def asyncTearDown(self):
        self.silent.close()

    async def test_cancelling_the_task_cancels_the_operation(self):
        aw = self.silent.client()
        task = asyncio.ensure_future(aw.upload_content(harness.policy(), "/c", "n", b"x"))
        await asyncio.sleep(0.3)
        self.assertEqual(len(aw._pending), 1)
        op = next(iter(aw._pending.values())).op
        self.assertEqual(want.load_library().wantu_op_running(op), 1)
        task.cancel()
        with self.assertRaises(asyncio.CancelledError):
            await task
        # The operation completes as cancelled soon, and is consumed.
        for _ in range(200):
            if not aw._pending:
                break
            await asyncio.sleep(0.01)
        self.assertEqual(aw._pending, {}, "the cancelled operation's completion was not consumed")
        self.assertFalse(aw._reader, "the loop still watches an idle queue")
        started = time.monotonic()
        await aw.close()
        self.assertLess(time.monotonic() - started, 1.0)

    async def test_wait_for_timeout(self):
        async with self.silent.client() as aw:
            with self.assertRaises(asyncio.TimeoutError):
                await asyncio.wait_for(aw.file_exists(NS, "/c", "n"), 0.2)
            for _ in range(200):
                if not aw._pending:
                    break
                await asyncio.sleep(0.01)
            self.assertEqual(aw._pending, {})

    async def test_calls_cancelled_or_closed_before_they_started(self):
        aw = self.silent.client()
        tasks = [asyncio.ensure_future(aw.file_exists(NS, "/c", "n%d" % i)) for i in range(20)]
        await asyncio.sleep(0)  # each task has queued its start
        self.assertEqual(len(aw._pending), 20)
        for t in tasks[:10]:
            t.cancel()
        results = await asyncio.gather(*tasks[:10], return_exceptions=True)
        self.assertTrue(all(isinstance(r, asyncio.CancelledError) for r in results), results)
        closing = asyncio.ensure_future(aw.close())
        results = await asyncio.gather(*tasks[10:])
        await closing
        self.assertEqual({(r["code"], r["error"]) for r in results}, {(0, "Cancelled")}, results[:2])
        self.assertEqual(aw._pending, {})

    async def test_close_with_calls_pending(self):
        aw = self.silent.client()
        calls = [asyncio.ensure_future(aw.upload_content(harness.policy(), "/c", "n%d" % i, b"x"))
                 for i in range(50)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await aw.close()
        self.assertLess(time.monotonic() - started, 5.0)
        results = await asyncio.gather(*calls)
        self.assertEqual({(r["code"], r["error"]) for r in results}, {(0, "Cancelled")}, results[:2])
        later = await aw.upload_content(harness.policy(), "/c", "late", b"x")
        self.assertEqual((later["code"], later["error"]), (0, "InvalidArgument"), later)
        self.assertIn("closed", later["message"])
        await aw.close()  # twice is fine


class Errors(unittest.IsolatedAsyncioTestCase):
    """Bad arguments: the same TypeErrors and error dicts as Want."""

    async def asyncSetUp(self):
        self.w = harness.client()
        self.aw = async_client()

    async def asyncTearDown(self):
        await self.aw.close()
        self.w.close()

    async def test_bad_values_answer_the_same_error_dicts(self):
        p = harness.policy()
        calls = [
            ("upload_content", ("{", "/d", "n", b"x"), {}),
            ("upload_content", ({"expiration": -1}, "/d", "n", b"x"), {}),
            ("upload_content", (p, "/d", "n", b"x"), {"meta": '{"a":'}),
            ("upload_content", (p, "/d", "n", b"x"), {"md5": "xyz"}),
            ("upload_content", (p, "/d\0/..", "n", b"x"), {}),
            ("upload_content", (p, "/d", "\ud800", b"x"), {}),
            ("upload_file", (p, "/d", "n", "/no/such/file"), {}),
            ("multipart_upload", (p, "i", "u", -1, b"x"), {}),
            ("multipart_upload", (p, "i", "u", 2 ** 32, b"x"), {}),
            ("multipart_complete", (p, "i", "u", "!!!"), {}),
            ("multipart_upload", (p, "no-such-id", "0" * 32, 2, b"x"), {}),
            ("file_list", (NS, "/", 1, 1000), {}),
            ("file_get", (NS, "/", "a\0b"), {}),
            ("upload", (p, "/d", "n", b"x"), {"part_size": 5}),
            ("download", (NS, "/d", "none", "/tmp/x"), {"no_such_option": 1}),
        ]
        for method, args, kwargs in calls:
            expected = getattr(self.w, method)(*args, **kwargs)
            got = await getattr(self.aw, method)(*args, **kwargs)
            self.assertNotEqual(got["code"], 200, (method, got))
            self.assertEqual(stable(got), stable(expected), (method, args, kwargs))

    async def test_wrong_types_raise_type_error_when_awaited(self):
        p = harness.policy()
        calls = [
            lambda: self.aw.upload_content(5, "/d", "n", b"x"),
            lambda: self.aw.upload_content(p, "/d", "n", 12345),
            lambda: self.aw.multipart_upload(p, "id", "uid", "2", b"x"),
            lambda: self.aw.upload(p, "/d", "n", 3.5),
            lambda: self.aw.upload(p, "/d", "n", b"x", cancel=object()),
            lambda: self.aw.batch(p, "not a list"),
            lambda: self.aw.file_list(NS, "/", "1"),
        ]
        for i, call in enumerate(calls):
            coroutine = call()  # nothing raises before the await
            with self.assertRaises(TypeError, msg="call %d" % i):
                await coroutine
        self.assertFalse(self.aw._pending)

    async def test_connection_and_server_errors(self):
        refused = AsyncWant(harness.AK, harness.SK, None, "http://127.0.0.1:1", "http://127.0.0.1:1")
        r = await refused.upload_content(harness.policy(), "/d", "n", b"x")
        self.assertEqual((r["code"], r["error"]), (0, "ConnectError"), r)
        await refused.close()
        async with AsyncWant(harness.AK, "wrong", None, harness.SERVER.url, harness.SERVER.url) as wrong:
            r = await wrong.upload_content(harness.policy(), "/d", "n", b"x")
            self.assertEqual((r["code"], r["error"]), (401, "InvalidToken"), r)
        with self.assertRaises(want.WantError):
            AsyncWant("", "")


if __name__ == "__main__":
    unittest.main()
