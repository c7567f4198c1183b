"""What kind of file an upload is, told from its first bytes (the signatures the formats
define), never from its name or the type the sender declared."""

from __future__ import annotations

from enum import StrEnum

HEAD_BYTES = 512  # enough for every signature below


class MediaType(StrEnum):
    PNG = "image/png"
    JPEG = "image/jpeg"
    GIF = "image/gif"
    WEBP = "image/webp"
    PDF = "application/pdf"
    HTML = "text/html"
    MP4 = "video/mp4"
    QUICKTIME = "video/quicktime"
    WEBM = "video/webm"

    @property
    def is_image(self) -> bool:
        return self.value.startswith("image/")

    @property
    def extension(self) -> str:
        return _EXTENSIONS[self]


_EXTENSIONS = {
    MediaType.PNG: "png", MediaType.JPEG: "jpg", MediaType.GIF: "gif", MediaType.WEBP: "webp",
    MediaType.PDF: "pdf", MediaType.HTML: "html", MediaType.MP4: "mp4",
    MediaType.QUICKTIME: "mov", MediaType.WEBM: "webm",
}  # fmt: skip
ALLOWED = "PNG, JPEG, GIF or WebP images, PDF, HTML, or MP4, QuickTime or WebM video"
_HTML_STARTS = (b"<!doctype html", b"<html", b"<!--", b"<head", b"<body", b"<meta")


def sniff(head: bytes) -> MediaType | None:
    """The type ``head`` (a file's first bytes) begins as, or None when it is none we take.
    SVG is not taken: it is a script container."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType.PNG
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType.JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType.GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaType.WEBP
    if head.startswith(b"%PDF-"):
        return MediaType.PDF
    if head[4:8] == b"ftyp":  # ISO base media: the brand says which
        return MediaType.QUICKTIME if head[8:12] == b"qt  " else MediaType.MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType.WEBM
    return MediaType.HTML if _is_html(head) else None


def _is_html(head: bytes) -> bool:
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n").lower()
    if not text.startswith(_HTML_STARTS):
        return False
    try:
        text.decode("utf-8")
    except UnicodeDecodeError as exc:  # the head may end inside a character
        return exc.start >= len(text) - 3
    return True
