"""Run a whole jim service inside the test process, on the real reactor and a loopback port."""
import attr
from twisted.internet import reactor

from jim.config import Config, Limits
from jim.service import JimService


async def start_jim(testcase, limits=None, **config):
    """Start JimService on 127.0.0.1 (a free port) and stop it at the end of the test.

    C{limits} are L{Limits} fields to change; the other keywords are L{Config} fields. The
    default store is a real SQLite file in the test's temporary directory.
    """
    settings = dict(
        listen=("tcp:0:interface=127.0.0.1",),
        data=testcase.mktemp(),
        open_registration=True,
        scrypt_cost=(2, 1, 1),
    )
    settings.update(config)
    if limits:
        settings["limits"] = attr.evolve(Limits(), **limits)
    service = JimService(Config(**settings), reactor, exit_on_failure=False, own_process=False)
    service.startService()
    testcase.addCleanup(service.stopService)
    await service.when_ready()
    service.port = service.ports[0].getHost().port
    return service
