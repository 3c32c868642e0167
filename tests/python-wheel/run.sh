#!/usr/bin/env bash
# The Python wheel as a user meets it (run by scripts/test.sh with a
# wantu-server up and WANTU_SERVER_BIN exported):
#   1. `make wheel` leaves one py3-none-<platform> .whl in dist/ holding
#      want/__init__.py, its stub, py.typed and libwantu.so;
#   2. `pip install ./bindings/python` into a fresh venv;
#   3. from a directory outside the repository, with WANTU_LIB unset:
#      `from want import Want` loads the library shipped in the package,
#      the binding's tests and the seed demo pass against the server;
#   4. the stub matches the module (mypy's stubtest) and types catch misuse.
# Build requirements (hatchling) and mypy come from PyPI, as pip does it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/wantu-wheel.XXXXXX")"
trap 'rm -rf "$work"' EXIT
unset WANTU_LIB WANTU_LIB_DIR
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

echo "-- make wheel"
rm -f "$repo"/dist/wantu-*.whl
make -s -C "$repo" wheel >"$work/wheel.log" 2>&1 || { cat "$work/wheel.log"; exit 1; }
wheels=("$repo"/dist/wantu-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "no single wheel in dist/"; exit 1; }
platform="$(python3 -c 'import sysconfig; print(sysconfig.get_platform().replace("-", "_").replace(".", "_"))')"
case "$(basename "${wheels[0]}")" in
*-py3-none-"$platform".whl) echo "   $(basename "${wheels[0]}")" ;;
*) echo "wheel tag is not py3-none-$platform: ${wheels[0]}"; exit 1 ;;
esac
python3 - "${wheels[0]}" <<'PY'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
want = {"want/__init__.py", "want/__init__.pyi", "want/py.typed", "want/libwantu.so"}
missing = want - names
extra = [n for n in names if not n.startswith(("want/", "wantu-"))]
assert not missing, "missing from the wheel: %s" % sorted(missing)
assert not extra, "unexpected files in the wheel: %s" % extra
print("   holds", ", ".join(sorted(want)))
PY

echo "-- pip install ./bindings/python into a fresh venv"
python3 -m venv "$work/venv"
py="$work/venv/bin/python"
"$py" -m pip install -q "$repo/bindings/python"

echo "-- the installed package finds its own library (cwd $work, WANTU_LIB unset)"
mkdir -p "$work/run"
cd "$work/run"
"$py" - "$work/venv" <<'PY'
import os, sys
from want import Want, load_library, version
import want
here = os.path.dirname(want.__file__)
assert here.startswith(sys.argv[1]), "want imported from %s, not the venv" % here
lib = load_library()._name
assert lib == os.path.join(here, "libwantu.so"), "loaded %s, not the packaged library" % lib
print("   want %s from %s, library %s" % (version(), here, lib))
PY

echo "-- the binding's tests and the seed demo, from outside the repository"
cp "$repo"/bindings/python/test_*.py "$repo/bindings/python/demo.py" "$work/run/"
"$py" -m unittest discover -s "$work/run" -p 'test_*.py'
WANTU_AK="$WANTU_TEST_AK" WANTU_SK="$WANTU_TEST_SK" WANTU_NAMESPACE="$WANTU_TEST_NAMESPACE" \
    WANTU_ENDPOINT="$WANTU_TEST_ENDPOINT" "$py" "$work/run/demo.py" >"$work/demo.log" ||
    { cat "$work/demo.log"; exit 1; }
tail -n 1 "$work/demo.log"

echo "-- type information: stubtest, and mypy on good and bad code"
"$py" -m pip install -q mypy
# want/libwantu.so has an extension module's suffix, so stubtest tries to
# import it as the submodule want.libwantu: it is the C library, not a module.
printf 'want.libwantu\n' >"$work/stubtest-allowlist"
"$py" -m mypy.stubtest want --allowlist "$work/stubtest-allowlist"
cat >"$work/run/typed_good.py" <<'PY'
from want import Want, CancelToken
w = Want("ak", "sk", None, "http://127.0.0.1:1", "http://127.0.0.1:1")
r = w.upload_content({"namespace": "ns", "expiration": -1}, "/d", "n.txt", b"x", meta={"k": "v"})
code: int = r["code"]
w.file_list("ns", "/", 1, 10)
w.upload({"namespace": "ns"}, "/d", "n", "/tmp/f", progress=lambda sent, total: None, cancel=CancelToken())

import asyncio
from want import AsyncWant
async def main() -> int:
    async with AsyncWant("ak", "sk", None, "http://127.0.0.1:1", "http://127.0.0.1:1") as aw:
        r = await aw.upload_content({"namespace": "ns", "expiration": -1}, "/d", "n.txt", b"x")
        code: int = r["code"]
        return code
asyncio.run(main())
PY
cat >"$work/run/typed_bad.py" <<'PY'
from want import Want
w = Want("ak", "sk")
w.file_list("ns", "/", "1")
w.no_such_call()
from want import AsyncWant
async def forgot_await() -> None:
    AsyncWant("ak", "sk").file_list("ns", "/", 1, 10)["code"]
PY
"$py" -m mypy --strict "$work/run/typed_good.py"
if out="$("$py" -m mypy "$work/run/typed_bad.py")"; then
    echo "mypy accepted misuse of the API:"; echo "$out"; exit 1
fi
grep -q 'Argument 3 to "file_list" of "Want" has incompatible type "str"' <<<"$out" || { echo "$out"; exit 1; }
grep -q '"Want" has no attribute "no_such_call"' <<<"$out" || { echo "$out"; exit 1; }
grep -q 'Value of type "Coroutine\[Any, Any, dict\[str, Any\]\]" is not indexable' <<<"$out" ||
    { echo "$out"; exit 1; }
echo "   mypy finds the three mistakes in typed_bad.py"
echo "Python wheel: ok"
