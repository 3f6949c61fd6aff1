# -*- test-case-name: tests.test_net_devcert -*-
"""A development CA and a server certificate for localhost, so TLS works out of the box.

    python -m jim.net.devcert certs/dev

writes C{ca.pem}, C{ca.key.pem}, C{server.pem} and C{server.key.pem} into the directory
(keys readable by the owner only). Files that are there and not about to expire are kept: the
CA (valid ten years) a browser or curl was told to trust stays the same from one run to the
next, and a server certificate (valid a year) is issued again by it when it nears its end. Not
for production.
"""
import datetime
import ipaddress
import os
import sys

import attrs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "DEFAULT_HOSTS",
    "DevCertFiles",
    "DevPair",
    "Issued",
    "issue_ca",
    "issue_server",
    "make_dev_certs",
    "make_dev_pair",
]

#: The names the development server certificate is valid for.
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_DAYS = 365
#: how long a development CA lasts: clients are told to trust it once
CA_DAYS = 3650
#: a certificate with fewer days left than this is issued again by make_dev_certs
RENEW_DAYS = 30
# tolerate a client clock a little behind the one that issued the certificate
_BACKDATE = datetime.timedelta(hours=1)


@attrs.frozen
class Issued:
    """A private key and the certificate issued for it."""

    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def key_pem(self):
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM)


@attrs.frozen
class DevPair:
    """A CA and a server certificate it signed, in memory."""

    ca: Issued
    server: Issued


@attrs.frozen
class DevCertFiles:
    """Where L{make_dev_certs} keeps the files, and which of them it wrote this time."""

    ca: str
    ca_key: str
    server: str
    server_key: str
    written: tuple = ()


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jim development"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _builder(subject, public_key, issuer, now, days):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def _key_usage(**granted):
    usages = dict.fromkeys(
        ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
         "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"],
        False,
    )
    usages.update(granted)
    return x509.KeyUsage(**usages)


def _now(now):
    return now if now is not None else datetime.datetime.now(datetime.timezone.utc)


def issue_ca(common_name="jim development CA", *, signer=None, now=None, days=CA_DAYS):
    """A new CA: self-signed, or an intermediate when C{signer} (an L{Issued} CA) is given."""
    now = _now(now)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(common_name)
    issuer = signer.cert.subject if signer is not None else subject
    signing_key = signer.key if signer is not None else key
    builder = (
        _builder(subject, key.public_key(), issuer, now, days)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(key_cert_sign=True, crl_sign=True), critical=True)
    )
    if signer is not None:
        builder = builder.add_extension(_authority_key_id(signer), critical=False)
    return Issued(key, builder.sign(signing_key, hashes.SHA256()))


def issue_server(ca, hosts=DEFAULT_HOSTS, *, now=None, days=DEFAULT_DAYS):
    """A server certificate signed by C{ca} for C{hosts} (DNS names and IP addresses)."""
    now = _now(now)
    key = ec.generate_private_key(ec.SECP256R1())
    names = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    builder = (
        _builder(_name(hosts[0]), key.public_key(), ca.cert.subject, now, days)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(_authority_key_id(ca), critical=False)
    )
    return Issued(key, builder.sign(ca.key, hashes.SHA256()))


def _authority_key_id(ca):
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key())


def make_dev_pair(hosts=DEFAULT_HOSTS, *, now=None, days=DEFAULT_DAYS):
    """A fresh development CA and a server certificate for C{hosts}, in memory."""
    ca = issue_ca(now=now, days=days)
    return DevPair(ca, issue_server(ca, hosts, now=now, days=days))


def make_dev_certs(directory, hosts=DEFAULT_HOSTS, *, now=None):
    """Make sure C{directory} holds a development CA and a server certificate it signed, both
    valid for at least L{RENEW_DAYS} more days.

    Files that exist and are not about to expire are kept. A missing or expiring CA is made
    anew (and then a new server certificate with it); a missing, half-present or expiring
    server pair is issued by the existing CA.

    @return: a L{DevCertFiles}.
    @raise ValueError: when a new server certificate is needed but the CA key is missing.
    """
    now = now or datetime.datetime.now(datetime.timezone.utc)
    renew_by = now + datetime.timedelta(days=RENEW_DAYS)
    files = DevCertFiles(
        ca=os.path.join(directory, "ca.pem"),
        ca_key=os.path.join(directory, "ca.key.pem"),
        server=os.path.join(directory, "server.pem"),
        server_key=os.path.join(directory, "server.key.pem"),
    )
    os.makedirs(directory, exist_ok=True)
    written = []
    have_ca = os.path.exists(files.ca), os.path.exists(files.ca_key)
    have_server = os.path.exists(files.server) and os.path.exists(files.server_key)
    ca_cert = _read_cert(files.ca) if have_ca[0] else None
    if ca_cert is not None and ca_cert.not_valid_after_utc < renew_by:
        have_ca = (False, False)  # an expiring CA is replaced: clients must trust the new one
    if have_server and _read_cert(files.server).not_valid_after_utc < renew_by:
        have_server = False
    if have_ca == (False, False):
        ca = issue_ca(now=now)
        _write(files.ca_key, ca.key_pem, 0o600)
        _write(files.ca, ca.cert_pem, 0o644)
        written += [files.ca, files.ca_key]
        have_server = False  # whatever is there was signed by another CA
    elif have_server:
        return files
    elif have_ca != (True, True):
        missing = files.ca if not have_ca[0] else files.ca_key
        raise ValueError(
            f"{missing} is missing, so no server certificate can be issued; "
            f"remove the other CA file to start a new CA"
        )
    else:
        with open(files.ca_key, "rb") as f:
            ca = Issued(serialization.load_pem_private_key(f.read(), password=None), ca_cert)
    if not have_server:
        server = issue_server(ca, hosts, now=now)
        _write(files.server_key, server.key_pem, 0o600)
        _write(files.server, server.cert_pem, 0o644)
        written += [files.server, files.server_key]
    return attrs.evolve(files, written=tuple(written))


def _read_cert(path):
    with open(path, "rb") as f:
        return x509.load_pem_x509_certificate(f.read())


def _write(path, data, mode):
    # write beside the target and rename, so a crash leaves no half file; the mode is set on
    # creation, so a key is never readable by others, not even for a moment
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), mode)
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m jim.net.devcert DIRECTORY", file=sys.stderr)
        return 2
    try:
        files = make_dev_certs(argv[0])
    except ValueError as error:
        print(f"devcert: {error}", file=sys.stderr)
        return 1
    for path in (files.ca, files.ca_key, files.server, files.server_key):
        print(f"{'wrote' if path in files.written else 'kept '} {path}")
    if files.written:
        print(f"trust {files.ca} in clients, e.g. curl --cacert {files.ca} https://localhost:PORT/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
