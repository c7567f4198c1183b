"""Content-addressed file storage for uploads (co-branded assets, logos): each file is kept
under its SHA-256, on local disk by default or in any object store fsspec reaches (``s3://``,
``gcs://``, ``az://`` ... with that store's package installed). A file is written under a
temporary name and moved into place, so a reader never sees half of one."""

from __future__ import annotations

import re
import secrets
import shutil
from typing import IO, Any

import fsspec

from crosspromo.errors import ConfigError, NotFoundError

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 64 * 1024


class BlobStore:
    def __init__(self, url: str) -> None:
        try:
            self.fs, self.root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as exc:
            raise ConfigError(f"cannot open the asset store {url!r}: {exc}") from exc
        self.root = self.root.rstrip("/")
        self.fs.makedirs(self.root, exist_ok=True)

    def _path(self, digest: str) -> str:
        if not _DIGEST.match(digest):
            raise NotFoundError("no such file")
        return f"{self.root}/{digest[:2]}/{digest}"

    def put(self, digest: str, source: IO[bytes]) -> None:
        """Keep what ``source`` holds (from its start) under ``digest``; kept already: nothing."""
        path = self._path(digest)
        if self.fs.exists(path):
            return
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        part = f"{path}.{secrets.token_hex(8)}.part"
        source.seek(0)
        try:
            with self.fs.open(part, "wb") as out:
                shutil.copyfileobj(source, out, CHUNK)
            self.fs.mv(part, path)
        finally:
            if self.fs.exists(part):
                self.fs.rm(part)

    def open(self, digest: str) -> Any:
        """The file kept under ``digest``, open for reading (binary)."""
        path = self._path(digest)
        if not self.fs.exists(path):
            raise NotFoundError("the file is missing from the asset store")
        return self.fs.open(path, "rb")

    def chunks(self, digest: str) -> Any:
        """The file in pieces, for a streamed answer."""
        with self.open(digest) as source:
            while piece := source.read(CHUNK):
                yield piece
