"""Wheel build hook: builds the release libwantu with cargo and puts it
inside the package, next to want/__init__.py, where want.py looks first
after WANTU_LIB.

The wheel holds no Python extension (want.py talks to the library through
ctypes), so it suits every Python 3 and is tagged ``py3-none-<platform>``:
on this machine ``linux_x86_64``, built against the local glibc (no
manylinux claim; see docs/python.md).
"""

import json
import os
import shutil
import subprocess
import sys
import sysconfig

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def _library_name():
    if sys.platform == "darwin":
        return "libwantu.dylib"
    if os.name == "nt":
        return "wantu.dll"
    return "libwantu.so"


def _platform_tag():
    # "linux-x86_64" -> "linux_x86_64": the platform the library was built on.
    return sysconfig.get_platform().replace("-", "_").replace(".", "_")


class WantuBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        if self.target_name != "wheel":
            return
        if version == "editable":
            raise RuntimeError("editable installs are not supported: point WANTU_LIB at a "
                               "cargo build and import bindings/python/want.py instead")
        repo = os.path.dirname(os.path.dirname(os.path.abspath(self.root)))
        manifest = os.path.join(repo, "Cargo.toml")
        if not os.path.exists(os.path.join(repo, "src", "ffi")):
            raise RuntimeError("the wheel is built from the libwantu repository "
                               "(bindings/python inside it); %s is not one" % repo)
        cargo = os.environ.get("CARGO", "cargo")
        self.app.display_info("building libwantu: %s build --release -p wantu" % cargo)
        subprocess.run([cargo, "build", "--release", "-p", "wantu", "--manifest-path", manifest],
                       check=True, cwd=repo)
        metadata = subprocess.run(
            [cargo, "metadata", "--format-version", "1", "--no-deps", "--manifest-path", manifest],
            check=True, cwd=repo, stdout=subprocess.PIPE,
        )
        target = json.loads(metadata.stdout)["target_directory"]
        built = os.path.join(target, "release", _library_name())
        # A copy in the build directory, stripped of debug symbols when
        # `strip` exists: the wheel carries code, not a debugger's tables.
        staged_dir = os.path.join(self.directory, ".wantu-lib")
        os.makedirs(staged_dir, exist_ok=True)
        staged = os.path.join(staged_dir, _library_name())
        shutil.copyfile(built, staged)
        if sys.platform.startswith("linux") and shutil.which("strip"):
            subprocess.run(["strip", "--strip-debug", staged], check=True)
        build_data["force_include"][staged] = "want/" + _library_name()
        build_data["pure_python"] = False
        build_data["tag"] = "py3-none-" + _platform_tag()

    def finalize(self, version, build_data, artifact_path):
        shutil.rmtree(os.path.join(self.directory, ".wantu-lib"), ignore_errors=True)
