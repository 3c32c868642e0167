"""want.py against a real wantu-server: the seed's calls, its demo, errors,
hostile inputs and threads.

Run from anywhere: ``python3 -m unittest discover -s bindings/python``.
The server binary is ``WANTU_SERVER_BIN`` or the newer of the repository's
``target/{debug,release}/wantu-server``; the library is found as want.py
finds it (``WANTU_LIB`` first). One server serves the whole module.
"""

import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import want  # noqa: E402
from want import Want, WantError  # noqa: E402

AK = "py-test-ak"
SK = "py-test-sk-0123456789abcdef"
NS = "pyns"
MIN_PART = 102400


def server_binary():
    env = os.environ.get("WANTU_SERVER_BIN")
    if env:
        return env
    repo = os.path.dirname(os.path.dirname(HERE))
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(repo, "target")
    found = [
        os.path.join(target, p, "wantu-server")
        for p in ("debug", "release")
        if os.path.exists(os.path.join(target, p, "wantu-server"))
    ]
    if not found:
        raise RuntimeError("wantu-server not built: run `cargo build --workspace` or set WANTU_SERVER_BIN")
    return max(found, key=os.path.getmtime)


class Server(object):
    """A wantu-server child on 127.0.0.1:0 with a fresh data directory."""

    def __init__(self, keys=((AK, SK),), extra_args=()):
        self.data = tempfile.mkdtemp(prefix="wantu-py-")
        args = [server_binary(), "--listen", "127.0.0.1:0", "--data", self.data] + list(extra_args)
        for ak, sk in keys:
            args += ["--key", "%s:%s" % (ak, sk)]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("wantu-server said %r instead of its address" % line)
        self.url = line[len("listening on "):]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc.stdout.close()
        shutil.rmtree(self.data, ignore_errors=True)

    def download(self, dir, name, namespace=NS):
        path = "/files/" + namespace + "".join(
            "/" + urllib.parse.quote(seg, safe="") for seg in dir.split("/") + [name] if seg
        )
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return r.read()


SERVER = None


def setUpModule():
    global SERVER
    SERVER = Server()


def tearDownModule():
    SERVER.stop()


def policy(**extra):
    p = {"namespace": NS, "expiration": -1}
    p.update(extra)
    return p


def data(n, seed=1):
    """Deterministic bytes that do not repeat with a short period."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.md5(b"%d-%d" % (seed, counter)).digest()
        counter += 1
    return bytes(out[:n])


def client():
    return Want(AK, SK, None, SERVER.url, SERVER.url)


SEED_KEYS = {"code", "name", "url", "request_id", "file_size", "file_modified", "e_tag",
             "message", "mime_type", "dir"}


class SeedCalls(unittest.TestCase):
    """The seed's six calls, with its signatures and result shapes."""

    def setUp(self):
        self.w = client()
        self.tmp = tempfile.mkdtemp(prefix="wantu-py-files-")

    def tearDown(self):
        self.w.close()
        shutil.rmtree(self.tmp)

    def write(self, name, content):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(content)
        return path

    def test_upload_file_has_the_seed_result(self):
        body = b"\xff\xd8\xff\xe0" + data(5000)
        path = self.write("test.jpg", body)
        r = self.w.upload_file(policy(), "/test", "test.jpg", path)
        self.assertEqual(r["code"], 200, r)
        self.assertTrue(SEED_KEYS <= set(r), r)
        self.assertEqual((r["name"], r["dir"], r["file_size"]), ("test.jpg", "/test", str(len(body))))
        self.assertEqual(r["e_tag"], hashlib.md5(body).hexdigest().upper())
        self.assertEqual(r["mime_type"], "image/jpeg")
        self.assertIsInstance(r["file_modified"], int)
        self.assertEqual(SERVER.download("/test", "test.jpg"), body)

    def test_upload_file_accepts_pathlike_and_md5(self):
        import pathlib

        body = data(1000, 2)
        path = pathlib.Path(self.write("p.bin", body))
        md5 = hashlib.md5(body).hexdigest()
        r = self.w.upload_file(policy(), "/test", "p.bin", path, md5=md5)
        self.assertEqual(r["code"], 200, r)
        r = self.w.upload_file(policy(), "/test", "p.bin", path, md5="0" * 32)
        self.assertEqual((r["code"], r.get("error")), (400, "BadDigest"), r)

    def test_upload_content_bytes_file_objects_and_str(self):
        cases = [
            ("bytes.bin", data(777, 3), lambda b: b),
            ("bytearray.bin", data(778, 4), bytearray),
            ("memoryview.bin", data(779, 5), memoryview),
            ("bytesio.bin", data(780, 6), io.BytesIO),
        ]
        for name, body, wrap in cases:
            r = self.w.upload_content(policy(), "/content", name, wrap(body))
            self.assertEqual(r["code"], 200, (name, r))
            self.assertEqual(SERVER.download("/content", name), body, name)
        path = self.write("f.bin", data(781, 7))
        with open(path, "rb") as f:
            r = self.w.upload_content(policy(), "/content", "file.bin", f)
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(SERVER.download("/content", "file.bin"), data(781, 7))
        r = self.w.upload_content(policy(), "/content", "text.txt", "h\u00e9llo")
        self.assertEqual(SERVER.download("/content", "text.txt"), "h\u00e9llo".encode())
        r = self.w.upload_content(policy(), "/content", "empty.bin", b"")
        self.assertEqual((r["code"], r["file_size"]), (200, "0"), r)

    def test_policy_as_json_text_meta_and_var(self):
        p = json.dumps(policy(name="${var-color}.txt"))
        r = self.w.upload_content(p, "/vars", "ignored.txt", b"x", None, {"owner": "me"},
                                  {"color": "red"})
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(r["name"], "red.txt", r)

    def test_policy_wins_and_insert_only(self):
        r = self.w.upload_content(policy(insertOnly=1), "/once", "a.txt", b"1")
        self.assertEqual(r["code"], 200, r)
        r = self.w.upload_content(policy(insertOnly=1), "/once", "a.txt", b"2")
        self.assertEqual((r["code"], r["error"]), (409, "FileAlreadyExists"), r)
        self.assertTrue(r["request_id"], r)

    def test_multipart_seed_flow_with_seed_base64_parts(self):
        body = data(2 * MIN_PART + 1234, 8)
        chunks = [body[i:i + MIN_PART] for i in range(0, len(body), MIN_PART)]
        r = self.w.multipart_init(policy(), "/multi", "seed.bin", chunks[0])
        self.assertEqual(r["code"], 200, r)
        self.assertEqual(r["part_number"], 1)
        self.assertEqual(r["e_tag"], hashlib.md5(chunks[0]).hexdigest().upper())
        id, upload_id = r["id"], r["upload_id"]
        parts = [{"e_tag": r["e_tag"], "part_number": 1}]
        for n, chunk in enumerate(chunks[1:], start=2):
            r = self.w.multipart_upload(policy(), id, upload_id, n, chunk)
            self.assertEqual((r["code"], r["part_number"]), (200, n), r)
            parts.append({"e_tag": r["e_tag"], "part_number": n})
        # Exactly the seed's recipe (bytes in Python 3).
        encoded = base64.urlsafe_b64encode(json.dumps(parts).encode())
        r = self.w.multipart_complete(policy(), id, upload_id, encoded, hashlib.md5(body).hexdigest())
        self.assertEqual(r["code"], 200, r)
        self.assertEqual((r["name"], r["file_size"]), ("seed.bin", str(len(body))))
        self.assertEqual(SERVER.download("/multi", "seed.bin"), body)

    def test_multipart_complete_accepts_str_and_list(self):
        for i, form in enumerate(["str", "list"]):
            body = data(MIN_PART + 10, 20 + i)
            name = "form-%s.bin" % form
            r = self.w.multipart_init(policy(), "/multi", name, io.BytesIO(body[:MIN_PART]))
            id, upload_id = r["id"], r["upload_id"]
            r2 = self.w.multipart_upload(policy(), id, upload_id, 2, body[MIN_PART:])
            parts = [{"e_tag": r["e_tag"], "part_number": 1}, {"e_tag": r2["e_tag"], "part_number": 2}]
            if form == "str":
                parts = base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()
            r = self.w.multipart_complete(policy(), id, upload_id, parts)
            self.assertEqual(r["code"], 200, (form, r))
            self.assertEqual(SERVER.download("/multi", name), body)

    def test_multipart_cancel(self):
        r = self.w.multipart_init(policy(), "/multi", "cancel.bin", data(MIN_PART))
        self.assertEqual(r["code"], 200, r)
        c = self.w.multipart_cancel(policy(), r["id"], r["upload_id"])
        self.assertEqual(c["code"], 200, c)
        again = self.w.multipart_upload(policy(), r["id"], r["upload_id"], 2, b"x")
        self.assertEqual(again["code"], 404, again)

    def test_upload_token(self):
        r = self.w.upload_token(policy())
        self.assertEqual(r["code"], 200)
        self.assertTrue(r["token"].startswith("UPLOAD_AK_TOP "), r)


class Errors(unittest.TestCase):
    """Wrong types raise TypeError; wrong values answer error dicts."""

    def setUp(self):
        self.w = client()

    def tearDown(self):
        self.w.close()

    def assertError(self, r, code, error, needle=None):
        self.assertEqual((r["code"], r.get("error")), (code, error), r)
        self.assertIn("request_id", r)
        if needle:
            self.assertIn(needle, r["message"])

    def test_wrong_types_raise_type_error(self):
        p = policy()
        calls = [
            lambda: self.w.upload_content(5, "/d", "n", b"x"),
            lambda: self.w.upload_content(p, 5, "n", b"x"),
            lambda: self.w.upload_content(p, "/d", "n", 12345),
            lambda: self.w.upload_content(p, "/d", "n", None),
            lambda: self.w.upload_content(p, "/d", "n", b"x", md5=5),
            lambda: self.w.upload_content(p, "/d", "n", b"x", meta=[1]),
            lambda: self.w.upload_content({"namespace": NS, "expiration": object()}, "/d", "n", b"x"),
            lambda: self.w.upload_file(p, "/d", "n", None),
            lambda: self.w.upload_file(p, "/d", "n", 3.5),
            lambda: self.w.multipart_upload(p, "id", "uid", "2", b"x"),
            lambda: self.w.multipart_upload(p, "id", "uid", 2.0, b"x"),
            lambda: self.w.multipart_upload(p, None, "uid", 2, b"x"),
            lambda: self.w.multipart_complete(p, "id", "uid", 5),
            lambda: self.w.multipart_complete(p, "id", "uid", ["not a dict"]),
            lambda: self.w.multipart_cancel(p, "id", 7),
            lambda: Want(None, SK),
            lambda: Want(AK, 123),
        ]
        for i, call in enumerate(calls):
            with self.assertRaises(TypeError, msg="call %d" % i):
                call()

    def test_bad_values_answer_errors(self):
        p = policy()
        self.assertError(self.w.upload_content("{", "/d", "n", b"x"), 0, "InvalidArgument", "policy")
        self.assertError(self.w.upload_content({"expiration": -1}, "/d", "n", b"x"), 0,
                         "InvalidArgument", "namespace")
        self.assertError(self.w.upload_content({"namespace": NS}, "/d", "n", b"x"), 0,
                         "InvalidArgument", "expiration")
        self.assertError(self.w.upload_content("[1]", "/d", "n", b"x"), 0, "InvalidArgument")
        self.assertError(self.w.upload_content(p, "/d", "n", b"x", meta='{"a":'), 0,
                         "InvalidArgument", "meta")
        self.assertError(self.w.upload_content(p, "/d", "n", b"x", var={"a": {"b": 1}}), 0,
                         "InvalidArgument", "var")
        self.assertError(self.w.upload_content(p, "/d", "n", b"x", md5="xyz"), 0, "InvalidArgument", "md5")
        self.assertError(self.w.upload_content(p, "/d\0/..", "n", b"x"), 0, "InvalidArgument", "`dir`")
        self.assertError(self.w.upload_content(p, "/d", "\ud800", b"x"), 0, "InvalidArgument", "`name`")
        self.assertError(self.w.upload_file(p, "/d", "n", "/no/such/file"), 0, "IoError", "/no/such/file")
        self.assertError(self.w.upload_file(p, "/d", "n", tempfile.gettempdir()), 0, "IoError", "directory")
        self.assertError(self.w.multipart_upload(p, "i", "u", -1, b"x"), 0, "InvalidArgument", "part_number")
        self.assertError(self.w.multipart_upload(p, "i", "u", 2 ** 32, b"x"), 0, "InvalidArgument")
        self.assertError(self.w.multipart_complete(p, "i", "u", "!!!"), 0, "InvalidArgument", "parts")
        self.assertError(self.w.multipart_complete(p, "i", "u", []), 0, "InvalidArgument")
        r = self.w.multipart_upload(p, "no-such-id", "0" * 32, 2, b"x")
        self.assertEqual(r["code"], 404, r)
        r = self.w.multipart_upload(p, "no-such-id", "0" * 32, 0, b"x")
        self.assertNotEqual(r["code"], 200, r)

    def test_server_and_connection_errors(self):
        wrong = Want(AK, "not-the-secret", None, SERVER.url, SERVER.url)
        r = wrong.upload_content(policy(), "/d", "n", b"x")
        self.assertError(r, 401, "InvalidToken")
        self.assertNotIn("not-the-secret", json.dumps(r))
        expired = self.w.upload_content({"namespace": NS, "expiration": 1000}, "/d", "n", b"x")
        self.assertError(expired, 401, "TokenExpired")
        refused = Want(AK, SK, None, "http://127.0.0.1:1", "http://127.0.0.1:1")
        self.assertError(refused.upload_content(policy(), "/d", "n", b"x"), 0, "ConnectError", "127.0.0.1:1")

    def test_constructor_errors_raise_want_error(self):
        for args, needle in [(("", SK), "`ak`"), ((AK, ""), "`sk`"), ((AK, SK, "OSS"), "`type`"),
                             ((AK, SK, None, "ftp://x"), "upload_endpoint"),
                             ((AK, SK, None, None, "not a url"), "manage_endpoint"),
                             ((AK, SK + "\0"), "`sk`")]:
            with self.assertRaises(WantError, msg=repr(args)) as cm:
                Want(*args)
            self.assertIsInstance(cm.exception, ValueError)
            self.assertIn(needle, str(cm.exception))
            self.assertNotIn(SK, str(cm.exception))
        with self.assertRaises(WantError):
            Want.with_options(AK, SK, timeout=1)
        with self.assertRaises(WantError) as cm:
            Want.with_options(AK, SK, limit_rate_bytes_per_sec=0)
        self.assertIn("limit_rate_bytes_per_sec", str(cm.exception))
        w = Want.with_options(AK, SK, None, SERVER.url, SERVER.url, connect_timeout_ms=2000,
                              user_agent="py-test", limit_rate_bytes_per_sec=1 << 20)
        self.assertEqual(w.upload_content(policy(), "/opts", "a", b"x")["code"], 200)

    def test_closed_client_answers_errors(self):
        w = client()
        with w:
            self.assertEqual(w.upload_content(policy(), "/d", "closed.txt", b"x")["code"], 200)
        self.assertError(w.upload_content(policy(), "/d", "n", b"x"), 0, "InvalidArgument", "closed")
        w.close()  # twice is fine

    def test_type_cloud(self):
        w = Want(AK, SK, "CLOUD", SERVER.url, SERVER.url)
        r = w.upload_token(policy())
        self.assertTrue(r["token"].startswith("UPLOAD_AK_CLOUD "), r)


class Threads(unittest.TestCase):
    def test_one_client_many_threads(self):
        w = client()
        results = []

        def work(t):
            for i in range(10):
                r = w.upload_content(policy(), "/threads", "t%d-%d" % (t, i), data(2000, t * 100 + i))
                results.append(r["code"])

        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(results, [200] * 40)
        self.assertEqual(SERVER.download("/threads", "t3-9"), data(2000, 309))
        w.close()


def run_python(code, env=None, cwd=None):
    full = dict(os.environ)
    full.update(env or {})
    return subprocess.run([sys.executable, "-c", code], env=full, cwd=cwd, capture_output=True,
                          timeout=60)


class Packaging(unittest.TestCase):
    def test_version(self):
        self.assertRegex(want.version(), r"^\d+\.\d+\.\d+")

    def test_wantu_lib_is_used_and_a_bad_one_is_refused(self):
        r = run_python("import want; want.load_library()", {"WANTU_LIB": "/no/such/libwantu.so"}, HERE)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"WANTU_LIB", r.stderr)
        lib = want.load_library()._name
        r = run_python("import want; print(want.load_library()._name)", {"WANTU_LIB": lib}, HERE)
        self.assertEqual(r.stdout.decode().strip(), lib, r.stderr)

    def test_library_next_to_want_py(self):
        lib = want.load_library()._name
        d = tempfile.mkdtemp(prefix="wantu-py-copy-")
        try:
            # want.py itself: in the repository, or as installed (want/__init__.py).
            shutil.copy(want.__file__, os.path.join(d, "want.py"))
            shutil.copy(lib, os.path.join(d, os.path.basename(lib)))
            env = {"WANTU_LIB": "", "PYTHONPATH": d}
            r = run_python("import want; print(want.load_library()._name, want.version())", env, "/")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(r.stdout.decode().startswith(os.path.join(d, "libwantu")), r.stdout)
        finally:
            shutil.rmtree(d)

    def test_seed_demo_runs_unchanged(self):
        env = dict(os.environ, WANTU_AK=AK, WANTU_SK=SK, WANTU_NAMESPACE=NS, WANTU_ENDPOINT=SERVER.url)
        r = subprocess.run([sys.executable, os.path.join(HERE, "demo.py")], env=env,
                           capture_output=True, timeout=60, cwd="/")
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode())
        for step in ["upload_file", "upload_content", "multipart_init", "multipart_upload 2",
                     "multipart_upload 3", "multipart_complete", "multipart_cancel"]:
            self.assertIn(step + ": {", out)
        self.assertIn("every step answered code 200", out)
        self.assertEqual(SERVER.download("/test", "multipart.jpg")[:4], b"\xff\xd8\xff\xe0")


if __name__ == "__main__":
    unittest.main()
