# -*- test-case-name: tests.test_core_devices -*-
"""Devices: what a login names itself as, and which connections a new login replaces.

A device is a platform (JMessage's ``a`` Android, ``i`` iOS, ``j`` JS/web, ``w`` Windows) and
a device id. Presence keeps each connection's device as one text, its I{key}
C{"platform:device id"}. A login that names neither gets the platform of its transport and a
device of its own (its connection id): J-IM clients keep being several independent
connections. A login that names a platform but no device id is that platform's one device, as
JMessage has it. Pure functions, no I/O.
"""
from jim import errors
from jim.errors import JimError

#: JMessage's platforms (reference section 2.1)
PLATFORMS = ("a", "i", "j", "w")
#: the longest device id a login may name
MAX_DEVICE_ID_BYTES = 128
#: the device id of a connection that named none starts with this (a named one may not)
OWN_DEVICE = "~"


def platform_of_terminal(terminal):
    """The platform of a connection that names none: J-IM clients have none of JMessage's,
    so WebSocket (and HTTP) connections count as the web (``j``) and TCP ones as Windows
    (``w``), the desktop client J-IM's TCP protocol serves."""
    return "j" if terminal in ("ws", "http") else "w"


def check_platform(platform):
    """C{platform} if it is one of L{PLATFORMS}; JimError(BAD_REQUEST) if not."""
    if platform not in PLATFORMS:
        raise JimError(errors.BAD_REQUEST,
                       f"platform must be one of {', '.join(PLATFORMS)}, not {platform[:16]!r}")
    return platform


def check_device_id(device_id):
    """C{device_id} if it is printable text of at most L{MAX_DEVICE_ID_BYTES} bytes that
    does not begin with L{OWN_DEVICE}; JimError(BAD_REQUEST) if not."""
    if len(device_id.encode()) > MAX_DEVICE_ID_BYTES:
        raise JimError(errors.BAD_REQUEST,
                       f"deviceId is longer than {MAX_DEVICE_ID_BYTES} bytes")
    if not device_id.isprintable() or device_id.startswith(OWN_DEVICE):
        raise JimError(errors.BAD_REQUEST,
                       f"deviceId must be printable and not begin with {OWN_DEVICE!r}")
    return device_id


def device_key(terminal, connection_id, platform=None, device_id=None):
    """The device key of a login over C{terminal} on C{connection_id} that named
    C{platform} and C{device_id} (each None when not named)."""
    if platform is None:
        platform = platform_of_terminal(terminal)
        if device_id is None:
            return f"{platform}:{OWN_DEVICE}{connection_id}"
    return f"{platform}:{device_id or ''}"


def platform_of(key):
    """The platform of a device key (a node of an older version announces its connections'
    terminals, C{"tcp"} or C{"ws"}, instead: their platform is the transport's)."""
    platform, colon, _ = key.partition(":")
    if colon and platform in PLATFORMS:
        return platform
    return platform_of_terminal(key)


def replaced(connections, key, single_device):
    """The ids among C{connections}, C{[(connection id, device key), ...]}, that a new login
    of device C{key} replaces: those of the same device, or every one if a user may have one
    device only."""
    return [connection_id for connection_id, other in connections
            if single_device or other == key]


def devices(connections, past=()):
    """The distinct devices among C{connections}, C{[(connection id, device key), ...]}, as
    JMessage's userstat lists them: C{[{"login", "online", "platform"}, ...]}, in the order
    they first logged in, then the device keys C{past} (devices with no connection now) as
    logged out."""
    seen = dict.fromkeys(key for _, key in connections)
    return ([{"login": True, "online": True, "platform": platform_of(key)} for key in seen]
            + [{"login": False, "online": False, "platform": platform_of(key)}
               for key in past])


def cursor_device(key):
    """The device whose inbox cursor a connection of device C{key} reads and moves: the device
    itself, but for a connection that named none (a device of its own, which lives as long as
    the connection): those share their platform's one cursor, C{"w:~"} for J-IM's TCP clients
    and C{"j:~"} for its WebSocket ones, so that each J-IM transport keeps J-IM's offline
    messages."""
    platform, _, device_id = key.partition(":")
    if device_id.startswith(OWN_DEVICE):
        return f"{platform}:{OWN_DEVICE}"
    return key
