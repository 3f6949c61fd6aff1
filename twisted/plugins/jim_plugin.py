from twisted.application.reactors import Reactor
from twisted.application.service import ServiceMaker

jim = ServiceMaker(
    "jim",
    "jim.tap",
    "An instant-messaging server: J-IM TCP, WebSocket and HTTP on one TLS-capable port.",
    "jim",
)

jim_reactor = Reactor(
    "jim",
    "jim.net.reactor",
    "epoll without the per-event legacy log context (the default of twistd jim)",
)
