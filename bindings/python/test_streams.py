"""want.py's downloads to memory and remote file objects
(Want.download_content, Want.open): bytes and ranges exact, errors raised,
and zipfile / tarfile reading only what they need."""

import io
import tarfile
import unittest
import zipfile

import test_want as harness
import want

DIR = "/pystreams"
BIG = harness.data(350000, 61)


def setUpModule():
    harness.setUpModule()
    w = harness.client()
    for name, body in [("big.bin", BIG), ("empty", b"")]:
        r = w.upload(harness.policy(), DIR, name, body)
        assert r["code"] == 200, r
    w.close()


def tearDownModule():
    harness.tearDownModule()


class DownloadContent(unittest.TestCase):
    def setUp(self):
        self.w = harness.client()

    def tearDown(self):
        self.w.close()

    def test_whole_file_and_ranges_are_exact(self):
        ns = harness.NS
        self.assertEqual(self.w.download_content(ns, DIR, "big.bin"), BIG)
        self.assertEqual(self.w.download_content(ns, DIR, "big.bin", part_size=102400), BIG)
        self.assertEqual(self.w.download_content(ns, DIR, "big.bin", 1000, 5000), BIG[1000:6000])
        self.assertEqual(self.w.download_content(ns, DIR, "big.bin", offset=349990), BIG[349990:])
        self.assertEqual(self.w.download_content(ns, DIR, "big.bin", 5, 0), b"")
        self.assertEqual(self.w.download_content(ns, DIR, "empty"), b"")
        seen = []
        self.w.download_content(ns, DIR, "big.bin", progress=lambda d, t: seen.append((d, t)))
        self.assertEqual(seen[-1], (len(BIG), len(BIG)))

    def test_errors_are_raised(self):
        ns = harness.NS
        for args, kw, error, needle in [
            ((350001,), {}, "InvalidArgument", "holds 350000 bytes"),
            ((0, 350001), {}, "InvalidArgument", "holds 350000 bytes"),
            ((-1,), {}, "InvalidArgument", "`offset`"),
            ((0, -5), {}, "InvalidArgument", "`length`"),
            ((), {"max_bytes": 1000}, "InvalidArgument", "`max_bytes`"),
            ((), {"resume": True}, "InvalidArgument", "unknown field"),
        ]:
            with self.assertRaises(want.WantError) as caught:
                self.w.download_content(ns, DIR, "big.bin", *args, **kw)
            result = caught.exception.result
            self.assertEqual(result["error"], error, result)
            self.assertIn(needle, result["message"])
        with self.assertRaises(want.WantError) as caught:
            self.w.download_content(ns, DIR, "none.bin")
        self.assertEqual(caught.exception.result["code"], 404)
        token = want.CancelToken()
        token.cancel()
        with self.assertRaises(want.WantError) as caught:
            self.w.download_content(ns, DIR, "big.bin", cancel=token)
        self.assertEqual(caught.exception.result["error"], "Cancelled")
        token.close()


class Open(unittest.TestCase):
    def setUp(self):
        self.w = harness.client()

    def tearDown(self):
        self.w.close()

    def test_a_seekable_read_only_file(self):
        with self.w.open(harness.NS, DIR, "big.bin", read_ahead=65536) as f:
            self.assertTrue(f.readable() and f.seekable())
            self.assertFalse(f.writable())
            self.assertEqual(f.read(10), BIG[:10])
            self.assertEqual(f.seek(-100, io.SEEK_END), len(BIG) - 100)
            self.assertEqual(f.read(), BIG[-100:])
            self.assertEqual(f.read(), b"")
            f.seek(200000)
            self.assertEqual(f.tell(), 200000)
            self.assertEqual(f.read(100000), BIG[200000:300000])
            f.seek(0)
            self.assertEqual(f.read(), BIG)
            self.assertEqual(f.raw.size, len(BIG))
            with self.assertRaises(ValueError):
                f.seek(-1)
        self.assertTrue(f.closed)
        with self.assertRaises(ValueError):
            f.read(1)
        with self.assertRaises(want.WantError):
            self.w.open(harness.NS, DIR, "none.bin")

    def test_zipfile_reads_one_member_without_the_rest(self):
        member = harness.data(2 << 20, 62)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            z.writestr("before.bin", harness.data(3 << 20, 63))
            z.writestr("dir/member.bin", member)
            z.writestr("after.bin", harness.data(3 << 20, 64))
            z.writestr("small.txt", b"hello")
        stored = buf.getvalue()
        r = self.w.upload(harness.policy(), DIR, "archive.zip", stored)
        self.assertEqual(r["code"], 200, r)
        with self.w.open(harness.NS, DIR, "archive.zip") as f:
            with zipfile.ZipFile(f) as z:
                self.assertEqual(sorted(z.namelist()),
                                 ["after.bin", "before.bin", "dir/member.bin", "small.txt"])
                self.assertEqual(z.read("dir/member.bin"), member)
            fetched = f.raw.bytes_fetched
        self.assertLess(fetched, 3 * len(member), fetched)
        self.assertLess(fetched, len(stored) // 2, fetched)

    def test_tarfile_reads_a_member(self):
        buf = io.BytesIO()
        body = harness.data(300000, 65)
        with tarfile.open(fileobj=buf, mode="w") as t:
            for name, data in [("a.txt", b"first"), ("b.bin", body)]:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        r = self.w.upload(harness.policy(), DIR, "archive.tar", buf.getvalue())
        self.assertEqual(r["code"], 200, r)
        with self.w.open(harness.NS, DIR, "archive.tar", read_ahead=65536) as f:
            with tarfile.open(fileobj=f, mode="r:") as t:
                self.assertEqual(t.extractfile("b.bin").read(), body)
                self.assertEqual(t.extractfile("a.txt").read(), b"first")

    def test_a_file_replaced_while_open_is_an_error(self):
        r = self.w.upload(harness.policy(), DIR, "changing.bin", b"x" * 300000)
        self.assertEqual(r["code"], 200, r)
        with self.w.open(harness.NS, DIR, "changing.bin", read_ahead=1000) as f:
            self.assertEqual(f.read(10), b"x" * 10)
            r = self.w.upload(harness.policy(), DIR, "changing.bin", b"y" * 300000)
            self.assertEqual(r["code"], 200, r)
            f.seek(200000)
            with self.assertRaises(want.WantError) as caught:
                f.read(10)
            self.assertEqual(caught.exception.result["error"], "FileChanged")


if __name__ == "__main__":
    unittest.main()
