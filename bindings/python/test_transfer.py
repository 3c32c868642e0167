"""want.py's one-call upload (Want.upload): paths, bytes, streams, progress,
cancel from the callback and from another thread, errors."""

import io
import os
import shutil
import tempfile
import threading
import unittest

import test_want as harness
import want

SMALL_PARTS = {"part_size": 102400, "multipart_threshold": 102400}


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


class Upload(unittest.TestCase):
    def setUp(self):
        self.w = harness.client()
        self.tmp = tempfile.mkdtemp(prefix="wantu-py-transfer-")

    def tearDown(self):
        self.w.close()
        shutil.rmtree(self.tmp)

    def test_path_in_parallel_parts_with_progress(self):
        body = harness.data(1024 * 1024 + 17, 31)
        path = os.path.join(self.tmp, "big.bin")
        with open(path, "wb") as f:
            f.write(body)
        seen = []
        r = self.w.upload(harness.policy(), "/tr", "big.bin", path, progress=lambda s, t: seen.append((s, t)),
                          concurrency=4, **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        self.assertTrue(r["multipart"], r)
        self.assertEqual(r["parts"], 11, r)
        self.assertEqual(harness.SERVER.download("/tr", "big.bin"), body)
        self.assertTrue(seen and seen[-1] == (len(body), len(body)), seen[-3:])
        sent = [s for s, _ in seen]
        self.assertEqual(sent, sorted(sent), "progress never goes backwards")

    def test_bytes_small_and_large(self):
        r = self.w.upload(harness.policy(), "/tr", "small.txt", b"tiny")
        self.assertEqual((r["code"], r["multipart"]), (200, False), r)
        body = bytearray(harness.data(300000, 32))
        r = self.w.upload(harness.policy(), "/tr", "large.bin", body, meta={"k": "v"}, **SMALL_PARTS)
        self.assertEqual((r["code"], r["multipart"]), (200, True), r)
        self.assertEqual(harness.SERVER.download("/tr", "large.bin"), bytes(body))

    def test_stream_of_unknown_length(self):
        body = harness.data(350000, 33)
        totals = []
        r = self.w.upload(harness.policy(), "/tr", "stream.bin", io.BytesIO(body),
                          progress=lambda s, t: totals.append(t), **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(harness.SERVER.download("/tr", "stream.bin"), body)
        self.assertEqual(totals[-1], len(body))

    def test_progress_returning_true_cancels(self):
        r = self.w.upload(harness.policy(), "/tr", "c1.bin", harness.data(500000, 34),
                          progress=lambda s, t: True, concurrency=1, **SMALL_PARTS)
        self.assertEqual((r["code"], r["error"]), (0, "Cancelled"), r)
        self.assertEqual(self.w.file_exists(harness.NS, "/tr", "c1.bin")["exist"], False)

    def test_cancel_token_from_another_thread(self):
        token = want.CancelToken()
        started = threading.Event()
        canceller = threading.Thread(target=lambda: (started.wait(30), token.cancel()))
        canceller.start()
        r = self.w.upload(harness.policy(), "/tr", "c2.bin", harness.data(8 * 1024 * 1024, 35),
                          progress=lambda s, t: started.set(), cancel=token, concurrency=1,
                          **SMALL_PARTS)
        canceller.join()
        self.assertTrue(token.cancelled)
        self.assertEqual((r["code"], r["error"]), (0, "Cancelled"), r)
        # A triggered token stays triggered.
        r = self.w.upload(harness.policy(), "/tr", "c3.bin", b"x", cancel=token)
        self.assertEqual(r["error"], "Cancelled", r)
        token.close()
        token.close()

    def test_callback_exceptions_propagate(self):
        def boom(sent, total):
            raise ValueError("stop here")

        with self.assertRaisesRegex(ValueError, "stop here"):
            self.w.upload(harness.policy(), "/tr", "e1.bin", harness.data(300000, 36), progress=boom,
                          **SMALL_PARTS)

        class Broken(io.RawIOBase):
            def read(self, n=-1):
                raise OSError("disk on fire")

        with self.assertRaisesRegex(OSError, "disk on fire"):
            self.w.upload(harness.policy(), "/tr", "e2.bin", Broken())

    def test_errors(self):
        for bad in [
            lambda: self.w.upload(harness.policy(), "/tr", "x", 5),
            lambda: self.w.upload(harness.policy(), "/tr", "x", b"x", cancel="token"),
            lambda: self.w.upload(harness.policy(), "/tr", "x", b"x", progress=5),
        ]:
            with self.assertRaises(TypeError):
                bad()
        r = self.w.upload(harness.policy(), "/tr", "x", b"x", chunk_size=5)
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)
        r = self.w.upload(harness.policy(), "/tr", "x", os.path.join(self.tmp, "missing"))
        self.assertEqual((r["code"], r["error"]), (0, "IoError"), r)
        r = self.w.upload(harness.policy(), "/tr", "x", b"x", checkpoint_path=os.path.join(self.tmp, "c"))
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)


if __name__ == "__main__":
    unittest.main()
