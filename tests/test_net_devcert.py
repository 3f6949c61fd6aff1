"""The development certificates: files, modes, idempotence, and what the certificate is good for."""
import contextlib
import datetime
import io
import ipaddress
import os
import stat

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import (
    DNSName,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)
from twisted.trial.unittest import SynchronousTestCase

from jim.net import devcert
from jim.net.tls import server_tls_options


def load_cert(path):
    with open(path, "rb") as pem:
        return x509.load_pem_x509_certificate(pem.read())


def verify(ca, leaf, name, now=None):
    """Verify C{leaf} for C{name} against C{ca} the way a TLS client would."""
    builder = PolicyBuilder().store(Store([ca]))
    if now is not None:
        builder = builder.time(now)
    return builder.build_server_verifier(name).verify(leaf, [])


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def contents(files):
    paths = (files.ca, files.ca_key, files.server, files.server_key)
    result = {}
    for path in paths:
        with open(path, "rb") as f:
            result[path] = f.read()
    return result


class MakeDevCertsTests(SynchronousTestCase):
    def setUp(self):
        self.directory = os.path.join(self.mktemp(), "dev")

    def test_createsFilesWithPrivateKeys(self):
        files = devcert.make_dev_certs(self.directory)
        self.assertEqual(
            [os.path.basename(p) for p in (files.ca, files.ca_key, files.server, files.server_key)],
            ["ca.pem", "ca.key.pem", "server.pem", "server.key.pem"],
        )
        everything = {files.ca, files.ca_key, files.server, files.server_key}
        self.assertEqual(set(files.written), everything)
        self.assertEqual(mode(files.ca_key), 0o600)
        self.assertEqual(mode(files.server_key), 0o600)
        self.assertEqual(mode(files.ca) & 0o077, 0o044)
        self.assertEqual(sorted(os.listdir(self.directory)),
                         ["ca.key.pem", "ca.pem", "server.key.pem", "server.pem"])

    def test_idempotent(self):
        first = devcert.make_dev_certs(self.directory)
        before = contents(first)
        second = devcert.make_dev_certs(self.directory)
        self.assertEqual(second.written, ())
        self.assertEqual(contents(second), before)

    def test_certificateValidForLocalhost(self):
        files = devcert.make_dev_certs(self.directory)
        ca, leaf = load_cert(files.ca), load_cert(files.server)
        for name in (DNSName("localhost"), IPAddress(ipaddress.ip_address("127.0.0.1")),
                     IPAddress(ipaddress.ip_address("::1"))):
            chain = verify(ca, leaf, name)
            self.assertEqual(chain[-1], ca)
        with self.assertRaises(VerificationError):
            verify(ca, leaf, DNSName("example.com"))
        lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
        self.assertTrue(datetime.timedelta(days=360) < lifetime < datetime.timedelta(days=370))
        # the CA clients are told to trust lasts ten years
        self.assertGreater(ca.not_valid_after_utc - ca.not_valid_before_utc,
                           datetime.timedelta(days=3649))
        # and the server loads them as its certificate
        server_tls_options(files.server, files.server_key)

    def test_missingServerCertificateIsReissuedByTheSameCa(self):
        first = devcert.make_dev_certs(self.directory)
        ca_before = contents(first)[first.ca]
        os.unlink(first.server)
        second = devcert.make_dev_certs(self.directory)
        self.assertEqual(set(second.written), {second.server, second.server_key})
        self.assertEqual(contents(second)[second.ca], ca_before)
        verify(load_cert(second.ca), load_cert(second.server), DNSName("localhost"))

    def test_newCaMeansNewServerCertificate(self):
        first = devcert.make_dev_certs(self.directory)
        os.unlink(first.ca)
        os.unlink(first.ca_key)
        second = devcert.make_dev_certs(self.directory)
        self.assertEqual(len(second.written), 4)
        verify(load_cert(second.ca), load_cert(second.server), DNSName("localhost"))

    def test_anExpiringServerCertificateIsReissued(self):
        files = devcert.make_dev_certs(self.directory)
        with open(files.ca_key, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), password=None)
        ca = devcert.Issued(key, load_cert(files.ca))
        almost_a_year_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=340)
        old = devcert.issue_server(ca, now=almost_a_year_ago)  # 25 days left: too few
        with open(files.server, "wb") as f:
            f.write(old.cert_pem)
        before = contents(files)
        renewed = devcert.make_dev_certs(self.directory)
        self.assertEqual(set(renewed.written), {renewed.server, renewed.server_key})
        self.assertEqual(contents(renewed)[renewed.ca], before[files.ca])  # the CA is kept
        leaf = load_cert(renewed.server)
        verify(load_cert(renewed.ca), leaf, DNSName("localhost"))
        self.assertGreater(leaf.not_valid_after_utc - datetime.datetime.now(datetime.timezone.utc),
                           datetime.timedelta(days=360))

    def test_anExpiringCaIsReplacedWithItsServerCertificate(self):
        long_ago = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=3660)
        devcert.make_dev_certs(self.directory, now=long_ago)  # both expired
        renewed = devcert.make_dev_certs(self.directory)
        self.assertEqual(len(renewed.written), 4)
        verify(load_cert(renewed.ca), load_cert(renewed.server), DNSName("localhost"))
        self.assertEqual(devcert.make_dev_certs(self.directory).written, ())  # and now kept

    def test_caKeyMissingWhenNeeded(self):
        files = devcert.make_dev_certs(self.directory)
        os.unlink(files.ca_key)
        self.assertEqual(devcert.make_dev_certs(self.directory).written, ())
        os.unlink(files.server_key)
        with self.assertRaises(ValueError) as caught:
            devcert.make_dev_certs(self.directory)
        self.assertIn("ca.key.pem is missing", str(caught.exception))

    def test_commandLine(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(devcert.main([self.directory]), 0)
        self.assertEqual(out.getvalue().count("wrote "), 4)
        self.assertIn("--cacert", out.getvalue())
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.assertEqual(devcert.main([self.directory]), 0)
        self.assertEqual(out.getvalue().count("kept "), 4)
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(devcert.main([]), 2)


class InMemoryPairTests(SynchronousTestCase):
    def test_pair(self):
        now = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
        pair = devcert.make_dev_pair(("chat.test", "10.0.0.1"), now=now, days=30)
        verify(pair.ca.cert, pair.server.cert, DNSName("chat.test"), now=now)
        verify(pair.ca.cert, pair.server.cert, IPAddress(ipaddress.ip_address("10.0.0.1")),
               now=now)
        with self.assertRaises(VerificationError):
            verify(pair.ca.cert, pair.server.cert, DNSName("chat.test"),
                   now=now + datetime.timedelta(days=31))
        self.assertTrue(pair.server.key_pem.startswith(b"-----BEGIN PRIVATE KEY-----"))
        self.assertTrue(pair.ca.cert_pem.startswith(b"-----BEGIN CERTIFICATE-----"))

    def test_intermediate(self):
        root = devcert.issue_ca("root")
        intermediate = devcert.issue_ca("intermediate", signer=root)
        server = devcert.issue_server(intermediate)
        chain = PolicyBuilder().store(Store([root.cert])).build_server_verifier(
            DNSName("localhost")
        ).verify(server.cert, [intermediate.cert])
        self.assertEqual(chain, [server.cert, intermediate.cert, root.cert])
