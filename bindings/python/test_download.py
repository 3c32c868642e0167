"""want.py's downloads (Want.download, Want.download_dir): a tree with
awkward names back byte for byte, skip md5, progress, cancel, errors."""

import json
import os
import shutil
import tempfile
import unittest

import test_want as harness
import want

SMALL_PARTS = {"part_size": 102400, "concurrency": 3}
TREE = {
    "top.txt": b"top",
    "empty": b"",
    "a b/with space.bin": harness.data(5000, 41),
    "a b/100% #1/h#sh%25.txt": harness.data(70, 42),
    u"\u4e2d\u6587/\u6587\u4ef6.jpg": harness.data(333, 43),
    u"\u4e2d\u6587/\U0001F600/e \U0001F600.png": harness.data(1234, 44),
    "deep/er/big.bin": harness.data(250000, 45),
}


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


def read_tree(root):
    out = {}
    for base, _, files in os.walk(root):
        for f in files:
            path = os.path.join(base, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root).replace(os.sep, "/")] = fh.read()
    return out


class Download(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        w = harness.client()
        for rel, body in TREE.items():
            folder, _, name = rel.rpartition("/")
            r = w.upload(harness.policy(), "/pydl/" + folder, name, body)
            assert r["code"] == 200, r
        w.close()

    def setUp(self):
        self.w = harness.client()
        self.tmp = tempfile.mkdtemp(prefix="wantu-py-download-")

    def tearDown(self):
        self.w.close()
        shutil.rmtree(self.tmp)

    def test_tree_round_trip_then_skip_md5(self):
        local = os.path.join(self.tmp, "copy")
        seen = []
        r = self.w.download_dir(harness.NS, "/pydl", local, progress=lambda d, t: seen.append((d, t)),
                                **SMALL_PARTS)
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(r["downloaded"], len(TREE), r)
        self.assertEqual({x["status"] for x in r["results"]}, {"downloaded"}, r)
        self.assertEqual(read_tree(local), TREE)
        total = sum(len(b) for b in TREE.values())
        self.assertEqual(seen[-1], (total, total))
        r = self.w.download_dir(harness.NS, "/pydl", local, skip="md5")
        self.assertEqual((r["code"], r["downloaded"], r["skipped"]), (200, 0, len(TREE)), r)
        self.assertEqual({x["status"] for x in r["results"]}, {"skipped"}, r)
        r = self.w.download_dir(harness.NS, "/pydl", os.path.join(self.tmp, "none"), dry_run=True)
        self.assertEqual((r["code"], r["downloaded"], r["would_download"]), (200, 0, len(TREE)), r)
        self.assertEqual({x["status"] for x in r["results"]}, {"would_download"}, r)

    def test_one_file_in_ranges(self):
        path = os.path.join(self.tmp, "big.bin")
        r = self.w.download(harness.NS, "/pydl/deep/er", "big.bin", path, **SMALL_PARTS)
        self.assertEqual((r["code"], r["parts"]), (200, 3), r)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), TREE["deep/er/big.bin"])

    def test_cancel_leaves_no_file_under_the_name(self):
        token = want.CancelToken()
        token.cancel()
        path = os.path.join(self.tmp, "c.bin")
        r = self.w.download(harness.NS, "/pydl/deep/er", "big.bin", path, cancel=token)
        self.assertEqual(r["error"], "Cancelled", r)
        self.assertFalse(os.path.exists(path))
        token.close()

    def test_progress_exception_stops_and_is_raised(self):
        def boom(done, total):
            raise KeyError("stop")
        with self.assertRaises(KeyError):
            self.w.download(harness.NS, "/pydl/deep/er", "big.bin", os.path.join(self.tmp, "x"),
                            progress=boom, resume=False)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "x")))

    def test_a_killed_download_resumes_and_refetches_at_most_the_ranges_in_flight(self):
        ps, conc, parts = 102400, 2, 200
        body = harness.data(parts * ps, 46)
        r = self.w.upload(harness.policy(), "/pykill", "big.bin", body)
        self.assertEqual(r["code"], 200, r)
        path = os.path.join(self.tmp, "big.bin")
        mark = os.path.join(self.tmp, "killed-at")
        # The child is killed (SIGKILL: no cleanup of any kind) from its
        # progress callback once 2 MiB have arrived.
        child = """
import os, signal, want
e = os.environ
w = want.Want(e["K_AK"], e["K_SK"], None, e["K_URL"], e["K_URL"])
def progress(done, total):
    if done >= 2 << 20:
        with open(e["K_MARK"], "w") as f:
            f.write(str(done))
        os.kill(os.getpid(), signal.SIGKILL)
w.download(e["K_NS"], "/pykill", "big.bin", e["K_PATH"], progress=progress,
           part_size=%d, concurrency=%d)
""" % (ps, conc)
        env = {"K_AK": harness.AK, "K_SK": harness.SK, "K_URL": harness.SERVER.url,
               "K_NS": harness.NS, "K_PATH": path, "K_MARK": mark,
               "WANTU_LIB": want.load_library()._name}
        proc = harness.run_python(child, env, harness.HERE)
        self.assertEqual(proc.returncode, -9, proc.stderr)
        with open(mark) as f:
            done_seen = int(f.read())
        self.assertFalse(os.path.exists(path), "no partial file under the final name")
        with open(os.path.join(self.tmp, ".big.bin.wantu-part.json")) as f:
            recorded = sum(b - a + 1 for a, b in json.load(f)["done"])
        # Every range the callback had seen the bytes of is recorded,
        # except at most `concurrency` that were still in flight.
        self.assertGreaterEqual(recorded, done_seen // ps - conc)

        r = self.w.download(harness.NS, "/pykill", "big.bin", path, part_size=ps, concurrency=conc)
        self.assertEqual((r["code"], r["checkpoint"]), (200, "resumed"), r)
        self.assertEqual(r["resumed_parts"], recorded, r)
        self.assertEqual(r["fetched_parts"], parts - recorded, r)
        self.assertLessEqual(r["fetched_parts"], parts - done_seen // ps + conc, r)
        with open(path, "rb") as f:
            self.assertEqual(f.read(), body)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["big.bin", "killed-at"])

    def test_errors(self):
        r = self.w.download_dir(harness.NS, "/no/such", self.tmp)
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)
        r = self.w.download(harness.NS, "/pydl", "top.txt", os.path.join(self.tmp, "no", "x"))
        self.assertEqual((r["code"], r["error"]), (0, "IoError"), r)
        r = self.w.download(harness.NS, "/pydl", "top.txt", self.tmp, skip="md5")
        self.assertIn("`skip`", r["message"])
        with self.assertRaises(TypeError):
            self.w.download(harness.NS, "/pydl", "top.txt", self.tmp, cancel=object())


if __name__ == "__main__":
    unittest.main()
