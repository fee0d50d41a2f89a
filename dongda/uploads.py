"""Upload handlers: which file parts of a request are kept at all, and how much of each.

Django's own handlers keep every file part of a multipart body, whatever its field and whoever
sent it, and write each one whole to memory or a temporary file before any form looks at it. The
handler here sits first in the chain (settings.FILE_UPLOAD_HANDLERS) and decides before a byte of
a part is stored:

- a part for a field the page does not read (settings.UPLOAD_FILE_FIELDS, by URL name; the
  sign-in page and every other page without an entry read none), or a second part for the same
  field, is skipped: the parser reads past it without handing it to any handler, so nothing is
  kept;
- past the evidence size limit it passes no more bytes of the file on and hands the form a
  stand-in that knows the size, so the person gets the usual "too big" message and nothing is kept.

How much a whole request may carry is the middleware's (dongda.request_limits): the parser never
reads past the Content-Length that middleware has already checked.
"""

import io
import logging

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    SkipFile,
    TemporaryFileUploadHandler,
)
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)


class OversizedUpload(UploadedFile):
    """What is left of a file that was too big: its name and the bytes it had reached."""

    def __init__(self, name: str, size: int, content_type: str | None):
        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size)


def expected_file_fields(request) -> tuple[str | None, frozenset[str]]:
    """The URL name of the page a request is for and the file fields that page reads."""
    if request is None:
        return None, frozenset()
    match = getattr(request, "resolver_match", None)
    if match is None:
        # The body is read before the URL is resolved only if a middleware reads request.POST
        # ahead of the view's own middleware hooks; resolve it here the same way.
        try:
            match = resolve(request.path_info, getattr(request, "urlconf", None))
        except Resolver404:
            return None, frozenset()
    return match.view_name, frozenset(settings.UPLOAD_FILE_FIELDS.get(match.view_name, ()))


class UploadLimitHandler(FileUploadHandler):
    def new_file(self, field_name, *args, **kwargs):
        if not hasattr(self, "expected"):
            self.view_name, self.expected = expected_file_fields(self.request)
            self.taken: set[str] = set()
        if field_name not in self.expected or field_name in self.taken:
            # A page that forgot its entry in UPLOAD_FILE_FIELDS shows up here, not as a 500.
            logger.info("file part %r skipped: %s reads no such file", field_name, self.view_name)
            raise SkipFile
        self.taken.add(field_name)
        super().new_file(field_name, *args, **kwargs)
        self.received = 0
        self.oversized = False

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.EVIDENCE_MAX_BYTES:
            self.oversized = True
            return None  # the handlers after this one see no more of the file
        return raw_data

    def file_complete(self, file_size):
        if self.oversized:
            return OversizedUpload(self.file_name, self.received, self.content_type)
        return None


# On a skipped part Django closes the `file` of every handler in the chain (its cleanup assumes
# that file is the one being skipped), but a handler that finished an earlier part still holds
# that earlier file, already in request.FILES: a form would then read a closed file. These two
# let go of a file once they have handed it over.


class MemoryUploadHandler(MemoryFileUploadHandler):
    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        if uploaded is not None:
            del self.file
        return uploaded


class TemporaryUploadHandler(TemporaryFileUploadHandler):
    def file_complete(self, file_size):
        uploaded = super().file_complete(file_size)
        del self.file
        return uploaded
