"""Decide what a file is from its bytes, before any parser touches it.

Names lie (a text file called .docx, a PDF called .doc); sizes can be
hostile (a zip whose parts inflate to gigabytes). Both are checked here,
cheaply, so the readers only ever see a PDF, a DOCX or an ODT of sane size.
"""

from __future__ import annotations

import io
import struct
import zipfile

from pipeline.ingest.errors import RejectedFile

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100  # normal DOCX parts stay under ~30:1 (FIELD-NOTES)
# A DOCX holds a few dozen parts; each directory entry costs ~0.5 kB once
# parsed, so a 50 MB zip of a million empty members would take gigabytes.
MAX_ZIP_MEMBERS = 10_000
_MIN_DIRECTORY_ENTRY = 46  # bytes of a central directory entry with an empty name
_RATIO_CHECK_FROM = 1024 * 1024  # tiny parts compress wildly without harm
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODF_PREFIX = b"application/vnd.oasis.opendocument"
_ODF_TEXT = (b"application/vnd.oasis.opendocument.text", b"application/vnd.oasis.opendocument.text-template")
SUPPORTED = ("pdf", "docx", "odt")


def sniff(data: bytes, size: int, suffix: str) -> str:
    """Return "pdf", "docx" or "odt" for a file of `size` bytes, `data` (empty when
    it is too large to load) and name ending in `suffix`, or raise
    RejectedFile with the contract's reason."""
    if size == 0:
        raise RejectedFile("empty", "Le fichier est vide (0 octet).")
    if size > MAX_FILE_BYTES:
        raise RejectedFile(
            "too_large",
            f"Le fichier pèse {size / 1e6:.0f} Mo (maximum accepté : {MAX_FILE_BYTES / 1e6:.0f} Mo).",
        )
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(data, suffix)
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(data)
    if not head.strip():
        raise RejectedFile("empty", "Le fichier ne contient que des espaces ou des octets nuls.")
    if suffix.lower().lstrip(".") in SUPPORTED:
        raise RejectedFile(
            "corrupt",
            f"Le fichier porte l'extension {suffix} mais son contenu n'est ni un PDF, "
            "ni un document Word, ni un document OpenDocument.",
        )
    raise RejectedFile("unsupported_format", _unsupported_message(suffix))


def _sniff_zip(data: bytes, suffix: str) -> str:
    _check_member_count(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            names = {member.filename for member in members}
            if "word/document.xml" in names:
                _check_inflation(members, "Le document Word")
                _check_no_dtd(archive, members, "Word")
                return "docx"
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 128:
                mimetype = archive.read("mimetype").strip()
                if mimetype in _ODF_TEXT and "content.xml" in names:
                    _check_inflation(members, "Le document OpenDocument")
                    _check_no_dtd(archive, members, "LibreOffice")
                    return "odt"
                if mimetype.startswith(_ODF_PREFIX):
                    raise RejectedFile(
                        "unsupported_format",
                        "Document OpenDocument autre qu'un texte (tableur, présentation…) : "
                        "enregistrez la restitution au format texte (.odt, .docx) ou PDF.",
                    )
    except zipfile.BadZipFile as exc:
        raise RejectedFile("corrupt", "L'archive du document (Word ou OpenDocument) est endommagée ou tronquée.") from exc
    if suffix.lower() == ".docx":
        raise RejectedFile("corrupt", "Le fichier .docx ne contient pas de document Word (word/document.xml absent).")
    raise RejectedFile("unsupported_format", _unsupported_message(suffix))


def _check_member_count(data: bytes) -> None:
    """Refuse a zip of too many members from its end record, before the
    zipfile module builds an object for each entry of its directory. The
    record's count can lie (zipfile reads the directory by its size), so
    the directory's size bounds the count too; 0xFFFF means more (ZIP64),
    which no DOCX needs."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if end < 0 or end + 16 > len(data):
        return  # no end record: zipfile reports the archive as damaged
    count, directory_size = struct.unpack_from("<HI", data, end + 10)
    members = max(count, directory_size // _MIN_DIRECTORY_ENTRY)
    if members > MAX_ZIP_MEMBERS:
        raise RejectedFile(
            "too_large",
            f"L'archive du document Word compte environ {members} éléments "
            f"(maximum accepté : {MAX_ZIP_MEMBERS}) : fichier refusé.",
        )


def _check_inflation(members: list[zipfile.ZipInfo], what: str) -> None:
    """Refuse a zip bomb from its directory alone, before inflating anything."""
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise RejectedFile(
            "too_large",
            f"{what} se décompresse en {total / 1e6:.0f} Mo "
            f"(maximum accepté : {MAX_UNCOMPRESSED_BYTES / 1e6:.0f} Mo).",
        )
    for member in members:
        if member.file_size < _RATIO_CHECK_FROM:
            continue
        ratio = member.file_size / max(member.compress_size, 1)
        if ratio > MAX_COMPRESSION_RATIO:
            raise RejectedFile(
                "too_large",
                f"La partie {member.filename} se décompresse {ratio:.0f} fois (archive piégée ?) : fichier refusé.",
            )


def _check_no_dtd(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], writer: str) -> None:
    """Neither Word nor LibreOffice writes a DTD: one in an XML part can only
    declare entities (external files, exponential expansion). Refuse it
    before any parser sees it; a DOCTYPE must stand in the prolog, so the
    head is enough."""
    for member in members:
        if not member.filename.endswith((".xml", ".rels", ".rdf")):
            continue
        with archive.open(member) as part:
            head = part.read(4096)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise RejectedFile(
                "corrupt",
                f"La partie {member.filename} du document déclare une DTD ou des entités XML "
                f"(jamais produites par {writer}) : fichier refusé par sécurité.",
            )


def _sniff_ole(data: bytes) -> str:
    if _ENCRYPTED_PACKAGE in data:
        raise RejectedFile("encrypted", "Le document Word est protégé par un mot de passe : il ne peut pas être lu.")
    raise RejectedFile(
        "unsupported_format",
        "Ancien format Word (.doc) ou autre document Office binaire : enregistrez-le en .docx ou en PDF.",
    )


def _unsupported_message(suffix: str) -> str:
    return (f"Format non pris en charge ({suffix or '(sans extension)'}) : seuls les fichiers PDF, Word (.docx) "
            "et OpenDocument (.odt) sont lus.")
