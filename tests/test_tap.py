"""`twistd jim`: the plugin, its options, and docs/configuration.md agreeing with them."""
import os
import re

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from jim import tap
from jim.config import Limits
from jim.core import passwords

DOC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs", "configuration.md")


def parse(*argv):
    options = tap.Options()
    options.parseOptions(list(argv))
    return options.config


def option_names():
    options = tap.Options()
    names = {flag[0] for flag in options.optFlags}
    names |= {param[0] for param in options.optParameters}
    names |= {name[4:].replace("_", "-") for name in dir(options) if name.startswith("opt_")}
    return names - {"help", "version"}


class PluginTests(SynchronousTestCase):
    def test_twistd_finds_jim(self):
        makers = {maker.tapname: maker for maker in getPlugins(IServiceMaker)}
        self.assertIn("jim", makers)
        self.assertIs(makers["jim"].options, tap.Options)


class OptionsTests(SynchronousTestCase):
    def test_defaults(self):
        config = parse()
        self.assertEqual(config.listen, ("tcp:8888",))
        self.assertEqual(config.data, "data")
        self.assertEqual(config.store, "sqlite")
        self.assertFalse(config.open_registration)
        self.assertEqual(config.scrypt_cost, (16384, 8, 5))
        self.assertEqual(config.limits, Limits())
        self.assertEqual(config.limits.max_body, 65536)
        self.assertEqual(config.limits.sniff_timeout, 10.0)
        self.assertEqual(config.limits.idle_timeout, 120.0)

    def test_repeatable_and_limits(self):
        config = parse("--listen", "tcp:1", "--listen", "tcp:2", "--auto-join", "100",
                       "--max-body", "1024", "--rate-limit", "0", "--open-registration")
        self.assertEqual(config.listen, ("tcp:1", "tcp:2"))
        self.assertEqual(config.auto_join, ("100",))
        self.assertEqual((config.limits.max_body, config.limits.rate), (1024, 0))
        self.assertTrue(config.open_registration)
        error = self.assertRaises(usage.UsageError, parse, "--auto-join", "other-app:100")
        self.assertIn("another app", str(error))

    def test_callback_and_report_options(self):
        config = parse("--callback-batch", "20", "--callback-backlog", "500",
                       "--callback-retry-max", "60", "--report-days", "0")
        self.assertEqual((config.limits.callback_batch, config.limits.callback_backlog,
                          config.limits.callback_retry_max, config.limits.report_days),
                         (20, 500, 60.0, 0.0))
        for option in ("--callback-batch", "--callback-backlog", "--callback-retry-max"):
            with self.assertRaises(usage.UsageError):
                parse(option, "0")
        with self.assertRaises(usage.UsageError):
            parse("--report-days", "-1")

    def test_media_quota(self):
        self.assertEqual(parse().limits.media_quota, 1024**3)
        self.assertEqual(parse("--media-quota", "0").limits.media_quota, 0)  # no limit
        self.assertEqual(parse("--media-quota", "5000").limits.media_quota, 5000)
        with self.assertRaises(usage.UsageError):
            parse("--media-quota", "-1")

    def test_single_device(self):
        self.assertFalse(parse().single_device)
        self.assertTrue(parse("--single-device").single_device)

    def test_mistakes_are_usage_errors(self):
        for argv in (
            ["--tls-cert", "c.pem"],
            ["--require-tls"],
            ["--app-key", "k"],
            ["--store", "mongo"],
            ["--sqlite-sync", "off"],
            ["--scrypt-cost", "1000:8:1"],
            ["--scrypt-cost", "fast"],
            ["--max-body", "0"],
            ["--idle-timeout", "-1"],
            ["--max-body", "lots"],
            ["--app-key", "k", "--master-secret", "x" * 15],
            ["--sniff-timeout", "nan"],
            ["--idle-timeout", "inf"],
            ["--sniff-bytes", "63"],
            ["--hash-threads", "0"],
            ["--hash-threads", "-1"],
            ["--hash-threads", "65"],
            ["--token-ttl", "0"],
            ["--token-ttl", "-1"],
            ["--scrypt-cost", "1048576:8:1"],  # 1 GiB
            ["--scrypt-cost", "524288:8:1"],  # 128 * r * N alone is the whole cap
            ["--scrypt-cost", "4:524288:3"],  # the exact fit below, one p too many
            ["--scrypt-cost", "16384:8:65"],
            ["--scrypt-cost", "65536:1:1"],
        ):
            self.assertRaises(usage.UsageError, parse, *argv)

    def test_messages_name_the_option_and_its_range(self):
        for argv, words in (
            (["--hash-threads", "0"], ["--hash-threads", "1 to 64"]),
            (["--hash-threads", "65"], ["--hash-threads", "1 to 64"]),
            (["--token-ttl", "0"], ["--token-ttl", "at least 1"]),
            (["--scrypt-cost", "1048576:8:1"], ["--scrypt-cost", "536870912", "512 MiB"]),
            (["--scrypt-cost", "16384:8:65"], ["--scrypt-cost", "1 to 64"]),
            (["--scrypt-cost", "65536:1:1"], ["--scrypt-cost", "below 65536"]),
            (["--store", "redis://h:99999/0"], ["redis://h:99999/0", "port"]),
            (["--store", "redis://a,b/0"], ["redis+sentinel://"]),
            (["--store", "redis+sentinel://a/"], ["/SERVICE"]),
            (["--bus", "redis://h/0"], ["--store with a Redis URL"]),
            (["--store", "redis://h/0", "--bus", "local"], ["share a bus"]),
            (["--bus", "kafka://h"], ["--bus must be local or a Redis URL"]),
            (["--presence-expiry", "2"], ["--presence-expiry", "3 to 600"]),
            (["--presence-expiry", "601"], ["--presence-expiry", "3 to 600"]),
        ):
            error = self.assertRaises(usage.UsageError, parse, *argv)
            for word in words:
                self.assertIn(word, str(error), argv)

    def test_values_just_inside_the_limits(self):
        self.assertEqual(parse("--sniff-bytes", "64").limits.sniff_bytes, 64)
        config = parse("--store", "rediss://:pw@redis.example:6380/2", "--presence-expiry", "3")
        self.assertEqual((config.store, config.bus, config.presence_expiry),
                         ("rediss://:pw@redis.example:6380/2", None, 3.0))
        config = parse("--store", "redis://a/0", "--bus", "redis://b/1")
        self.assertEqual((config.store, config.bus), ("redis://a/0", "redis://b/1"))
        self.assertEqual(parse("--bus", "local").bus, "local")
        config = parse("--app-key", "k", "--master-secret", "x" * 16)
        self.assertEqual((config.app_key, config.master_secret), ("k", "x" * 16))
        self.assertEqual(parse("--hash-threads", "1").hash_threads, 1)
        self.assertEqual(parse("--hash-threads", "64").hash_threads, 64)
        self.assertEqual(parse("--token-ttl", "1").token_ttl, 1)
        self.assertEqual(parse("--scrypt-cost", "16384:8:64").scrypt_cost, (16384, 8, 64))
        self.assertEqual(parse("--scrypt-cost", "32768:1:1").scrypt_cost, (32768, 1, 1))
        self.assertEqual(parse("--scrypt-cost", "262144:8:5").scrypt_cost, (262144, 8, 5))
        # 128 * r * (N + p + 2) = 128 * 2^19 * 8 = 2^29 bytes: exactly the cap
        self.assertEqual(parse("--scrypt-cost", "4:524288:2").scrypt_cost, (4, 524288, 2))


class ConfigurationDocTests(SynchronousTestCase):
    def test_every_option_is_documented_and_no_other(self):
        with open(DOC, encoding="utf-8") as f:
            rows = [line for line in f if line.startswith("| `--")]
        documented = {re.match(r"\| `--([a-z-]+)", row).group(1) for row in rows}
        self.assertEqual(documented, option_names())

    def test_documented_defaults_match(self):
        with open(DOC, encoding="utf-8") as f:
            rows = [line for line in f if line.startswith("| `--")]
        options = tap.Options()
        defaults = {p[0]: p[2] for p in options.optParameters}
        for row in rows:
            name = re.match(r"\| `--([a-z-]+)", row).group(1)
            cell = row.split("|")[2].strip().strip("`")
            if defaults.get(name) is not None:
                value = defaults[name]
                shown = f"{value:g}" if isinstance(value, float) else str(value)
                self.assertEqual(cell, shown, f"--{name}")

    def test_documented_ranges_match(self):
        with open(DOC, encoding="utf-8") as f:
            rows = {re.match(r"\| `--([a-z-]+)", line).group(1): line
                    for line in f if line.startswith("| `--")}
        self.assertIn(f"1 to {tap.MAX_HASH_THREADS}", rows["hash-threads"])
        self.assertIn("at least 1", rows["token-ttl"])
        self.assertIn(f"{passwords.MAX_MEMORY // (1024 * 1024)} MiB", rows["scrypt-cost"])
        self.assertIn(f"p is 1 to {passwords.MAX_P}", rows["scrypt-cost"])


class BacklogOptionTests(SynchronousTestCase):
    def test_default_and_value(self):
        self.assertEqual(parse().backlog, 1024)
        self.assertEqual(parse("--backlog", "1").backlog, 1)
        self.assertEqual(parse("--backlog", "65535").backlog, 65535)
        self.assertEqual(parse("--backlog", "4096").backlog, 4096)

    def test_out_of_range_or_not_a_number(self):
        for value in ("0", "-1", "65536", "lots", "1.5"):
            error = self.assertRaises(usage.UsageError, parse, "--backlog", value)
            if value not in ("lots", "1.5"):
                self.assertIn("--backlog must be 1 to 65535", str(error))

    def test_documented_with_its_range_and_kernel_setting(self):
        with open(DOC, encoding="utf-8") as f:
            [row] = [line for line in f if line.startswith("| `--backlog")]
        self.assertIn("1 to 65535", row)
        self.assertIn("net.core.somaxconn", row)


class HstsOptionTests(SynchronousTestCase):
    def test_default_a_year_and_0_is_off(self):
        self.assertEqual(parse().hsts_max_age, 31536000)
        self.assertEqual(parse("--hsts-max-age", "0").hsts_max_age, 0)
        self.assertEqual(parse("--hsts-max-age", "600").hsts_max_age, 600)

    def test_negative_or_not_a_number(self):
        error = self.assertRaises(usage.UsageError, parse, "--hsts-max-age", "-1")
        self.assertIn("--hsts-max-age must be 0 or more", str(error))
        self.assertRaises(usage.UsageError, parse, "--hsts-max-age", "a year")
