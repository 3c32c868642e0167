# Type information for want.py (installed as want/__init__.pyi next to the
# PEP 561 marker want/py.typed). Every call answers a dict with an integer
# "code" (200 on success), a "message" and a "request_id"; see want.py.
# `make test` checks this stub against the module with mypy's stubtest.

import ctypes
import os
import io
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

_Result = Dict[str, Any]
_Text = Union[str, bytes, bytearray]
_JsonObject = Union[Mapping[str, Any], _Text]
_JsonList = Union[Sequence[Any], Mapping[str, Any], _Text]
_Content = Union[bytes, bytearray, memoryview, str, IO[bytes]]
_Parts = Union[_Text, Sequence[Mapping[str, Any]]]
_Path = Union[str, "os.PathLike[str]"]
_Progress = Callable[[int, Optional[int]], Any]

__all__ = ["Want", "AsyncWant", "WantError", "CancelToken", "RemoteFile", "AsyncRemoteFile",
           "load_library", "resource_id", "version"]

class WantError(ValueError):
    result: _Result
    def __init__(self, result: _Result) -> None: ...

def load_library() -> ctypes.CDLL: ...
def version() -> str: ...
def resource_id(namespace: _Text, dir: _Text, name: Optional[_Text] = None) -> _Result: ...

class CancelToken(object):
    def __init__(self) -> None: ...
    def cancel(self) -> None: ...
    @property
    def cancelled(self) -> bool: ...
    def close(self) -> None: ...
    def __del__(self) -> None: ...

class Want(object):
    def __init__(
        self,
        ak: _Text,
        sk: _Text,
        type: Optional[_Text] = None,
        upload_endpoint: Optional[_Text] = None,
        manage_endpoint: Optional[_Text] = None,
    ) -> None: ...
    @classmethod
    def with_options(
        cls,
        ak: _Text,
        sk: _Text,
        type: Optional[_Text] = None,
        upload_endpoint: Optional[_Text] = None,
        manage_endpoint: Optional[_Text] = None,
        **options: Any,
    ) -> "Want": ...
    def close(self) -> None: ...
    def __enter__(self) -> "Want": ...
    def __exit__(self, *exc: object) -> None: ...
    def __del__(self) -> None: ...

    # the seed's calls
    def upload_token(self, policy: _JsonObject) -> _Result: ...
    def upload_file(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        file_path: _Path,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    def upload_content(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        content: _Content,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    def multipart_init(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        content: _Content,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    def multipart_upload(
        self,
        policy: _JsonObject,
        id: _Text,
        upload_id: _Text,
        part_number: int,
        content: _Content,
        md5: Optional[_Text] = None,
    ) -> _Result: ...
    def multipart_complete(
        self, policy: _JsonObject, id: _Text, upload_id: _Text, parts: _Parts, md5: Optional[_Text] = None
    ) -> _Result: ...
    def multipart_cancel(self, policy: _JsonObject, id: _Text, upload_id: _Text) -> _Result: ...

    # one call, any size
    def upload(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        source: Union[_Path, bytes, bytearray, memoryview, IO[bytes]],
        meta: Optional[_JsonObject] = None,
        var: Optional[_JsonObject] = None,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # many files in one call (docs/folders.md)
    def upload_dir(
        self,
        policy: _JsonObject,
        local_dir: _Path,
        remote_dir: Optional[_Text] = "/",
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...
    def batch(
        self,
        policy: _JsonObject,
        jobs: Sequence[Mapping[str, Any]],
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # downloads (docs/downloads.md)
    def download(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        local_path: _Path,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...
    def download_dir(
        self,
        namespace: _Text,
        remote_dir: Optional[_Text],
        local_dir: _Path,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # bytes to the caller (docs/streams.md)
    def download_content(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        offset: Optional[int] = None,
        length: Optional[int] = None,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> bytes: ...
    def open(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        buffer_size: int = ...,
        read_ahead: int = 1048576,
    ) -> io.BufferedReader: ...

    # management
    def file_exists(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    def file_get(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    def file_delete(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    def file_rename(
        self, namespace: _Text, dir: _Text, name: _Text, new_dir: Optional[_Text], new_name: _Text
    ) -> _Result: ...
    def file_list(self, namespace: _Text, dir: _Text, page: int = 1, page_size: int = 100) -> _Result: ...
    def file_list_all(self, namespace: _Text, dir: _Text, max_items: int = 10000) -> _Result: ...
    def dir_create(self, namespace: _Text, dir: _Text) -> _Result: ...
    def dir_exists(self, namespace: _Text, dir: _Text) -> _Result: ...
    def dir_delete(self, namespace: _Text, dir: _Text) -> _Result: ...
    def dir_list(self, namespace: _Text, dir: _Text, page: int = 1, page_size: int = 100) -> _Result: ...
    def dir_list_all(self, namespace: _Text, dir: _Text, max_items: int = 10000) -> _Result: ...
    def pts_add(
        self,
        namespace: _Text,
        dir: _Text,
        name: _Text,
        fops: _Text,
        notify_url: Optional[_Text] = None,
        force: bool = False,
    ) -> _Result: ...
    def pts_get(self, persistent_id: _Text) -> _Result: ...
    def media_encode(
        self,
        namespace: _Text,
        input_dir: _Text,
        input_name: _Text,
        output_dir: _Text,
        output_name: _Text,
        encode_template: _Text,
        **options: Any,
    ) -> _Result: ...
    def media_encode_result(self, task_id: _Text) -> _Result: ...
    def snapshot(
        self,
        namespace: _Text,
        input_dir: _Text,
        input_name: _Text,
        output_dir: _Text,
        output_name: _Text,
        time_ms: int,
        notify_url: Optional[_Text] = None,
    ) -> _Result: ...
    def snapshot_result(self, task_id: _Text) -> _Result: ...
    def scan_porn(
        self, namespace: Optional[_Text] = None, files: Optional[_JsonList] = None, urls: Optional[_JsonList] = None
    ) -> _Result: ...
    def scan_advertising(
        self, namespace: Optional[_Text] = None, files: Optional[_JsonList] = None, urls: Optional[_JsonList] = None
    ) -> _Result: ...
    def scan_feedback(self, feedback: _JsonList) -> _Result: ...

# Want's calls as coroutines, with the same arguments and answers.
class AsyncWant(object):
    def __init__(
        self,
        ak: _Text,
        sk: _Text,
        type: Optional[_Text] = None,
        upload_endpoint: Optional[_Text] = None,
        manage_endpoint: Optional[_Text] = None,
    ) -> None: ...
    @classmethod
    def with_options(
        cls,
        ak: _Text,
        sk: _Text,
        type: Optional[_Text] = None,
        upload_endpoint: Optional[_Text] = None,
        manage_endpoint: Optional[_Text] = None,
        **options: Any,
    ) -> "AsyncWant": ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> "AsyncWant": ...
    async def __aexit__(self, *exc: object) -> None: ...
    def __del__(self) -> None: ...

    # the seed's calls
    async def upload_token(self, policy: _JsonObject) -> _Result: ...
    async def upload_file(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        file_path: _Path,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    async def upload_content(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        content: _Content,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    async def multipart_init(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        content: _Content,
        md5: Optional[_Text] = None,
        meta: Optional[_JsonObject] = ...,
        var: Optional[_JsonObject] = ...,
    ) -> _Result: ...
    async def multipart_upload(
        self,
        policy: _JsonObject,
        id: _Text,
        upload_id: _Text,
        part_number: int,
        content: _Content,
        md5: Optional[_Text] = None,
    ) -> _Result: ...
    async def multipart_complete(
        self, policy: _JsonObject, id: _Text, upload_id: _Text, parts: _Parts, md5: Optional[_Text] = None
    ) -> _Result: ...
    async def multipart_cancel(self, policy: _JsonObject, id: _Text, upload_id: _Text) -> _Result: ...

    # one call, any size
    async def upload(
        self,
        policy: _JsonObject,
        dir: Optional[_Text],
        name: Optional[_Text],
        source: Union[_Path, bytes, bytearray, memoryview, IO[bytes]],
        meta: Optional[_JsonObject] = None,
        var: Optional[_JsonObject] = None,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # many files in one call (docs/folders.md)
    async def upload_dir(
        self,
        policy: _JsonObject,
        local_dir: _Path,
        remote_dir: Optional[_Text] = "/",
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...
    async def batch(
        self,
        policy: _JsonObject,
        jobs: Sequence[Mapping[str, Any]],
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # downloads (docs/downloads.md)
    async def download(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        local_path: _Path,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...
    async def download_dir(
        self,
        namespace: _Text,
        remote_dir: Optional[_Text],
        local_dir: _Path,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> _Result: ...

    # management
    async def file_exists(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    async def file_get(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    async def file_delete(self, namespace: _Text, dir: _Text, name: _Text) -> _Result: ...
    async def file_rename(
        self, namespace: _Text, dir: _Text, name: _Text, new_dir: Optional[_Text], new_name: _Text
    ) -> _Result: ...
    async def file_list(self, namespace: _Text, dir: _Text, page: int = 1, page_size: int = 100) -> _Result: ...
    async def file_list_all(self, namespace: _Text, dir: _Text, max_items: int = 10000) -> _Result: ...
    async def dir_create(self, namespace: _Text, dir: _Text) -> _Result: ...
    async def dir_exists(self, namespace: _Text, dir: _Text) -> _Result: ...
    async def dir_delete(self, namespace: _Text, dir: _Text) -> _Result: ...
    async def dir_list(self, namespace: _Text, dir: _Text, page: int = 1, page_size: int = 100) -> _Result: ...
    async def dir_list_all(self, namespace: _Text, dir: _Text, max_items: int = 10000) -> _Result: ...
    async def pts_add(
        self,
        namespace: _Text,
        dir: _Text,
        name: _Text,
        fops: _Text,
        notify_url: Optional[_Text] = None,
        force: bool = False,
    ) -> _Result: ...
    async def pts_get(self, persistent_id: _Text) -> _Result: ...
    async def media_encode(
        self,
        namespace: _Text,
        input_dir: _Text,
        input_name: _Text,
        output_dir: _Text,
        output_name: _Text,
        encode_template: _Text,
        **options: Any,
    ) -> _Result: ...
    async def media_encode_result(self, task_id: _Text) -> _Result: ...
    async def snapshot(
        self,
        namespace: _Text,
        input_dir: _Text,
        input_name: _Text,
        output_dir: _Text,
        output_name: _Text,
        time_ms: int,
        notify_url: Optional[_Text] = None,
    ) -> _Result: ...
    async def snapshot_result(self, task_id: _Text) -> _Result: ...
    async def scan_porn(
        self, namespace: Optional[_Text] = None, files: Optional[_JsonList] = None, urls: Optional[_JsonList] = None
    ) -> _Result: ...
    async def scan_advertising(
        self, namespace: Optional[_Text] = None, files: Optional[_JsonList] = None, urls: Optional[_JsonList] = None
    ) -> _Result: ...
    async def scan_feedback(self, feedback: _JsonList) -> _Result: ...

    # bytes to the caller (docs/streams.md)
    async def download_content(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        offset: Optional[int] = None,
        length: Optional[int] = None,
        progress: Optional[_Progress] = None,
        cancel: Optional[CancelToken] = None,
        **options: Any,
    ) -> bytes: ...
    async def open(
        self,
        namespace: _Text,
        dir: Optional[_Text],
        name: _Text,
        buffer_size: int = ...,
        read_ahead: int = 1048576,
    ) -> "AsyncRemoteFile": ...

class AsyncRemoteFile(object):
    name: str
    size: int
    md5: Optional[str]
    bytes_fetched: int
    requests: int
    closed: bool
    def __init__(
        self, want: AsyncWant, where: Tuple[_Text, Optional[_Text], _Text], info: Dict[str, Any],
        read_ahead: int,
    ) -> None: ...
    @classmethod
    async def open(
        cls, want: AsyncWant, namespace: _Text, dir: Optional[_Text], name: _Text, read_ahead: int
    ) -> "AsyncRemoteFile": ...
    def tell(self) -> int: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    async def read(self, size: int = -1) -> bytes: ...
    async def close(self) -> None: ...
    async def __aenter__(self) -> "AsyncRemoteFile": ...
    async def __aexit__(self, *exc: object) -> None: ...

class RemoteFile(io.RawIOBase):
    name: str
    size: int
    md5: Optional[str]
    bytes_fetched: int
    requests: int
    def __init__(
        self, want: Want, namespace: _Text, dir: Optional[_Text], name: _Text,
        read_ahead: int = 1048576,
    ) -> None: ...
    def readable(self) -> bool: ...
    def seekable(self) -> bool: ...
    def tell(self) -> int: ...
    def seek(self, offset: int, whence: int = 0) -> int: ...
    def readinto(self, b: Any) -> int: ...
