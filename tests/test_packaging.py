"""setup.cfg puts the twistd plugin into the package, not only jim itself."""
import configparser
import os

import setuptools

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_twistd_plugin_is_packaged():
    config = configparser.ConfigParser()
    config.read(os.path.join(ROOT, "setup.cfg"))
    options = config["options.packages.find"]
    assert config["options"]["packages"].strip() == "find_namespace:"
    packages = setuptools.find_namespace_packages(
        ROOT, include=options["include"].split(), exclude=options.get("exclude", "").split()
    )
    # twisted/plugins has no __init__.py (it is Twisted's namespace for plugins): plain
    # find_packages would leave it, and with it `twistd jim`, out of every install but -e
    assert "twisted.plugins" in packages
    assert not os.path.exists(os.path.join(ROOT, "twisted", "plugins", "__init__.py"))
    assert "jim.store" in packages and "jim.web" in packages
    assert not [p for p in packages if p.startswith(("tests", "bench", "certs", "docs"))]
