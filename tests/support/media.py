"""Uploads as JMessage's clients send them: multipart bodies, real images made with Pillow,
and the files a server keeps for them."""
import io
import os
import struct
import uuid
import zlib

from PIL import Image

#: the first bytes of an AMR voice file, and a little audio after them
AMR = b"#!AMR\n" + bytes(range(200))


def image_bytes(fmt="PNG", size=(7, 5), color=(200, 30, 30)):
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def multipart(content, filename="photo.png", field="filename", part_type=None,
              extra_fields=(), boundary=None, close=True):
    """C{(body, content type)}: a multipart/form-data body with one file part (Java writes
    C{Content-Type:application/octet-stream} without a space: C{part_type} is written as
    given), after C{extra_fields} (name, value) text parts."""
    boundary = boundary or uuid.uuid4().hex
    lines = []
    for name, value in extra_fields:
        lines += [f"--{boundary}".encode(),
                  f'Content-Disposition: form-data; name="{name}"'.encode(), b"",
                  value.encode()]
    if content is not None:
        disposition = f'Content-Disposition: form-data; name="{field}"; filename="{filename}"'
        lines += [f"--{boundary}".encode(), disposition.encode("utf-8")]
        if part_type is not None:
            lines.append(part_type.encode())
        lines += [b"", content]
    if close:
        lines.append(f"--{boundary}--".encode())
    return b"\r\n".join(lines) + b"\r\n", f"multipart/form-data; boundary={boundary}"


def kept_files(folder):
    """The names of the files kept in a media folder (not its temporary ones)."""
    return sorted(name for where, _, names in os.walk(folder)
                  if os.path.basename(where) != "tmp" for name in names)


def temporary_files(folder):
    where = os.path.join(folder, "tmp")
    return os.listdir(where) if os.path.isdir(where) else []


def png_claiming(width, height):
    """A PNG whose header names C{width}x{height} pixels, with hardly any data after it: what
    a decompression bomb shows before it is decoded."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))
