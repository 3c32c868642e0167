# -*- coding: utf-8 -*-
"""The seed's demo (its test.py) on libwantu: the old SDK's calls, unchanged.

Fill in your AK, SK and namespace (or set WANTU_AK, WANTU_SK, WANTU_NAMESPACE),
and point it at a wantu-server with WANTU_ENDPOINT=http://127.0.0.1:PORT
(without it, the service's default endpoints are used):

    wantu-server --listen 127.0.0.1:8080 --data /tmp/wantu --key demo-ak:demo-sk &
    WANTU_ENDPOINT=http://127.0.0.1:8080 python3 bindings/python/demo.py

Exits 1 if any step did not answer code 200.
"""

import base64
import json
import os
import sys
import tempfile

from want import Want

ak = os.environ.get("WANTU_AK", "demo-ak")
sk = os.environ.get("WANTU_SK", "demo-sk")
namespace = os.environ.get("WANTU_NAMESPACE", "demo")
endpoint = os.environ.get("WANTU_ENDPOINT")  # None: the service's defaults

image = Want(ak, sk, None, endpoint, endpoint)
policy = {"namespace": namespace, "expiration": -1, "insertOnly": 0}
failed = []


def show(step, result):
    print("%s: %s" % (step, result))
    if result.get("code") != 200:
        failed.append(step)


# A local file to upload: 300 KB, so the multipart steps have three parts.
work = tempfile.mkdtemp(prefix="wantu-demo-")
file_path = os.path.join(work, "test.jpg")
with open(file_path, "wb") as f:
    f.write(b"\xff\xd8\xff\xe0" + bytes(i % 251 for i in range(300 * 1024)))

# 4.4 1) upload a file by path
show("upload_file", image.upload_file(policy, "/test", "test.jpg", file_path))

# 4.4 2) upload file data
show("upload_content", image.upload_content(policy, "/test", "content.txt", b"hello, wantu",
                                            meta={"source": "demo"}))

# 4.5 multipart: init with part 1, upload parts 2 and 3, complete
with open(file_path, "rb") as f:
    data = f.read()
size = 102400
chunks = [data[i:i + size] for i in range(0, len(data), size)]
r = image.multipart_init(policy, "/test", "multipart.jpg", chunks[0])
show("multipart_init", r)
id, upload_id = r.get("id"), r.get("upload_id")
parts = [{"e_tag": r.get("e_tag"), "part_number": 1}]
for number, chunk in enumerate(chunks[1:], start=2):
    r = image.multipart_upload(policy, id, upload_id, number, chunk)
    show("multipart_upload %d" % number, r)
    parts.append({"e_tag": r.get("e_tag"), "part_number": number})
encoded = base64.urlsafe_b64encode(json.dumps(parts).encode())
show("multipart_complete", image.multipart_complete(policy, id, upload_id, encoded))

# multipart cancel
r = image.multipart_init(policy, "/test", "cancelled.jpg", chunks[0])
show("multipart_init (to cancel)", r)
show("multipart_cancel", image.multipart_cancel(policy, r.get("id"), r.get("upload_id")))

os.remove(file_path)
os.rmdir(work)
if failed:
    print("failed steps: %s" % ", ".join(failed))
    sys.exit(1)
print("demo finished: every step answered code 200")
