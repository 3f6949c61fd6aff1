"""The contracts of what the core talks to beside its store: other nodes (L{IBus}), presence
(L{IPresence}), this process's connections (L{IConnection}, L{IClient}) and app servers
(L{ICallbackClient})."""
from zope.interface import Attribute, Interface

from jim.model import BUS_VALUES


class ICallbackClient(Interface):
    """How an app server is told (docs/callbacks.md): the backlog's items in its dialect,
    and the POST."""

    timeout = Attribute("Seconds a POST may take, from connecting to the end of its answer.")

    def message(message, from_name, target_name):
        """The backlog text of a stored L{jim.model.Message} (its sender's and its target's
        names as shown, or "")."""

    def status(app, username, online, time):
        """The backlog text of a user's first connection up (C{online}) or last down, at
        C{time} (epoch ms)."""

    def post(app, kind, texts):
        """POST the texts (of one kind) to C{app.callback_url} (an L{jim.model.App}); a
        Deferred of the HTTP status, failed when there was no answer in time."""


class IBus(Interface):
    """How the core's values (L{jim.model.BUS_VALUES}) reach every node, this one included.

    Each value has one wire form (C{jim.wire.busjson}); a bus within one process may pass the
    values themselves."""

    node = Attribute("This node's id, unique among the nodes sharing the bus.")
    node_number = Attribute("This node's number (0 to 15) among the nodes sharing the bus, "
                            "for the ids it makes (event ids); set once started.")
    shared = Attribute("Whether other nodes share this bus (a cluster): then what each node "
                       "counts on its own, such as chat rates, is told to the others.")
    lost = Attribute("None, or C{lost(users)}: called with the C{(app, username)} of users "
                     "who are online nowhere now because the node that held them died. One "
                     "node is told, the one that found it dead, so that the core tells their "
                     "groups once.")

    def start():
        """Connect. Fires when values can be published and received."""

    def stop():
        """Disconnect. Fires when done."""

    def publish(value):
        """Send a Delivery, Kick, Invalidate or RateUsage to every node. Never blocks, never
        raises."""

    def announcement(delivery):
        """For a message not stored yet (its id 0), the parts of its delivery that other nodes
        get, for the store to publish with its commit (L{jim.interfaces.
        IAnnouncingMessageStore.add_announced_then}), a hop sooner than L{publish} after it:
        C{(parts, announced)}, C{parts} a list of C{(channel, tail)} (empty if no other node
        has a recipient), C{announced} for L{publish_announced} (None with no parts: then
        L{publish} after the commit). None if the message must not go with its commit: one
        process, or a bus that does not publish on the store's connection (the store's script
        could overtake what it published)."""

    def publish_announced(delivery, announced):
        """L{publish} the delivery of a message stored with the parts of its L{announcement}
        (C{announced}): only what they did not reach (this node's recipients, and each
        recipient on the nodes it connected to since whose part did not name it)."""

    def flushed():
        """A Deferred that fires (with None, never fails) once every value this node
        published so far has reached every node: at once in one process; in a cluster when
        they went round (a few seconds at most). A REST change waits for it before it is
        answered, so that a call the app server makes next, on any node, sees it."""

    def subscribe(handler, kinds=BUS_VALUES):
        """Call C{handler(value)} for every value of C{kinds} (types among
        L{jim.model.BUS_VALUES}) any node publishes, in the order each node published them."""


class IPresence(Interface):
    """Who is online, on which connections, across every node."""

    changes = Attribute("How many connections were noted or forgotten so far, on any node: "
                        "while it stays the same, so does every answer about who is where.")

    def connect(app, username, connection_id, device):
        """Note a logged-in connection of C{device} (a device key, L{jim.core.devices});
        True if it is the user's first."""

    def disconnect(app, username, connection_id):
        """Forget a connection; True if it was the user's last."""

    def announced(connection_id):
        """A Deferred that fires (with None, never fails) once every node can see this
        node's connection C{connection_id}: at once on a single node; in a cluster once its
        announcement went round (or a few seconds passed: a slow bus never holds a login)."""

    def is_online(app, username):
        """Whether the user has any connection. A memory lookup: the chat hot path asks."""

    def online_among(app, usernames):
        """Those of C{usernames} who have a connection, in their order (a group's fan-out
        asks this once rather than L{is_online} per member)."""

    def connections(app, username):
        """The user's connections on every node as C{[(connection id, device key), ...]},
        oldest first."""

    def online_users():
        """How many users have a connection."""


class IConnection(Interface):
    """One logged-in connection of this process, as the hub sees it, whatever its dialect."""

    id = Attribute("A connection id, unique among every node's connections.")
    app = Attribute("The app key of its user.")
    username = Attribute("Its user.")
    terminal = Attribute("'tcp', 'ws' or 'http': what carries it.")
    device = Attribute("Its device key (L{jim.core.devices}): what its login named, or one "
                       "of its own.")

    def deliver(delivery, cache):
        """Send a L{jim.model.Delivery}'s message or event in the connection's dialect; or
        its run of messages (its item a tuple of them: one run's in id order, though a node
        may hand consecutive parts of several runs out as one), each as it would be sent
        alone. C{cache} is a dict shared by every connection one fan-out reaches: an encoding
        is kept there under a key of the dialect's choosing, so it is made once per
        fan-out."""

    def kick(kick):
        """Tell the peer why (C{kick.event}, when there is one) and close."""


class IClient(Interface):
    """The transport under a J-IM session: where its frames go."""

    terminal = Attribute("'tcp', 'ws' or 'http': what the connection speaks.")
    peer = Attribute("A printable address of the remote end, for logs.")
    encoding = Attribute("A name for how the transport sends frames: clients with the same "
                         "encoding send the same data for the same frames.")

    def send(command, body):
        """Queue a J-IM frame: C{command} (int) with C{body}, UTF-8 JSON bytes. Never blocks."""

    def encode(frames):
        """What L{send_encoded} takes for C{frames}, C{((command, body), ...)}: made once for
        every client of this encoding a fan-out reaches."""

    def send_encoded(data):
        """Queue frames L{encode} made. Never blocks."""

    def send_all(command, bodies):
        """L{send} of each of C{bodies}, in order, as one write where the transport can."""

    def close(reason):
        """Close this connection once what was sent is flushed; C{reason} is for the log."""

    def pause_reading():
        """Stop reading from the peer (flow control: too much of its input is in progress)."""

    def resume_reading():
        """Undo L{pause_reading}."""
