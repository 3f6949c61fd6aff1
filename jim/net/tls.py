# -*- test-case-name: tests.test_net_tls -*-
"""Server TLS settings from PEM files, with errors that say which file is wrong and how."""
import re

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL
from twisted.internet.ssl import AcceptableCiphers, CertificateOptions, TLSVersion

__all__ = ["TLS12_CIPHERS", "server_tls_options"]

#: The TLS 1.2 cipher suites offered: forward secret (ECDHE) and AEAD only (AES-GCM,
#: ChaCha20-Poly1305). The CBC suites Twisted's default also offers are open to padding-oracle
#: timing attacks (Lucky Thirteen). Every client that speaks TLS 1.2 since 2013 has one of
#: these. TLS 1.3 has its own list (AEAD only by design), which this does not touch.
TLS12_CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
])

# OpenSSL 1.1.0h and later; TLS 1.3 has no renegotiation at all, this covers TLS 1.2
_NO_RENEGOTIATION = getattr(SSL, "OP_NO_RENEGOTIATION", 0)

_PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL
)


def server_tls_options(cert_path, key_path, chain_path=None):
    """C{CertificateOptions} for serving TLS 1.2+ with the given certificate and key, with
    only the L{TLS12_CIPHERS} for TLS 1.2.

    @param cert_path: PEM file with the server certificate first; any certificates after
        it (a "fullchain" file) are sent as the chain too.
    @param key_path: PEM file with the unencrypted private key of that certificate.
    @param chain_path: optional PEM file with intermediate certificates, sent after those
        of C{cert_path}.
    @raise ValueError: naming the file and what is wrong with it (missing, unreadable, not
        PEM, encrypted key, key not matching the certificate).
    """
    certificates = _load_certificates(cert_path, "certificate")
    certificate, chain = certificates[0], certificates[1:]
    if chain_path is not None:
        chain += _load_certificates(chain_path, "certificate chain")
    private_key = _load_private_key(key_path)
    if _public_der(private_key.public_key()) != _public_der(certificate.public_key()):
        raise ValueError(
            f"TLS private key {key_path} does not match the certificate in {cert_path}"
        )
    options = CertificateOptions(
        privateKey=private_key,
        certificate=certificate,
        extraCertChain=chain,
        raiseMinimumTo=TLSVersion.TLSv1_2,
        acceptableCiphers=AcceptableCiphers.fromOpenSSLCipherString(TLS12_CIPHERS),
    )
    # The options build their context once and share it between connections; building it
    # now shows configuration errors at start-up and lets renegotiation be switched off
    # before any connection exists (a used context can no longer be changed).
    options.getContext().set_options(_NO_RENEGOTIATION)
    return options


def _read(path, what):
    try:
        with open(path, "rb") as pem:
            return pem.read()
    except FileNotFoundError:
        raise ValueError(f"TLS {what} file {path} does not exist") from None
    except OSError as error:
        raise ValueError(f"TLS {what} file {path} cannot be read: {error.strerror}") from None


def _blocks(data, labels):
    return [m.group(0) for m in _PEM_BLOCK.finditer(data) if m.group(1) in labels]


def _load_certificates(path, what):
    data = _read(path, what)
    blocks = _blocks(data, {b"CERTIFICATE", b"TRUSTED CERTIFICATE"})
    if not blocks:
        raise ValueError(f"TLS {what} file {path} holds no PEM certificate")
    certificates = []
    for number, block in enumerate(blocks, 1):
        try:
            certificates.append(x509.load_pem_x509_certificate(block))
        except ValueError as error:
            raise ValueError(
                f"TLS {what} file {path}: certificate {number} is not valid PEM ({error})"
            ) from None
    return certificates


def _load_private_key(path):
    data = _read(path, "private key")
    if _blocks(data, {b"ENCRYPTED PRIVATE KEY"}):
        raise ValueError(f"TLS private key file {path} is encrypted; give an unencrypted key")
    blocks = _blocks(data, {b"PRIVATE KEY", b"RSA PRIVATE KEY", b"EC PRIVATE KEY"})
    if not blocks:
        raise ValueError(f"TLS private key file {path} holds no PEM private key")
    try:
        return serialization.load_pem_private_key(blocks[0], password=None)
    except TypeError:
        # old-style "Proc-Type: 4,ENCRYPTED" keys
        raise ValueError(
            f"TLS private key file {path} is encrypted; give an unencrypted key"
        ) from None
    except (ValueError, UnsupportedAlgorithm) as error:
        raise ValueError(f"TLS private key file {path} is not a valid PEM key ({error})") from None


def _public_der(public_key):
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
