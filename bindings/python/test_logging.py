"""WANTU_LOG request logging, observed from a child process's stderr: one line
per request with method, URL, status, bytes, milliseconds and retries; off by
default; never the secret key or a token signature."""

import base64
import os
import re
import subprocess
import sys
import unittest

import test_want as harness

# The child runs the seed's calls and prints the tokens it used, so the test
# knows which signatures must not appear on stderr.
CHILD = r"""
import base64, json, sys
sys.path.insert(0, %(here)r)
from want import Want
w = Want(%(ak)r, %(sk)r, None, %(url)r, %(url)r)
p = {"namespace": %(ns)r, "expiration": -1}
part = b"x" * 102400
print(json.dumps(w.upload_token(p)))
results = [
    w.upload_content(p, "/log", "a.txt", b"hello"),
    w.multipart_init(p, "/log", "m.bin", part),
]
i = results[-1]
results.append(w.multipart_upload(p, i["id"], i["upload_id"], 2, b"tail"))
parts = [{"e_tag": i["e_tag"], "part_number": 1}, {"e_tag": results[-1]["e_tag"], "part_number": 2}]
results.append(w.multipart_complete(p, i["id"], i["upload_id"], parts))
results.append(w.upload_content(p, "/log", "a.txt", b"x", md5="0" * 32))  # 400
bad = Want(%(ak)r, %(sk)r, None, "http://127.0.0.1:1", "http://127.0.0.1:1")
results.append(bad.upload_content(p, "/log", "b.txt", b"x"))              # refused
print(json.dumps([r["code"] for r in results]))
"""

LINE = re.compile(
    r"wantu: (GET|POST|DELETE) (\S+) status=(\d{3}|- error=\w+) sent=(\d+|\?) "
    r"received=(\d+) ms=(\d+) retries=(\d+)$"
)


def run_child(log):
    code = CHILD % {"here": harness.HERE, "ak": harness.AK, "sk": harness.SK,
                    "url": harness.SERVER.url, "ns": harness.NS}
    env = dict(os.environ)
    env.pop("WANTU_LOG", None)
    if log is not None:
        env["WANTU_LOG"] = log
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode().splitlines(), r.stderr.decode()


def setUpModule():
    harness.setUpModule()


def tearDownModule():
    harness.tearDownModule()


class Logging(unittest.TestCase):
    def test_debug_prints_one_line_per_request(self):
        for level in ("debug", "info", "trace", "DEBUG"):
            out, err = run_child(level)
            self.assertEqual(out[-1], "[200, 200, 200, 200, 400, 0]")
            # Request lines; other events (e.g. retry decisions at debug) may
            # appear between them.
            lines = [l for l in err.splitlines() if " status=" in l]
            matches = [LINE.search(l) for l in lines]
            self.assertTrue(all(matches), "%s: malformed request lines:\n%s" % (level, err))
            self.assertEqual(len(matches), 6, err)
            paths = [m.group(2).split("/", 3)[-1] for m in matches]
            self.assertEqual(paths, ["api/proxy/upload", "api/proxy/blockInit", "api/proxy/blockUpload",
                                     "api/proxy/blockComplete", "api/proxy/upload", "api/proxy/upload"])
            statuses = [m.group(3) for m in matches]
            self.assertEqual(statuses, ["200", "200", "200", "200", "400", "- error=ConnectError"])
            self.assertTrue(all(m.group(1) == "POST" for m in matches))
            self.assertTrue(matches[0].group(2).startswith(harness.SERVER.url + "/"))
            # The part-1 request carries the 100 KiB part, plus the form around it.
            self.assertGreater(int(matches[1].group(4)), 102400)
            self.assertTrue(all(int(m.group(5)) > 0 for m in matches[:5]))
            self.assertTrue(all(m.group(7) == "0" for m in matches))

    def test_no_secret_key_or_signature(self):
        # Good and wrong secrets, upload and manage calls, the one-call
        # uploader: at trace level, neither key nor any signature shows.
        wrong_sk = "wrong-secret-4d1f0e"
        code = (
            "import sys, json; sys.path.insert(0, %(here)r)\n"
            "from want import Want\n"
            "p = {'namespace': %(ns)r, 'expiration': -1}\n"
            "for sk in (%(sk)r, %(wrong)r):\n"
            "    w = Want(%(ak)r, sk, None, %(url)r, %(url)r)\n"
            "    print(w.upload_token(p)['token'])\n"
            "    w.upload_content(p, '/s', 'a.txt', b'x')\n"
            "    w.file_get(%(ns)r, '/s', 'a.txt')\n"
            "    w.file_list(%(ns)r, '/s')\n"
            "    w.upload(p, '/s', 'b.bin', b'z' * 300000, part_size=102400)\n"
        ) % {"here": harness.HERE, "ns": harness.NS, "sk": harness.SK, "wrong": wrong_sk,
             "ak": harness.AK, "url": harness.SERVER.url}
        env = dict(os.environ, WANTU_LOG="trace")
        r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        err = r.stderr.decode()
        self.assertIn("status=401", err)  # the wrong secret was refused...
        self.assertIn("/3.0/files", err)  # ...and manage requests were logged too
        secrets = [harness.SK, wrong_sk, "Authorization", "UPLOAD_AK_", "ACL_"]
        for token in r.stdout.decode().split():
            if token.startswith("UPLOAD_AK_"):
                continue
            decoded = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            ak, _policy, signature = decoded.split(":")
            self.assertEqual(ak, harness.AK)
            self.assertRegex(signature, r"^[0-9a-f]{40}$")
            secrets += [token, signature]
        self.assertEqual(len(secrets), 9)
        for secret in secrets:
            self.assertNotIn(secret, err)

    def test_off_by_default_and_when_off(self):
        for level in (None, "", "off", "0"):
            out, err = run_child(level)
            self.assertEqual(out[-1], "[200, 200, 200, 200, 400, 0]")
            self.assertEqual(err, "", "WANTU_LOG=%r" % level)

    def test_retries_are_counted(self):
        # 30% of requests answer 5xx: the one-call uploader retries them, and
        # each retried request's line says how many attempts came before.
        server = harness.Server(extra_args=["--faults", "error=0.3", "--seed", "7"])
        try:
            code = (
                "import sys, json; sys.path.insert(0, %r)\n"
                "from want import Want\n"
                "w = Want(%r, %r, None, %r, %r)\n"
                "r = w.upload({'namespace': %r, 'expiration': -1}, '/log', 'r.bin', b'y' * 1048576,\n"
                "             part_size=102400, backoff_base_ms=1, backoff_max_ms=5)\n"
                "print(json.dumps(r))\n"
            ) % (harness.HERE, harness.AK, harness.SK, server.url, server.url, harness.NS)
            env = dict(os.environ, WANTU_LOG="info")
            r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=60)
            result = __import__("json").loads(r.stdout.decode().splitlines()[-1])
            err = r.stderr.decode()
        finally:
            server.stop()
        self.assertEqual(result["code"], 200, result)
        self.assertGreater(result["retries"], 0, result)
        lines = [LINE.search(l) for l in err.splitlines() if " status=" in l]
        self.assertTrue(all(lines), err)
        self.assertEqual(len(lines), result["attempts"], err)
        self.assertEqual(sum(1 for m in lines if m.group(7) != "0"), result["retries"], err)
        self.assertRegex(err, r"status=5\d\d ")

    def test_unknown_level_says_so_once(self):
        out, err = run_child("verbose")
        self.assertEqual(err.count("WANTU_LOG"), 1, err)
        self.assertIn("stays off", err)


if __name__ == "__main__":
    unittest.main()
