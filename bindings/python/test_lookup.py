"""Where want.py looks for the library, per platform (no server needed).

The Windows case is checked by pretending to be Windows (``os.name`` and
``sys.platform``) on any machine: only the list of candidates is compared,
nothing is loaded.
"""

import os
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import want  # noqa: E402

# Where want.py itself is: next to this file in the repository, inside the
# package when installed from the wheel (tests/python-wheel runs this there).
WANT_DIR = os.path.dirname(os.path.abspath(want.__file__))
REPO = os.path.dirname(os.path.dirname(WANT_DIR))


def candidates(os_name, platform, existing):
    """want._candidates() as seen on that platform, with only `existing` present."""
    env = {k: v for k, v in os.environ.items() if k not in ("WANTU_LIB", "CARGO_TARGET_DIR")}
    with mock.patch.object(want.os, "name", os_name), mock.patch.object(
        want.sys, "platform", platform
    ), mock.patch.dict(want.os.environ, env, clear=True), mock.patch.object(
        want.os.path, "exists", lambda p: p in existing
    ), mock.patch.object(
        want.os.path, "getmtime", lambda p: 0
    ), mock.patch.object(
        want.ctypes.util, "find_library", lambda name: None
    ):
        return list(want._candidates())


class LookupTest(unittest.TestCase):
    def test_windows_looks_for_wantu_dll_by_name_and_in_make_dll_output(self):
        dll = os.path.join(REPO, "build", "windows", "wantu.dll")
        found = candidates("nt", "win32", {dll})
        self.assertEqual(found[0], os.path.join(WANT_DIR, "wantu.dll"))
        self.assertIn("wantu.dll", found)  # the loader's own search, by name
        self.assertEqual(found[-1], dll)
        self.assertFalse(any(p.endswith(".so") for p in found), found)

    def test_linux_never_looks_for_a_dll(self):
        so = os.path.join(REPO, "target", "debug", "libwantu.so")
        dll = os.path.join(REPO, "build", "windows", "wantu.dll")
        found = candidates("posix", "linux", {so, dll})
        self.assertIn("libwantu.so", found)
        self.assertEqual(found[-1], so)
        self.assertFalse(any(p.endswith(".dll") for p in found), found)


if __name__ == "__main__":
    unittest.main()
