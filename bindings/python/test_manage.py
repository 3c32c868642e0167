"""want.py's management calls against wantu-server (manage_endpoint)."""

import unittest

import test_want as harness
import want

NS = harness.NS


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


class Manage(unittest.TestCase):
    def setUp(self):
        self.w = harness.client()

    def tearDown(self):
        self.w.close()

    def put(self, dir, name, body=b"x"):
        r = self.w.upload_content(harness.policy(), dir, name, body)
        self.assertEqual(r["code"], 200, r)

    def test_files(self):
        name = "caf\u00e9 & co +%?#.txt"
        self.put("/m/files", name, b"hello")
        self.assertEqual(self.w.file_exists(NS, "/m/files", name)["exist"], True)
        self.assertEqual(self.w.file_exists(NS, "/m/files", "nope")["exist"], False)
        got = self.w.file_get(NS, "/m/files", name)
        self.assertEqual((got["code"], got["name"], got["size"]), (200, name, 5), got)
        self.assertEqual(got["md5"].lower(), "5d41402abc4b2a76b9719d911017c592")
        missing = self.w.file_get(NS, "/m/files", "nope")
        self.assertEqual((missing["code"], missing["error"]), (404, "FileNotExist"), missing)

        moved = self.w.file_rename(NS, "/m/files", name, "/m/moved", "renamed.txt")
        self.assertEqual((moved["code"], moved["name"], moved["dir"]), (200, "renamed.txt", "/m/moved"), moved)
        kept = self.w.file_rename(NS, "/m/moved", "renamed.txt", None, "again.txt")
        self.assertEqual((kept["code"], kept["dir"]), (200, "/m/moved"), kept)
        self.assertEqual(harness.SERVER.download("/m/moved", "again.txt"), b"hello")

        self.assertEqual(self.w.file_delete(NS, "/m/moved", "again.txt")["code"], 200)
        self.assertEqual(self.w.file_delete(NS, "/m/moved", "again.txt")["code"], 404)

    def test_listing_and_paging(self):
        for i in range(5):
            self.put("/m/list", "f%d" % i)
        page = self.w.file_list(NS, "/m/list", 2, 2)
        self.assertEqual(page["code"], 200, page)
        self.assertEqual((page["total_count"], page["current_page"], page["page_size"]), (5, 2, 2))
        self.assertEqual([f["name"] for f in page["result"]], ["f2", "f3"])
        everything = self.w.file_list_all(NS, "/m/list")
        self.assertEqual([f["name"] for f in everything["result"]], ["f%d" % i for i in range(5)])
        self.assertFalse(everything["truncated"])
        some = self.w.file_list_all(NS, "/m/list", 3)
        self.assertEqual((len(some["result"]), some["truncated"]), (3, True), some)
        bad = self.w.file_list(NS, "/m/list", 0, 101)
        self.assertEqual((bad["code"], bad["error"]), (0, "InvalidArgument"), bad)

    def test_folders(self):
        self.assertEqual(self.w.dir_create(NS, "/m/d/a/b")["code"], 200)
        self.assertEqual(self.w.dir_exists(NS, "/m/d/a")["exist"], True)
        dup = self.w.dir_create(NS, "/m/d/a/b")
        self.assertEqual((dup["code"], dup["error"]), (409, "NameDuplicated"), dup)
        listed = self.w.dir_list(NS, "/m/d")
        self.assertEqual([d["name"] for d in listed["result"]], ["a"], listed)
        self.assertEqual(len(self.w.dir_list_all(NS, "/m/d/a")["result"]), 1)
        busy = self.w.dir_delete(NS, "/m/d/a")
        self.assertEqual((busy["code"], busy["error"]), (409, "DirNotEmpty"), busy)
        self.assertEqual(self.w.dir_delete(NS, "/m/d/a/b")["code"], 200)
        self.assertEqual(self.w.dir_exists(NS, "/m/d/a/b")["exist"], False)

    def test_processing_and_scanning_reach_the_server(self):
        self.put("/m/media", "v.mp4", b"\0" * 100)
        for r in [
            self.w.pts_add(NS, "/m/media", "v.mp4", "avthumb/mp4", notify_url="http://127.0.0.1/n"),
            self.w.pts_get("some-id"),
            self.w.media_encode(NS, "/m/media", "v.mp4", "/m/out", "v.flv", "tpl", use_preset=True),
            self.w.media_encode_result("task"),
            self.w.snapshot(NS, "/m/media", "v.mp4", "/m/out", "v.jpg", 1000),
            self.w.snapshot_result("task"),
            self.w.scan_porn(NS, files=["/m/media/v.mp4"]),
            self.w.scan_advertising(urls=["http://example.invalid/a.jpg"]),
            self.w.scan_feedback([{"url": "http://example.invalid/a.jpg", "label": 1}]),
        ]:
            self.assertEqual((r["code"], r["error"]), (501, "UnsupportedOperation"), r)
        missing = self.w.media_encode(NS, "/m/media", "none.mp4", "/m/out", "x.flv", "tpl")
        self.assertEqual(missing["code"], 404, missing)
        both = self.w.scan_porn(NS, files=["/a/b"], urls=["http://x/"])
        self.assertEqual((both["code"], both["error"]), (0, "InvalidArgument"), both)

    def test_resource_id_known_answer(self):
        r = want.resource_id("demo", "/test", "test.jpg")
        self.assertEqual(r["resource_id"], "WyJkZW1vIiwiL3Rlc3QiLCJ0ZXN0LmpwZyJd")
        self.assertEqual(want.resource_id("demo", "/t\0")["error"], "InvalidArgument")

    def test_wrong_types_and_values(self):
        for call in [
            lambda: self.w.file_list(NS, "/m", "1"),
            lambda: self.w.file_list(NS, "/m", 1, None),
            lambda: self.w.file_get(None, "/m", "x"),
            lambda: self.w.file_get(NS, "/m", 5),
            lambda: self.w.snapshot(NS, "/a", "b", "/c", "d", "1000"),
            lambda: self.w.scan_feedback(5),
        ]:
            with self.assertRaises(TypeError):
                call()
        r = self.w.file_get(NS, "/m\0", "x")
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)
        r = self.w.file_list(NS, "/m", 2 ** 70)
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)
        r = self.w.scan_feedback("not json")
        self.assertEqual((r["code"], r["error"]), (0, "InvalidArgument"), r)


if __name__ == "__main__":
    unittest.main()
