"""`twistd jim`: the plugin, its options, and docs/configuration.md agreeing with them."""
import os
import re

from twisted.application.service import IServiceMaker
from twisted.plugin import getPlugins
from twisted.python import usage
from twisted.trial.unittest import SynchronousTestCase

from jim import tap
from jim.config import Limits

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
        ):
            self.assertRaises(usage.UsageError, parse, *argv)


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
