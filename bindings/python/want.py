"""The seed's Python SDK (``from want import Want``) on libwantu, through ctypes.

Code written for the old Python SDK runs unchanged::

    from want import Want
    image = Want(ak, sk)                      # type, upload_endpoint, manage_endpoint optional
    policy = {'namespace': 'demo', 'expiration': -1}
    r = image.upload_file(policy, '/test', 'test.jpg', '/path/test.jpg')
    if r['code'] == 200: print(r['url'])

Every call answers a dict with an integer ``code`` (200 on success, the HTTP
status of a server error, 0 for a client-side error with an ``error`` name
such as ``InvalidArgument`` or ``ConnectError``), a ``message`` and a
``request_id``: the seed's contract, "check whether code is 200".

Errors, precisely:

* Wrong Python *types* (a policy that is an int, content that is a number,
  a part number that is a string) raise ``TypeError`` before anything is sent:
  they are programming errors.
* Wrong *values* never raise: malformed JSON, a policy without namespace, a
  missing file, a NUL character inside a string, a refused connection, a
  server refusal -- all answer an error dict, like every other failure.
* ``Want(...)`` itself raises ``WantError`` (a ``ValueError``) when the keys,
  type or endpoints are unusable, since there is no client to answer with.

Only the standard library is used. The library is found through, in order:
``WANTU_LIB`` (a path to libwantu.so or wantu.dll), a ``libwantu`` (on
Windows ``wantu.dll``) next to this file, the system's library path, and --
for work inside the repository -- its ``target/release`` or ``target/debug``
build (on Windows the ``build/windows`` of ``make dll``), the newer first.
"""

import asyncio
import base64
import collections
import ctypes
import ctypes.util
import functools
import io
import itertools
import json
import os
import sys
import threading
import time
import weakref

__all__ = ["Want", "AsyncWant", "WantError", "CancelToken", "RemoteFile", "AsyncRemoteFile", "load_library",
           "resource_id", "version"]

_C = ctypes.c_char_p
_P = ctypes.c_void_p  # clients, and owned strings (so they can be freed)
_SIZE = ctypes.c_size_t
_U32 = ctypes.c_uint32


class WantError(ValueError):
    """A client could not be created; ``result`` holds the library's error dict."""

    def __init__(self, result):
        self.result = result
        super().__init__("%s: %s" % (result.get("error", "Error"), result.get("message", "")))


def _lib_file_names():
    if sys.platform == "darwin":
        return ["libwantu.dylib"]
    if os.name == "nt":
        return ["wantu.dll", "libwantu.dll"]
    return ["libwantu.so"]


def _candidates():
    """Where the library may be, in the documented order."""
    env = os.environ.get("WANTU_LIB")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    for name in _lib_file_names():
        yield os.path.join(here, name)
    found = ctypes.util.find_library("wantu")
    if found:
        yield found
    for name in _lib_file_names():
        yield name  # the dynamic loader's own search path (LD_LIBRARY_PATH, ld.so.cache)
    repo = os.path.dirname(os.path.dirname(here))
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(repo, "target")
    dirs = [os.path.join(target, profile) for profile in ("release", "debug")]
    if os.name == "nt":
        dirs.append(os.path.join(repo, "build", "windows"))  # `make dll` (docs/windows.md)
    # A developer convenience: the newest of the builds.
    built = [
        os.path.join(d, name)
        for d in dirs
        for name in _lib_file_names()
        if os.path.exists(os.path.join(d, name))
    ]
    for path in sorted(built, key=os.path.getmtime, reverse=True):
        yield path


_lib = None


def load_library():
    """Loads libwantu once and declares every function's types."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    env = os.environ.get("WANTU_LIB")
    for path in _candidates():
        explicit = bool(env) and path == env
        if os.sep in path and not os.path.exists(path) and not explicit:
            tried.append(path + " (missing)")
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            if explicit:
                # An explicit choice that fails must not fall back silently.
                raise OSError("WANTU_LIB=%s cannot be loaded: %s" % (env, e))
            tried.append("%s (%s)" % (path, e))
            continue
        _declare(lib)
        _lib = lib
        return lib
    raise OSError(
        "libwantu not found; set WANTU_LIB to the path of libwantu.so, install it "
        "(make install), or build it (cargo build). Tried: " + "; ".join(tried)
    )


# name -> (restype, argtypes); restype _P for every owned char * (freed by us).
_SIGNATURES = {
    "wantu_version": (_C, []),
    "wantu_string_free": (None, [_P]),
    "wantu_last_error": (_P, []),
    "wantu_client_new": (_P, [_C, _C, _C, _C, _C]),
    "wantu_client_new_with_options": (_P, [_C, _C, _C, _C, _C, _C]),
    "wantu_client_free": (None, [_P]),
    "wantu_upload_token": (_P, [_P, _C]),
    "wantu_upload_file": (_P, [_P, _C, _C, _C, _C, _C, _C, _C]),
    "wantu_upload_content": (_P, [_P, _C, _C, _C, _C, _SIZE, _C, _C, _C]),
    "wantu_multipart_init": (_P, [_P, _C, _C, _C, _C, _SIZE, _C, _C, _C]),
    "wantu_multipart_upload": (_P, [_P, _C, _C, _C, _U32, _C, _SIZE, _C]),
    "wantu_multipart_complete": (_P, [_P, _C, _C, _C, _C, _C]),
    "wantu_multipart_cancel": (_P, [_P, _C, _C, _C]),
}

_I64 = ctypes.c_int64
_I32 = ctypes.c_int32

# Calls beyond the seed; bound when the loaded library has them, so an older
# library still serves the seed's calls.
_OPTIONAL_SIGNATURES = {
    "wantu_file_exists": (_P, [_P, _C, _C, _C]),
    "wantu_file_get": (_P, [_P, _C, _C, _C]),
    "wantu_file_delete": (_P, [_P, _C, _C, _C]),
    "wantu_file_rename": (_P, [_P, _C, _C, _C, _C, _C]),
    "wantu_file_list": (_P, [_P, _C, _C, _I64, _I64]),
    "wantu_file_list_all": (_P, [_P, _C, _C, _I64]),
    "wantu_dir_create": (_P, [_P, _C, _C]),
    "wantu_dir_exists": (_P, [_P, _C, _C]),
    "wantu_dir_delete": (_P, [_P, _C, _C]),
    "wantu_dir_list": (_P, [_P, _C, _C, _I64, _I64]),
    "wantu_dir_list_all": (_P, [_P, _C, _C, _I64]),
    "wantu_pts_add": (_P, [_P, _C, _C, _C, _C, _C, _I32]),
    "wantu_pts_get": (_P, [_P, _C]),
    "wantu_media_encode": (_P, [_P, _C, _C, _C, _C, _C, _C, _C]),
    "wantu_media_encode_result": (_P, [_P, _C]),
    "wantu_snapshot": (_P, [_P, _C, _C, _C, _C, _C, _I64, _C]),
    "wantu_snapshot_result": (_P, [_P, _C]),
    "wantu_scan_porn": (_P, [_P, _C, _C, _C]),
    "wantu_scan_advertising": (_P, [_P, _C, _C, _C]),
    "wantu_scan_feedback": (_P, [_P, _C]),
    "wantu_resource_id": (_P, [_C, _C, _C]),
    "wantu_cancel_new": (_P, []),
    "wantu_cancel_trigger": (None, [_P]),
    "wantu_cancel_is_triggered": (ctypes.c_int, [_P]),
    "wantu_cancel_free": (None, [_P]),
}

# The one-call uploader's callbacks (wantu_progress_fn, wantu_read_fn).
_PROGRESS_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_void_p)
_READ_FN = ctypes.CFUNCTYPE(ctypes.c_ssize_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
_SIZE_UNKNOWN = 2 ** 64 - 1
_TAIL = [_C, _C, _C, _PROGRESS_FN, _P, _P]  # meta, var, options, progress, user_data, cancel
_OPTIONAL_SIGNATURES.update({
    "wantu_transfer_file": (_P, [_P, _C, _C, _C, _C] + _TAIL),
    "wantu_transfer_content": (_P, [_P, _C, _C, _C, _C, _SIZE] + _TAIL),
    "wantu_transfer_stream": (_P, [_P, _C, _C, _C, _READ_FN, _P] + _TAIL),
    # options, progress, user_data, cancel
    "wantu_download_file": (_P, [_P, _C, _C, _C, _C, _C, _PROGRESS_FN, _P, _P]),
    "wantu_download_dir": (_P, [_P, _C, _C, _C, _C, _PROGRESS_FN, _P, _P]),
})
# Downloads to the caller (docs/streams.md): offset, length, options,
# progress, user_data, cancel, out_data, out_len.
_U64 = ctypes.c_uint64
_TO_END = 2 ** 64 - 1
_OPTIONAL_SIGNATURES.update({
    "wantu_download_memory": (_P, [_P, _C, _C, _C, _U64, _U64, _C, _PROGRESS_FN, _P, _P,
                                   ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(_SIZE)]),
    "wantu_bytes_free": (None, [_P]),
})
# Many files in one call (folder and batch uploads).
_OPTIONAL_SIGNATURES.update({
    "wantu_upload_dir": (_P, [_P, _C, _C, _C, _C, _PROGRESS_FN, _P, _P]),
    "wantu_transfer_batch": (_P, [_P, _C, _C, _C, _PROGRESS_FN, _P, _P]),
})




class _Async(ctypes.Structure):
    """struct wantu_async: how a non-blocking call delivers its answer."""

    _fields_ = [("queue", _P), ("on_done", _P), ("user_data", _P), ("progress", _I32)]


class _Event(ctypes.Structure):
    """struct wantu_event: one event taken from a completion queue."""

    _fields_ = [("kind", ctypes.c_int), ("op", _P), ("user_data", _P), ("result", _P),
                ("sent", ctypes.c_uint64), ("total", ctypes.c_uint64)]


_EVENT_DONE = 1
_EVENT_PROGRESS = 2

# The completion queue and operation handles of the non-blocking C API.
_OPTIONAL_SIGNATURES.update({
    "wantu_queue_new": (_P, []),
    "wantu_queue_free": (None, [_P]),
    "wantu_queue_fd": (ctypes.c_int, [_P]),
    "wantu_queue_take": (ctypes.c_int, [_P, ctypes.POINTER(_Event)]),
    "wantu_queue_wait": (ctypes.c_int, [_P, ctypes.c_int, ctypes.POINTER(_Event)]),
    "wantu_op_cancel": (None, [_P]),
    "wantu_op_free": (None, [_P]),
    "wantu_op_running": (_I32, [_P]),
})


def _declare(lib):
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    for name, (restype, argtypes) in _OPTIONAL_SIGNATURES.items():
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            fn.argtypes = argtypes
    # Every call that takes a client has a non-blocking form (when the
    # library is new enough): the same arguments plus `how`.
    for name, (restype, argtypes) in list(_SIGNATURES.items()) + list(_OPTIONAL_SIGNATURES.items()):
        fn = getattr(lib, name + "_async", None) if argtypes[:1] == [_P] else None
        if fn is not None:
            fn.restype = _P
            fn.argtypes = argtypes + [ctypes.POINTER(_Async)]


def version():
    """The loaded library's version, e.g. ``'0.1.0'``."""
    return load_library().wantu_version().decode()


def _take(lib, ptr):
    """Decodes an owned JSON string from the library and frees it."""
    if not ptr:
        return {"code": 0, "error": "Internal", "message": "libwantu answered NULL", "request_id": ""}
    try:
        return json.loads(ctypes.string_at(ptr).decode("utf-8"))
    finally:
        lib.wantu_string_free(ptr)


class _BadValue(Exception):
    """A value C cannot carry (NUL in a string); answered as a JSON error."""


def _local_error(message):
    return {"code": 0, "error": "InvalidArgument", "message": message, "request_id": ""}


def _text(value, arg, optional=True):
    """A str (or UTF-8 bytes) argument as C bytes; None passes NULL."""
    if value is None:
        if optional:
            return None
        raise TypeError("`%s` must be a str, not None" % arg)
    if isinstance(value, str):
        try:
            value = value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise _BadValue("`%s` is not encodable as UTF-8: %s" % (arg, e))
    elif isinstance(value, (bytes, bytearray)):
        value = bytes(value)
    else:
        raise TypeError("`%s` must be a str, not %s" % (arg, type(value).__name__))
    if b"\0" in value:
        raise _BadValue("`%s` contains a NUL character, which C strings cannot carry" % arg)
    return value


def _json_arg(value, arg, optional=True):
    """A dict-like argument (policy, meta, var): a dict, or JSON text."""
    if value is None and optional:
        return None
    if isinstance(value, (str, bytes, bytearray)):
        return _text(value, arg)
    if isinstance(value, dict):
        # A dict of unserialisable values raises TypeError, as json does.
        return _text(json.dumps(value, ensure_ascii=False), arg)
    raise TypeError("`%s` must be a dict or a JSON str, not %s" % (arg, type(value).__name__))


def _meta(value, arg):
    # The seed's default `{}` means "none": send nothing rather than an empty object.
    if isinstance(value, dict) and not value:
        return None
    return _json_arg(value, arg)


def _content(value):
    """Upload content: bytes-like, str (sent as UTF-8), or a readable file object."""
    if hasattr(value, "read") and not isinstance(value, (bytes, bytearray, memoryview, str)):
        value = value.read()
    if isinstance(value, bytes):
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(
        "`content` must be bytes, a str or a readable file object, not %s" % type(value).__name__
    )


def _parts(value):
    """The seed's Base64 parts (str or bytes), or a list of dicts."""
    if isinstance(value, (list, tuple)):
        for p in value:
            if not isinstance(p, dict):
                raise TypeError("`parts` items must be dicts like {'e_tag': ..., 'part_number': 1}")
        return _text(json.dumps(list(value)), "parts")
    if isinstance(value, (str, bytes, bytearray)):
        return _text(value, "parts", optional=False)
    raise TypeError(
        "`parts` must be the seed's Base64 text or a list of dicts, not %s" % type(value).__name__
    )


def _int(value, arg, lo=-(2 ** 63), hi=2 ** 63 - 1):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("`%s` must be an int, not %s" % (arg, type(value).__name__))
    if not lo <= value <= hi:
        raise _BadValue("`%s` %d is out of range (%d to %d)" % (arg, value, lo, hi))
    return value


def _json_list(value, arg, optional=True):
    """A list argument (files, urls, feedback) as JSON text; JSON text passes."""
    if value is None and optional:
        return None
    if isinstance(value, (str, bytes, bytearray)):
        return _text(value, arg)
    if isinstance(value, (list, tuple, dict)):
        return _text(json.dumps(value if isinstance(value, dict) else list(value)), arg)
    raise TypeError("`%s` must be a list or JSON text, not %s" % (arg, type(value).__name__))


def resource_id(namespace, dir, name=None):
    """``{'code': 200, 'resource_id': ...}``: the id of a file (or of the
    folder ``dir`` when ``name`` is None), as manage URLs use it."""
    lib = load_library()
    try:
        args = (_text(namespace, "namespace", False), _text(dir, "dir", False), _text(name, "name"))
    except _BadValue as e:
        return _local_error(str(e))
    return _take(lib, lib.wantu_resource_id(*args))


class CancelToken(object):
    """Cancels the uploads it is given to (``Want.upload(..., cancel=token)``)
    from any thread: ``token.cancel()``. A cancelled token stays cancelled."""

    def __init__(self):
        self._lib = load_library()
        if not hasattr(self._lib, "wantu_cancel_new"):
            raise OSError("the loaded libwantu (%s) has no one-call uploader" % version())
        self._handle = self._lib.wantu_cancel_new()
        if not self._handle:
            raise MemoryError("wantu_cancel_new failed")

    def cancel(self):
        if self._handle:
            self._lib.wantu_cancel_trigger(self._handle)

    @property
    def cancelled(self):
        return bool(self._handle) and self._lib.wantu_cancel_is_triggered(self._handle) == 1

    def close(self):
        handle, self._handle = self._handle, None
        if handle:
            self._lib.wantu_cancel_free(handle)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Callbacks(object):
    """C callbacks around Python ones. An exception raised by the user's
    progress callable or stream stops the upload and is re-raised after it."""

    def __init__(self, progress, stream=None, in_c=True):
        self.error = None
        # The non-blocking client passes no C progress function: progress
        # then comes as queue events, handed to `on_progress` on the loop.
        wrap = progress is not None and in_c
        self.progress = _PROGRESS_FN(self._progress) if wrap else _PROGRESS_FN()
        self.events = progress is not None and not in_c
        self.read = _READ_FN(self._read) if stream is not None else None
        self._user_progress = progress
        self._stream = stream

    def on_progress(self, sent, total):
        """A progress event; answers whether the call is to be cancelled."""
        return self._progress(sent, total, None) == 1

    def _progress(self, sent, total, _data):
        try:
            return 1 if self._user_progress(sent, None if total == _SIZE_UNKNOWN else total) else 0
        except BaseException as e:  # noqa: B036 - re-raised after the call
            self.error = self.error or e
            return 1

    def _read(self, buf, cap, _data):
        try:
            chunk = self._stream.read(cap)
            if isinstance(chunk, str):
                chunk = chunk.encode("utf-8")
            if not chunk:
                return 0
            if not isinstance(chunk, (bytes, bytearray, memoryview)) or len(chunk) > cap:
                raise TypeError("stream.read(%d) must answer at most %d bytes" % (cap, cap))
            ctypes.memmove(buf, bytes(chunk), len(chunk))
            return len(chunk)
        except BaseException as e:  # noqa: B036 - re-raised after the call
            self.error = self.error or e
            return -1

    def finish(self, result):
        if self.error is not None:
            raise self.error
        return result


class _Call(object):
    """One C call, prepared: its function's name and C arguments. Both
    clients prepare calls with the same methods (`_Calls`) and differ
    only in how they run them."""

    __slots__ = ("name", "args")

    def __init__(self, name, args):
        self.name = name
        self.args = args


class _Calls(object):
    """The calls of both clients: each method checks its arguments and
    prepares the C call; `_guard` (of `Want` or `AsyncWant`) runs it."""

    # Whether the C progress callback is used (else: progress events).
    _C_PROGRESS = True

    def __init__(self, ak, sk, type=None, upload_endpoint=None, manage_endpoint=None):
        self._open(ak, sk, type, upload_endpoint, manage_endpoint)

    @classmethod
    def with_options(cls, ak, sk, type=None, upload_endpoint=None, manage_endpoint=None, **options):
        """Like ``Want(...)``, with client options: ``connect_timeout_ms``,
        ``request_timeout_ms``, ``read_timeout_ms``, ``ca_file``, ``proxy``,
        ``user_agent``, ``limit_rate_bytes_per_sec`` (see wantu.h,
        wantu_client_new_with_options)."""
        self = cls.__new__(cls)
        self._open(ak, sk, type, upload_endpoint, manage_endpoint, options)
        return self

    def _open(self, ak, sk, type, upload_endpoint, manage_endpoint, options=None):
        self._handle = None
        self._lib = load_library()
        self._handle = self._create(ak, sk, type, upload_endpoint, manage_endpoint, options)

    def _create(self, ak, sk, type, upload_endpoint, manage_endpoint, options=None):
        lib = self._lib
        try:
            args = [
                _text(ak, "ak", optional=False),
                _text(sk, "sk", optional=False),
                _text(type, "type"),
                _text(upload_endpoint, "upload_endpoint"),
                _text(manage_endpoint, "manage_endpoint"),
                _text(json.dumps(options), "options") if options is not None else None,
            ]
        except _BadValue as e:
            raise WantError(_local_error(str(e)))
        handle = lib.wantu_client_new_with_options(*args)
        if not handle:
            ptr = lib.wantu_last_error()
            err = _take(lib, ptr) if ptr else {"error": "Internal", "message": "unknown failure"}
            raise WantError(err)
        return handle

    def _call(self, name, *args):
        return _Call(name, args)

    def _callbacks(self, progress, stream=None):
        return _Callbacks(progress, stream, in_c=self._C_PROGRESS)

    def _prepare(self, build):
        """Runs an argument builder: a `_Call`, or the JSON error of a value
        C cannot carry."""
        try:
            return build()
        except _BadValue as e:
            return _local_error(str(e))

    def _run_blocking(self, call):
        if not self._handle:
            return _local_error("this %s client is closed; create a new one" % type(self).__name__)
        fn = getattr(self._lib, call.name, None)
        if fn is None:
            return _missing(call.name)
        return _take(self._lib, fn(self._handle, *call.args))

    # -- the seed's calls ------------------------------------------------

    def upload_token(self, policy):
        """``{'code': 200, 'token': 'UPLOAD_AK_TOP ...'}`` for a policy."""
        return self._guard(lambda: self._call("wantu_upload_token", _json_arg(policy, "policy", False)))

    def upload_file(self, policy, dir, name, file_path, md5=None, meta={}, var={}):
        """Uploads a local file (streamed from disk) in one request."""

        def build():
            if isinstance(file_path, os.PathLike):
                path = os.fspath(file_path)
            else:
                path = file_path
            return self._call(
                "wantu_upload_file",
                _json_arg(policy, "policy", False),
                _text(dir, "dir"),
                _text(name, "name"),
                _text(path, "file_path", optional=False),
                _text(md5, "md5"),
                _meta(meta, "meta"),
                _meta(var, "var"),
            )

        return self._guard(build)

    def upload_content(self, policy, dir, name, content, md5=None, meta={}, var={}):
        """Uploads bytes (or a file object's contents) in one request."""
        return self._new_file("wantu_upload_content", policy, dir, name, content, md5, meta, var)

    def multipart_init(self, policy, dir, name, content, md5=None, meta={}, var={}):
        """Starts a multipart upload with its first part; answers ``id``,
        ``upload_id``, ``part_number`` 1 and ``e_tag``."""
        return self._new_file("wantu_multipart_init", policy, dir, name, content, md5, meta, var)

    def _new_file(self, function, policy, dir, name, content, md5, meta, var):
        # upload_content and multipart_init take the same arguments; only
        # the C function differs.
        def build():
            data = _content(content)
            return self._call(
                function,
                _json_arg(policy, "policy", False),
                _text(dir, "dir"),
                _text(name, "name"),
                data,
                len(data),
                _text(md5, "md5"),
                _meta(meta, "meta"),
                _meta(var, "var"),
            )

        return self._guard(build)

    def multipart_upload(self, policy, id, upload_id, part_number, content, md5=None):
        """Sends part ``part_number`` (2...10000) of an upload."""

        def build():
            data = _content(content)
            return self._call(
                "wantu_multipart_upload",
                _json_arg(policy, "policy", False),
                _text(id, "id", optional=False),
                _text(upload_id, "upload_id", optional=False),
                _int(part_number, "part_number", 0, 0xFFFFFFFF),
                data,
                len(data),
                _text(md5, "md5"),
            )

        return self._guard(build)

    def multipart_complete(self, policy, id, upload_id, parts, md5=None):
        """Assembles the file; ``parts`` is the seed's Base64 or a list of dicts."""
        return self._guard(
            lambda: self._call(
                "wantu_multipart_complete",
                _json_arg(policy, "policy", False),
                _text(id, "id", optional=False),
                _text(upload_id, "upload_id", optional=False),
                _parts(parts),
                _text(md5, "md5"),
            )
        )

    def multipart_cancel(self, policy, id, upload_id):
        """Cancels an upload; the server discards its parts."""
        return self._guard(
            lambda: self._call(
                "wantu_multipart_cancel",
                _json_arg(policy, "policy", False),
                _text(id, "id", optional=False),
                _text(upload_id, "upload_id", optional=False),
            )
        )

    # -- one call, any size (parallel multipart, progress, cancel, retries) --

    def upload(self, policy, dir, name, source, meta=None, var=None, progress=None, cancel=None,
               **options):
        """Uploads ``source`` whatever its size: a path (str or PathLike),
        bytes-like content, or a readable binary stream of unknown length.
        Small sources go in one request, larger ones in parallel parts.

        ``progress(sent, total)`` is called on this thread (``total`` None
        while a stream's length is unknown); returning a true value cancels.
        ``cancel`` is a ``CancelToken`` another thread may trigger. Options:
        ``part_size``, ``concurrency``, ``multipart_threshold``, ``integrity``,
        ``max_attempts``, ``retry_budget_ms``, ``backoff_base_ms``,
        ``backoff_max_ms``, ``checkpoint_path`` (resume; paths only).
        Answers the result dict plus ``multipart``, ``parts``, ``attempts``,
        ``retries``...; a cancel answers ``error`` ``Cancelled``."""
        if isinstance(source, (str, os.PathLike)):
            kind, fn = "file", "wantu_transfer_file"
        elif isinstance(source, (bytes, bytearray, memoryview)):
            kind, fn = "content", "wantu_transfer_content"
        elif hasattr(source, "read"):
            kind, fn = "stream", "wantu_transfer_stream"
        else:
            raise TypeError("`source` must be a path, bytes or a readable stream, not %s"
                            % type(source).__name__)
        if cancel is not None and not isinstance(cancel, CancelToken):
            raise TypeError("`cancel` must be a CancelToken, not %s" % type(cancel).__name__)
        if progress is not None and not callable(progress):
            raise TypeError("`progress` must be callable")
        callbacks = self._callbacks(progress, source if kind == "stream" else None)

        def build():
            head = [_json_arg(policy, "policy", False), _text(dir, "dir"), _text(name, "name")]
            if kind == "file":
                head.append(_text(os.fspath(source), "file_path", optional=False))
            elif kind == "content":
                data = bytes(source)
                head += [data, len(data)]
            else:
                head += [callbacks.read, None]
            tail = [_json_arg(meta or None, "meta"), _json_arg(var or None, "var"),
                    _json_arg(options or None, "options"), callbacks.progress, None,
                    cancel._handle if cancel is not None else None]
            return self._call(fn, *(head + tail))

        return self._guard(build, callbacks)

    # -- many files, and downloads (docs/folders.md, docs/downloads.md) ----

    def _long_call(self, fn, args, progress, cancel, options):
        if cancel is not None and not isinstance(cancel, CancelToken):
            raise TypeError("`cancel` must be a CancelToken, not %s" % type(cancel).__name__)
        if progress is not None and not callable(progress):
            raise TypeError("`progress` must be callable")
        callbacks = self._callbacks(progress)

        def build():
            tail = [_json_arg(options or None, "options"), callbacks.progress, None,
                    cancel._handle if cancel is not None else None]
            return self._call(fn, *(args() + tail))

        return self._guard(build, callbacks)

    def upload_dir(self, policy, local_dir, remote_dir="/", progress=None, cancel=None,
                   **options):
        """Uploads every file under ``local_dir`` to ``remote_dir`` + its
        relative path, many at once under one scheduler. ``progress(sent,
        total)`` counts the bytes of the whole call (returning a true value
        cancels); ``cancel`` is a ``CancelToken``. Options: every ``upload``
        option but ``checkpoint_path`` (``concurrency`` defaults to 64 here),
        and ``include`` / ``exclude`` (lists of globs), ``follow_symlinks``,
        ``skip`` (``"none"``, ``"size"``, ``"md5"``), ``dry_run``,
        ``fail_fast``, ``results`` (``"all"`` or ``"failed"``: only the
        failures in the answer) and ``results_file`` (a JSON line per
        file). Answers ``code`` (200 only when every file
        succeeded), ``uploaded``, ``skipped``, ``failed``, ``bytes`` and
        ``results`` (one dict per file, whose ``status`` is ``"uploaded"``,
        ``"skipped"``, ``"failed"`` or, in a dry run, ``"would_upload"``).
        See docs/folders.md."""
        if not isinstance(local_dir, (str, os.PathLike)):
            raise TypeError("`local_dir` must be a path, not %s" % type(local_dir).__name__)
        return self._long_call(
            "wantu_upload_dir",
            lambda: [_json_arg(policy, "policy", False),
                     _text(os.fspath(local_dir), "local_dir", optional=False),
                     _text(remote_dir, "remote_dir")],
            progress, cancel, options)

    def batch(self, policy, jobs, progress=None, cancel=None, **options):
        """Uploads a list of jobs in one call: dicts with ``path`` (a local
        file) or ``content`` (bytes) or ``content_base64``, and optionally
        ``dir``, ``name``, ``meta``, ``var``. Progress, cancel, options and
        the answer as ``upload_dir``; each result also has the job's
        ``index``."""
        if not isinstance(jobs, (list, tuple)):
            raise TypeError("`jobs` must be a list of dicts, not %s" % type(jobs).__name__)
        wire = []
        for i, job in enumerate(jobs):
            if not isinstance(job, dict):
                raise TypeError("jobs[%d] must be a dict, not %s" % (i, type(job).__name__))
            job = dict(job)
            if "content" in job:
                content = job.pop("content")
                if not isinstance(content, (bytes, bytearray, memoryview)):
                    raise TypeError("jobs[%d]['content'] must be bytes" % i)
                job["content_base64"] = base64.b64encode(bytes(content)).decode("ascii")
            if isinstance(job.get("path"), os.PathLike):
                job["path"] = os.fspath(job["path"])
            wire.append(job)
        return self._long_call(
            "wantu_transfer_batch",
            lambda: [_json_arg(policy, "policy", False),
                     _text(json.dumps(wire, ensure_ascii=False), "jobs", optional=False)],
            progress, cancel, options)

    def download(self, namespace, dir, name, local_path, progress=None, cancel=None, **options):
        """Downloads the stored file ``dir``/``name`` to ``local_path``: in
        parallel ranges when large, MD5 checked, renamed into place only when
        complete. ``progress(done, total)`` and ``cancel`` as for ``upload``.
        Options: ``concurrency``, ``part_size``, ``max_attempts``,
        ``retry_budget_ms``, ``backoff_base_ms``, ``backoff_max_ms``,
        ``resume`` (default True: an interrupted download continues).
        Answers the result dict (``size``, ``md5``, ``parts``, ...)."""
        return self._long_call("wantu_download_file", lambda: [
            _text(namespace, "namespace", False), _text(dir, "dir"), _text(name, "name", False),
            _text(os.fspath(local_path), "local_path", False)], progress, cancel, options)

    def download_dir(self, namespace, remote_dir, local_dir, progress=None, cancel=None, **options):
        """Downloads every file under ``remote_dir`` into ``local_dir``,
        keeping the folders. Options of ``download`` plus ``skip``
        (``"none"``, ``"size"``, ``"md5"``), ``include``/``exclude`` (glob
        lists), ``dry_run``, ``fail_fast``, ``max_files``, ``results``,
        ``results_file`` (as ``upload_dir``). Answers one dict:
        ``code`` 200 only if every file succeeded, ``downloaded``,
        ``skipped``, ``failed``, ``bytes`` and per-file ``results`` (each
        with a ``status``: ``"downloaded"``, ``"skipped"``, ``"failed"`` or,
        in a dry run, ``"would_download"``; the words of ``upload_dir``)."""
        return self._long_call("wantu_download_dir", lambda: [
            _text(namespace, "namespace", False), _text(remote_dir, "remote_dir"),
            _text(os.fspath(local_dir), "local_dir", False)], progress, cancel, options)

    # -- management (manage_endpoint) -------------------------------------
    # `namespace` is the space; `dir` starts with "/" (the root is "/").
    # Arguments are converted by name (see _MANAGE_ARGS), in the C order.

    def _manage(self, fn, **args):
        return self._guard(lambda: self._call(fn, *[_MANAGE_ARGS[k](v, k) for k, v in args.items()]))

    def file_exists(self, namespace, dir, name):
        """``{'code': 200, 'exist': True|False}``."""
        return self._manage("wantu_file_exists", namespace=namespace, dir=dir, name=name)

    def file_get(self, namespace, dir, name):
        """The file's metadata (``size``, ``md5``, ``e_tag``, ``mime_type``,
        ``meta``, ...); 404 ``FileNotExist`` when it is missing."""
        return self._manage("wantu_file_get", namespace=namespace, dir=dir, name=name)

    def file_delete(self, namespace, dir, name):
        return self._manage("wantu_file_delete", namespace=namespace, dir=dir, name=name)

    def file_rename(self, namespace, dir, name, new_dir, new_name):
        """Moves ``dir/name`` to ``new_dir/new_name`` (``new_dir`` None keeps
        the folder); answers the file at its new place."""
        return self._manage("wantu_file_rename", namespace=namespace, dir=dir, name=name,
                            new_dir=new_dir, new_name=new_name)

    def file_list(self, namespace, dir, page=1, page_size=100):
        """One page of the files in ``dir``: ``result``, ``total_count``,
        ``total_page``, ``current_page``, ``page_size``."""
        return self._manage("wantu_file_list", namespace=namespace, dir=dir, page=page,
                            page_size=page_size)

    def file_list_all(self, namespace, dir, max_items=10000):
        """Every file in ``dir`` (all pages), at most ``max_items``;
        ``truncated`` says whether more exist."""
        return self._manage("wantu_file_list_all", namespace=namespace, dir=dir, max_items=max_items)

    def dir_create(self, namespace, dir):
        """Creates ``dir`` and its parents; 409 ``NameDuplicated`` if it exists."""
        return self._manage("wantu_dir_create", namespace=namespace, dir=dir)

    def dir_exists(self, namespace, dir):
        return self._manage("wantu_dir_exists", namespace=namespace, dir=dir)

    def dir_delete(self, namespace, dir):
        """Deletes an empty folder; 409 ``DirNotEmpty`` otherwise."""
        return self._manage("wantu_dir_delete", namespace=namespace, dir=dir)

    def dir_list(self, namespace, dir, page=1, page_size=100):
        return self._manage("wantu_dir_list", namespace=namespace, dir=dir, page=page,
                            page_size=page_size)

    def dir_list_all(self, namespace, dir, max_items=10000):
        return self._manage("wantu_dir_list_all", namespace=namespace, dir=dir, max_items=max_items)

    def pts_add(self, namespace, dir, name, fops, notify_url=None, force=False):
        """Adds a persistent processing task (wantu-server answers 501)."""
        return self._manage("wantu_pts_add", namespace=namespace, dir=dir, name=name, fops=fops,
                            notify_url=notify_url, force=force)

    def pts_get(self, persistent_id):
        return self._manage("wantu_pts_get", persistent_id=persistent_id)

    def media_encode(self, namespace, input_dir, input_name, output_dir, output_name,
                     encode_template, **options):
        """Transcodes a stored file. Options: ``use_preset``, ``force``,
        ``watermark``, ``watermark_template``, ``notify_url``, ``seek``,
        ``duration`` (wantu-server answers 501)."""
        return self._manage("wantu_media_encode", namespace=namespace, input_dir=input_dir,
                            input_name=input_name, output_dir=output_dir, output_name=output_name,
                            encode_template=encode_template, options=options or None)

    def media_encode_result(self, task_id):
        return self._manage("wantu_media_encode_result", task_id=task_id)

    def snapshot(self, namespace, input_dir, input_name, output_dir, output_name, time_ms,
                 notify_url=None):
        """A still image of a video at ``time_ms`` (wantu-server answers 501)."""
        return self._manage("wantu_snapshot", namespace=namespace, input_dir=input_dir,
                            input_name=input_name, output_dir=output_dir, output_name=output_name,
                            time_ms=time_ms, notify_url=notify_url)

    def snapshot_result(self, task_id):
        return self._manage("wantu_snapshot_result", task_id=task_id)

    def scan_porn(self, namespace=None, files=None, urls=None):
        """Scans stored ``files`` (``'/dir/name'`` strings or dicts) in
        ``namespace``, or ``urls``; give one of the two."""
        return self._manage("wantu_scan_porn", scan_namespace=namespace, files=files, urls=urls)

    def scan_advertising(self, namespace=None, files=None, urls=None):
        return self._manage("wantu_scan_advertising", scan_namespace=namespace, files=files, urls=urls)

    def scan_feedback(self, feedback):
        """Reports wrong scan results: a dict or a list of dicts."""
        return self._manage("wantu_scan_feedback", feedback=feedback)


def _check_progress_cancel(progress, cancel):
    if cancel is not None and not isinstance(cancel, CancelToken):
        raise TypeError("`cancel` must be a CancelToken, not %s" % type(cancel).__name__)
    if progress is not None and not callable(progress):
        raise TypeError("`progress` must be callable")


def _memory_args(namespace, dir, name, offset, length, callbacks, cancel, options, data, size):
    """The C arguments of wantu_download_memory (its blocking and its
    non-blocking form); `data` and `size` receive the buffer."""
    if offset is not None and (not isinstance(offset, int) or offset < 0):
        raise _BadValue("`offset` must be an int of 0 or more, not %r" % (offset,))
    if length is not None and (not isinstance(length, int) or length < 0):
        raise _BadValue("`length` must be an int of 0 or more (or None: to the end), "
                        "not %r" % (length,))
    return [_text(namespace, "namespace", False), _text(dir, "dir"),
            _text(name, "name", False), _int(offset or 0, "offset", 0, 2 ** 64 - 1),
            _TO_END if length is None else _int(length, "length", 0, 2 ** 64 - 2),
            _json_arg(options or None, "options"), callbacks.progress, None,
            cancel._handle if cancel is not None else None,
            ctypes.byref(data), ctypes.byref(size)]


def _take_buffer(lib, result, data, size):
    """The bytes wantu_download_memory answered (the library's buffer is
    freed), or None when it answered an error."""
    if data.value:
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            lib.wantu_bytes_free(data.value)
            data.value = None
    return b"" if result.get("code") == 200 else None


class Want(_Calls):
    """The seed's client. Safe to share between threads; ctypes releases the
    GIL during each call, so threads upload in parallel."""

    # -- lifetime --------------------------------------------------------

    def close(self):
        """Releases the client now (also done when it is garbage collected).
        No call may be running on it; later calls answer an error dict."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.wantu_client_free(handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # interpreter shutdown: never raise from a finaliser
            pass

    def _guard(self, build, callbacks=None):
        """Prepares the call with `build` and runs it on this thread."""
        call = self._prepare(build)
        result = call if isinstance(call, dict) else self._run_blocking(call)
        return callbacks.finish(result) if callbacks is not None else result

    # -- bytes to the caller (docs/streams.md) ----------------------------

    def _download_memory(self, namespace, dir, name, offset, length, progress, cancel, options):
        """(result dict, bytes or None) of one wantu_download_memory call."""
        _check_progress_cancel(progress, cancel)
        callbacks = _Callbacks(progress)
        data, size = ctypes.c_void_p(), _SIZE()
        got = []

        def build():
            args = _memory_args(namespace, dir, name, offset, length, callbacks, cancel, options,
                                data, size)
            result = self._run_blocking(self._call("wantu_download_memory", *args))
            got.append(_take_buffer(self._lib, result, data, size))
            return result

        result = callbacks.finish(self._guard(build))
        return result, (got[0] if got else None)

    def download_content(self, namespace, dir, name, offset=None, length=None, progress=None,
                         cancel=None, **options):
        """The bytes of the stored file ``dir``/``name``, or of ``length``
        bytes from ``offset`` (``length=None``: to the end). The whole file
        is checked against its stored MD5 before it is answered; a range
        cannot be. Raises ``WantError`` on failure, e.g. a range outside
        the file or a file larger than ``max_bytes`` (default 64 MiB; pass
        ``max_bytes=...`` for more, or use ``open`` to read parts of a large
        file). Options: ``max_bytes``, ``concurrency``, ``part_size``,
        ``max_attempts``, ``retry_budget_ms``, ``backoff_base_ms``,
        ``backoff_max_ms``."""
        result, data = self._download_memory(namespace, dir, name, offset, length, progress,
                                             cancel, options)
        if data is None:
            raise WantError(result)
        return data

    def open(self, namespace, dir, name, buffer_size=io.DEFAULT_BUFFER_SIZE,
             read_ahead=1 << 20):
        """The stored file ``dir``/``name`` as a read-only, seekable binary
        file object (an ``io.BufferedReader``; use it as a context manager).
        Reads are range requests of at least ``read_ahead`` bytes, so
        ``zipfile.ZipFile(w.open(...))`` or ``tarfile.open(fileobj=...)``
        fetch only what they read. Ranges are not MD5-checked; a file that
        changes on the server while open raises ``WantError``. Raises
        ``WantError`` when the file does not exist."""
        raw = RemoteFile(self, namespace, dir, name, read_ahead)
        return io.BufferedReader(raw, buffer_size)


# Calls without a non-blocking C form: they compute locally, at once.
_LOCAL_CALLS = ("wantu_upload_token",)

# Loop time AsyncWant spends starting calls before it lets other work run.
_START_SLICE = 0.002


def _cancelled_before_start():
    return {"code": 0, "error": "Cancelled", "request_id": "",
            "message": "the call was cancelled: its AsyncWant client was closed before it started"}


class _Pending(object):
    """An operation started and not yet delivered."""

    __slots__ = ("future", "callbacks", "op", "start", "on_done")

    def __init__(self, future, callbacks, on_done=None):
        self.future = future
        self.callbacks = callbacks
        self.op = None  # until started
        self.start = None  # (C function, call, progress flag) until started
        # Run with the answer when the operation completes, awaited or not:
        # it keeps what the library writes into alive until then, and
        # frees what it hands over.
        self.on_done = on_done


class AsyncWant(_Calls):
    """``Want`` for asyncio: the same constructor, methods and answers, each
    method a coroutine. Calls run on libwantu's own threads (at most a
    handful per client, however many calls are in flight); their answers
    come through one completion queue per client, whose descriptor the
    event loop watches (``loop.add_reader``). Where the loop cannot watch
    it (Windows), one waiter thread per client hands them to the loop.

    A client serves one event loop at a time. Cancelling the task awaiting
    a call cancels the operation (``wantu_op_cancel``) and raises
    ``CancelledError`` at once; the operation's completion is consumed in
    the background. ``await aw.close()`` (or ``async with``) cancels what
    is still running, waits for it, and releases the client.
    """

    _C_PROGRESS = False
    # False forces the waiter thread even where the loop could watch the
    # descriptor (for tests of the Windows path).
    _use_reader = True

    def _open(self, ak, sk, type, upload_endpoint, manage_endpoint, options=None):
        self._queue = None
        self._pending = {}
        self._starts = collections.deque()  # keys of calls waiting to start
        self._starting = False  # whether `_start_some` is scheduled
        self._keys = itertools.count(1)
        self._loop = None
        self._reader = False
        self._waiter = None
        self._closing = False
        self._idle = None
        _Calls._open(self, ak, sk, type, upload_endpoint, manage_endpoint, options)
        lib = self._lib
        if not hasattr(lib, "wantu_queue_new"):
            self._free()
            raise OSError("the loaded libwantu (%s) has no non-blocking calls; install a newer one"
                          % version())
        self._queue = lib.wantu_queue_new()
        if not self._queue:
            ptr = lib.wantu_last_error()
            err = _take(lib, ptr) if ptr else {"message": "unknown failure"}
            self._free()
            raise OSError("cannot make a completion queue: %s" % err.get("message"))
        self._fd = lib.wantu_queue_fd(self._queue)
        self._event = _Event()

    # -- lifetime --------------------------------------------------------

    async def close(self):
        """Cancels the calls still running (they answer the ``Cancelled``
        error dict), waits for their completions, then releases the client
        and its queue. Later calls answer an error dict."""
        self._closing = True
        if self._pending:
            if self._idle is None:
                self._idle = asyncio.get_running_loop().create_future()
            idle = self._idle
            for p in list(self._pending.values()):
                if p.op is not None:  # the others answer when their turn comes
                    self._lib.wantu_op_cancel(p.op)
            await asyncio.shield(idle)
        self._free()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    def __del__(self):
        try:
            self._free()
        except Exception:  # interpreter shutdown: never raise from a finaliser
            pass

    def _free(self):
        """Frees the client (its running operations complete as cancelled)
        and the queue; stops the waiter thread."""
        self._closing = True
        self._detach()
        waiter, self._waiter = getattr(self, "_waiter", None), None
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            self._lib.wantu_client_free(handle)
        queue, self._queue = getattr(self, "_queue", None), None
        if queue:
            self._lib.wantu_queue_free(queue)  # also wakes the waiter thread
        if waiter is not None and waiter is not threading.current_thread():
            waiter.join()

    # -- running a call --------------------------------------------------

    async def _guard(self, build, callbacks=None, on_done=None):
        """Prepares the call with `build`, starts its non-blocking form and
        waits for the answer; `on_done(answer)` runs when it completes."""
        call = self._prepare(build)
        if isinstance(call, dict):
            return call
        lib = self._lib
        if self._closing or not self._handle:
            return _local_error("this AsyncWant client is closed; create a new one")
        start = getattr(lib, call.name + "_async", None)
        if start is None:
            if call.name in _LOCAL_CALLS:
                return self._run_blocking(call)
            return _missing(call.name + "_async")
        loop = self._attach()
        key = next(self._keys)
        pending = self._pending[key] = _Pending(loop.create_future(), callbacks, on_done)
        pending.start = (start, call, 1 if callbacks is not None and callbacks.events else 0)
        self._starts.append(key)
        if not self._starting:
            self._starting = True
            loop.call_soon(self._start_some)
        try:
            return await pending.future
        except asyncio.CancelledError:
            if key in self._pending:
                if pending.op is not None:
                    lib.wantu_op_cancel(pending.op)
                else:  # not started yet: it never will be
                    del self._pending[key]
                    self._settled()
            raise

    # -- bytes to the caller (docs/streams.md) ----------------------------

    async def _download_memory(self, namespace, dir, name, offset, length, progress, cancel,
                               options):
        """(result dict, bytes or None) of one wantu_download_memory_async
        call."""
        _check_progress_cancel(progress, cancel)
        callbacks = self._callbacks(progress)
        data, size = ctypes.c_void_p(), _SIZE()
        got = []

        def build():
            args = _memory_args(namespace, dir, name, offset, length, callbacks, cancel, options,
                                data, size)
            return self._call("wantu_download_memory", *args)

        def on_done(answer):
            got.append(_take_buffer(self._lib, answer, data, size))

        result = await self._guard(build, callbacks, on_done)
        return result, (got[0] if got else None)

    async def download_content(self, namespace, dir, name, offset=None, length=None,
                               progress=None, cancel=None, **options):
        """As ``Want.download_content``, without holding the loop."""
        result, data = await self._download_memory(namespace, dir, name, offset, length,
                                                   progress, cancel, options)
        if data is None:
            raise WantError(result)
        return data

    async def open(self, namespace, dir, name, buffer_size=io.DEFAULT_BUFFER_SIZE,
                   read_ahead=1 << 20):
        """As ``Want.open``, for asyncio: an ``AsyncRemoteFile`` whose
        ``read`` is a coroutine (``async with await aw.open(...) as f``).
        Each fetch is at least ``max(buffer_size, read_ahead)`` bytes."""
        return await AsyncRemoteFile.open(self, namespace, dir, name,
                                          max(buffer_size, read_ahead))

    def _start_some(self):
        """Starts the calls waiting to start, for at most `_START_SLICE`
        seconds of the loop's time, then lets the loop run (other tasks,
        timers, completions) before starting more: each start costs the
        library tens of microseconds, and a burst of thousands of calls
        made at once must not stall the loop."""
        lib, starts, loop = self._lib, self._starts, self._loop
        if loop is None or asyncio.get_running_loop() is not loop:
            return  # scheduled on a loop this client has left
        until = time.monotonic() + _START_SLICE
        while starts:
            key = starts.popleft()
            pending = self._pending.get(key)
            if pending is None:  # cancelled before it started
                continue
            if self._closing or not self._handle:
                del self._pending[key]
                pending.future.set_result(_cancelled_before_start())
                self._settled()
                continue
            start, call, progress = pending.start
            pending.start = None
            how = _Async(self._queue, None, key, progress)
            op = start(self._handle, *(call.args + (ctypes.byref(how),)))
            if not op:  # `how` refused: nothing will be delivered
                del self._pending[key]
                ptr = lib.wantu_last_error()
                pending.future.set_result(
                    _take(lib, ptr) if ptr else _local_error("the call could not start"))
                self._settled()
                continue
            pending.op = op
            if time.monotonic() >= until:
                break
        if starts:
            loop.call_soon(self._start_some)
        else:
            self._starting = False

    def _attach(self):
        """Binds the client to the running loop while calls are pending."""
        loop = asyncio.get_running_loop()
        if self._loop is loop:
            return loop
        if self._loop is not None:
            raise RuntimeError("this AsyncWant has calls pending on another event loop; "
                               "use one client per loop")
        self._loop = loop
        if self._fd >= 0 and self._use_reader:
            try:
                loop.add_reader(self._fd, self._drain)
                self._reader = True
                return loop
            except NotImplementedError:  # e.g. the proactor loop
                pass
        if self._waiter is None:
            self._waiter = threading.Thread(
                target=self._wait, args=(self._lib, self._queue, weakref.ref(self)),
                name="wantu-queue", daemon=True)
            self._waiter.start()
        return loop

    def _detach(self):
        loop, self._loop = getattr(self, "_loop", None), None
        if loop is not None and self._reader:
            self._reader = False
            if not loop.is_closed():
                loop.remove_reader(self._fd)

    def _settled(self):
        """After an operation left `_pending`: unbind the loop when idle."""
        if self._pending:
            return
        self._starts.clear()  # only keys of calls cancelled before they started
        self._starting = False
        self._detach()
        idle, self._idle = self._idle, None
        if idle is not None and not idle.done():
            idle.set_result(None)

    def _drain(self):
        """The descriptor is readable: take every waiting event."""
        ev = self._event
        while self._queue and self._lib.wantu_queue_take(self._queue, ctypes.byref(ev)) == 1:
            self._dispatch(ev.kind, ev.op, ev.user_data, ev.result, ev.sent, ev.total)

    @staticmethod
    def _wait(lib, queue, client):
        """The waiter thread (no descriptor): hands each event to the loop.
        It holds the client weakly, so that an unclosed client can still be
        collected (freeing the queue ends the wait with -1)."""
        ev = _Event()
        while True:
            got = lib.wantu_queue_wait(queue, 200, ctypes.byref(ev))
            if got < 0:
                return  # the queue was freed
            aw = client()
            if got == 0:
                if aw is None or aw._closing and not aw._pending:
                    return
                continue
            event = (ev.kind, ev.op, ev.user_data, ev.result, ev.sent, ev.total)
            try:
                aw._loop.call_soon_threadsafe(aw._dispatch, *event)
            except (AttributeError, RuntimeError):  # no client or loop, or it is closed
                if ev.kind == _EVENT_DONE:
                    lib.wantu_string_free(ev.result)
                    lib.wantu_op_free(ev.op)
            del aw

    def _dispatch(self, kind, op, key, result, sent, total):
        lib = self._lib
        if kind == _EVENT_PROGRESS:
            pending = self._pending.get(key)
            if pending is not None and pending.callbacks is not None:
                if pending.callbacks.on_progress(sent, total):
                    lib.wantu_op_cancel(pending.op)
            return
        if kind != _EVENT_DONE:
            return
        answer = _take(lib, result)
        lib.wantu_op_free(op)
        pending = self._pending.pop(key, None)
        if pending is not None:
            if pending.on_done is not None:
                pending.on_done(answer)
            future = pending.future
            if not future.done():
                error = pending.callbacks.error if pending.callbacks is not None else None
                if error is not None:
                    future.set_exception(error)
                else:
                    future.set_result(answer)
            self._settled()


def _coroutine(method):
    """`method` of `_Calls` as a coroutine of AsyncWant."""

    @functools.wraps(method)
    async def call(self, *args, **kwargs):
        return await method(self, *args, **kwargs)

    return call


for _name, _method in list(vars(_Calls).items()):
    if not _name.startswith("_") and callable(_method):
        setattr(AsyncWant, _name, _coroutine(_method))
del _name, _method


def _missing(name):
    return {"code": 0, "error": "Internal", "request_id": "",
            "message": "the loaded libwantu (%s) has no %s; install a newer one" % (version(), name)}
def _seek_position(pos, size, offset, whence):
    """Where a seek of a remote file lands (both file objects)."""
    base = {io.SEEK_SET: 0, io.SEEK_CUR: pos, io.SEEK_END: size}.get(whence)
    if base is None:
        raise ValueError("invalid whence %r" % (whence,))
    if base + offset < 0:
        raise ValueError("negative seek position %d" % (base + offset))
    return base + offset


def _fetch_length(f, want):
    """Bytes one range read of `f` fetches for a read of `want`: at least
    the read-ahead, at most 32 MiB (a huge read() is answered in pieces),
    never past the end."""
    return min(max(want, f._read_ahead), 32 << 20, f.size - f._pos)


def _check_range(f, result, data):
    """Raises WantError unless a range read of `f` answered bytes of the
    file as it was when opened."""
    if data is None:
        raise WantError(result)
    if result.get("md5") != f.md5 or int(result.get("size", -1)) != f.size:
        raise WantError(dict(result, code=0, error="FileChanged",
                             message="%s changed on the server since it was opened; "
                                     "open it again" % f.name))


class RemoteFile(io.RawIOBase):
    """A stored file read by range requests (``Want.open`` wraps it in an
    ``io.BufferedReader``). ``bytes_fetched`` and ``requests`` count what
    went over the network; ``size`` and ``md5`` are the stored file's."""

    def __init__(self, want, namespace, dir, name, read_ahead=1 << 20):
        super(RemoteFile, self).__init__()
        if not isinstance(read_ahead, int) or not 1 <= read_ahead <= 64 << 20:
            raise ValueError("`read_ahead` must be from 1 byte to 64 MiB, not %r" % (read_ahead,))
        info = want.file_get(namespace, dir, name)
        if info.get("code") != 200:
            raise WantError(info)
        self.name = "%s:%s/%s" % (namespace, (dir or "/").rstrip("/"), name)
        self.size = int(info["size"])
        self.md5 = info.get("md5")
        self.bytes_fetched = 0
        self.requests = 0
        self._want, self._where = want, (namespace, dir, name)
        self._read_ahead = read_ahead
        self._pos = 0
        self._cache_at, self._cache = 0, b""

    def readable(self):
        return True

    def seekable(self):
        return True

    def _check_closed(self):
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def tell(self):
        self._check_closed()
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        self._check_closed()
        self._pos = _seek_position(self._pos, self.size, offset, whence)
        return self._pos

    def readinto(self, b):
        self._check_closed()
        view = memoryview(b).cast("B")
        want = min(len(view), max(self.size - self._pos, 0))
        if want == 0:
            return 0
        at = self._pos - self._cache_at
        if not 0 <= at < len(self._cache):
            self._fill(want)
            at = 0
        n = min(want, len(self._cache) - at)
        view[:n] = self._cache[at:at + n]
        self._pos += n
        return n

    def _fill(self, want):
        """Fetches at least ``want`` bytes (``read_ahead`` or more) from the
        current position into the cache."""
        length = _fetch_length(self, want)
        ns, dir, name = self._where
        result, data = self._want._download_memory(
            ns, dir, name, self._pos, length, None, None,
            {"max_bytes": max(length, 1)})
        _check_range(self, result, data)
        self.requests += 1
        self.bytes_fetched += len(data)
        self._cache_at, self._cache = self._pos, data


class AsyncRemoteFile(object):
    """A stored file read by range requests without holding the event loop
    (``AsyncWant.open``): ``await f.read(n)``, ``f.seek``, ``f.tell``,
    ``await f.close()`` or ``async with``. Like ``RemoteFile``, a read
    fetches at least the read-ahead size; ranges are not MD5-checked, and a
    file that changes on the server while open raises ``WantError``."""

    def __init__(self, want, where, info, read_ahead):
        self.name = "%s:%s/%s" % (where[0], (where[1] or "/").rstrip("/"), where[2])
        self.size = int(info["size"])
        self.md5 = info.get("md5")
        self.bytes_fetched = 0
        self.requests = 0
        self.closed = False
        self._want, self._where, self._read_ahead = want, where, read_ahead
        self._pos = 0
        self._cache_at, self._cache = 0, b""

    @classmethod
    async def open(cls, want, namespace, dir, name, read_ahead):
        if not isinstance(read_ahead, int) or not 1 <= read_ahead <= 64 << 20:
            raise ValueError("`read_ahead` must be from 1 byte to 64 MiB, not %r" % (read_ahead,))
        info = await want.file_get(namespace, dir, name)
        if info.get("code") != 200:
            raise WantError(info)
        return cls(want, (namespace, dir, name), info, read_ahead)

    def _check_closed(self):
        if self.closed:
            raise ValueError("I/O operation on closed file")

    def tell(self):
        self._check_closed()
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        self._check_closed()
        self._pos = _seek_position(self._pos, self.size, offset, whence)
        return self._pos

    async def read(self, size=-1):
        """Up to ``size`` bytes from the position (all the rest with -1);
        ``b""`` at the end."""
        self._check_closed()
        left = max(self.size - self._pos, 0)
        want = left if size is None or size < 0 else min(size, left)
        parts = []
        while want > 0:
            at = self._pos - self._cache_at
            if not 0 <= at < len(self._cache):
                await self._fill(want)
                at = 0
            n = min(want, len(self._cache) - at)
            parts.append(self._cache[at:at + n])
            self._pos += n
            want -= n
        return b"".join(parts)

    async def _fill(self, want):
        length = _fetch_length(self, want)
        ns, dir, name = self._where
        result, data = await self._want._download_memory(
            ns, dir, name, self._pos, length, None, None, {"max_bytes": max(length, 1)})
        _check_range(self, result, data)
        self.requests += 1
        self.bytes_fetched += len(data)
        self._cache_at, self._cache = self._pos, data

    async def close(self):
        self.closed = True
        self._cache = b""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()


def _required(value, arg):
    return _text(value, arg, optional=False)


# How each management argument becomes a C value.
_MANAGE_ARGS = {
    "namespace": _required, "dir": _required, "name": _required, "new_name": _required,
    "new_dir": _text, "notify_url": _text, "fops": _required, "persistent_id": _required,
    "task_id": _required, "input_dir": _required, "input_name": _required,
    "output_dir": _required, "output_name": _required, "encode_template": _required,
    "options": _json_arg, "page": _int, "page_size": _int, "max_items": _int, "time_ms": _int,
    "force": lambda v, arg: 1 if v else 0,
    "scan_namespace": lambda v, arg: _text(v, "namespace"),
    "files": _json_list, "urls": _json_list,
    "feedback": lambda v, arg: _json_list(v, arg, optional=False),
}
