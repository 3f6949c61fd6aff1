"""Run a whole jim service inside the test process, on the real reactor and a loopback port.

A test case with a C{nodes} attribute above 1 gets a cluster instead: that many services on
one emptied Redis, behind a round-robin balancer (L{tests.support.balancer}) whose port is the
returned service's C{port}; its other attributes are the first node's.
"""
import attr
from twisted.internet import reactor
from twisted.internet.endpoints import serverFromString

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
    nodes = getattr(testcase, "nodes", 1)
    if nodes == 1:
        return await _start_one(testcase, settings)
    from tests.support.balancer import RoundRobin
    from tests.support.redis_server import empty_redis

    settings["store"] = empty_redis()
    services = [await _start_one(testcase, dict(settings, data=testcase.mktemp()))
                for _ in range(nodes)]
    balancer = await serverFromString(reactor, "tcp:0:interface=127.0.0.1").listen(
        RoundRobin([service.port for service in services]))
    testcase.addCleanup(balancer.stopListening)
    first = services[0]
    first.nodes = services
    first.port = balancer.getHost().port
    return first


async def _start_one(testcase, settings):
    service = JimService(Config(**settings), reactor, exit_on_failure=False, own_process=False)
    service.startService()
    testcase.addCleanup(service.stopService)
    await service.when_ready()
    service.port = service.ports[0].getHost().port
    return service
