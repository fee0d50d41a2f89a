"""An upload handler that stops storing a file once it passes the evidence size limit.

Django's own handlers would write the whole upload to a temporary file before any form could
look at its size, so a 2 GB "minutes" would fill the disk first. This one sits first in the
chain: past the limit it passes no more bytes on and hands the form a stand-in that knows the
size, so the person gets the usual "too big" message and nothing is kept.
"""

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class OversizedUpload(UploadedFile):
    """What is left of a file that was too big: its name and the bytes it had reached."""

    def __init__(self, name: str, size: int, content_type: str | None):
        import io

        super().__init__(io.BytesIO(b""), name=name, content_type=content_type, size=size)


class EvidenceSizeLimitHandler(FileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
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
