from twisted.application.service import ServiceMaker

jim = ServiceMaker(
    "jim",
    "jim.tap",
    "An instant-messaging server: J-IM TCP, WebSocket and HTTP on one TLS-capable port.",
    "jim",
)
