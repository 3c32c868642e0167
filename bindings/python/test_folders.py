"""want.py's many-files calls: Want.upload_dir and Want.batch."""

import os
import shutil
import tempfile
import unittest

import test_want as harness
import want


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


class Folders(unittest.TestCase):
    def setUp(self):
        self.w = harness.client()
        self.tmp = tempfile.mkdtemp(prefix="wantu-py-folders-")

    def tearDown(self):
        self.w.close()
        shutil.rmtree(self.tmp)

    def write(self, rel, body):
        path = os.path.join(self.tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)
        return path

    def test_upload_dir_then_skip_md5(self):
        files = {
            "a.txt": harness.data(1000, 1),
            "sub dir/中文 #%.bin": harness.data(200000, 2),
            "sub dir/deeper/😀.txt": b"",
        }
        for rel, body in files.items():
            self.write(rel, body)
        seen = []
        r = self.w.upload_dir(harness.policy(), self.tmp, "/pyfolders",
                              progress=lambda s, t: seen.append((s, t)), part_size=102400)
        self.assertEqual(r["code"], 200, r)
        self.assertEqual((r["uploaded"], r["failed"]), (3, 0), r)
        self.assertEqual([x["status"] for x in r["results"]], ["uploaded"] * 3, r)
        total = sum(len(b) for b in files.values())
        self.assertEqual(seen[-1], (total, total))
        for rel, body in files.items():
            d, _, name = ("/pyfolders/" + rel).rpartition("/")
            self.assertEqual(harness.SERVER.download(d, name), body, rel)
        r = self.w.upload_dir(harness.policy(), self.tmp, "/pyfolders", skip="md5")
        self.assertEqual((r["code"], r["uploaded"], r["skipped"]), (200, 0, 3), r)
        self.assertEqual([x["status"] for x in r["results"]], ["skipped"] * 3, r)
        r = self.w.upload_dir(harness.policy(), self.tmp, "/pyfolders", dry_run=True)
        self.assertEqual((r["code"], r["uploaded"], r["would_upload"]), (200, 0, 3), r)
        self.assertEqual([x["status"] for x in r["results"]], ["would_upload"] * 3, r)

    def test_batch_of_paths_and_bytes(self):
        path = self.write("one.bin", harness.data(5000, 3))
        r = self.w.batch(harness.policy(), [
            {"path": path, "dir": "/pybatch"},
            {"content": b"hello", "dir": "/pybatch", "name": "h.txt", "meta": {"k": "v"}},
        ], concurrency=8)
        self.assertEqual((r["code"], r["uploaded"]), (200, 2), r)
        self.assertEqual([x["index"] for x in r["results"]], [0, 1])
        self.assertEqual(harness.SERVER.download("/pybatch", "one.bin"), harness.data(5000, 3))
        self.assertEqual(harness.SERVER.download("/pybatch", "h.txt"), b"hello")

    def test_errors_and_cancel(self):
        r = self.w.upload_dir(harness.policy(), os.path.join(self.tmp, "missing"), "/x")
        self.assertEqual((r["code"], r["error"]), (0, "IoError"), r)
        self.assertIn("`local_dir`", r["message"])
        r = self.w.batch(harness.policy(), [{"pth": "x"}])
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)
        self.assertIn("`jobs_json`[0]", r["message"])
        r = self.w.upload_dir(harness.policy(), self.tmp, "/x", skip="sometimes")
        self.assertIn("`options_json`", r["message"])
        self.write("c.txt", b"c")
        token = want.CancelToken()
        token.cancel()
        r = self.w.upload_dir(harness.policy(), self.tmp, "/x", cancel=token)
        self.assertEqual((r["code"], r["error"]), (0, "Cancelled"), r)
        token.close()
        with self.assertRaises(TypeError):
            self.w.batch(harness.policy(), {"path": "x"})
        with self.assertRaises(TypeError):
            self.w.upload_dir(harness.policy(), 42)


if __name__ == "__main__":
    unittest.main()
