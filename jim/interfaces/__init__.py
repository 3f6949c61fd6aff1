"""The contracts between jim's core and the parts around it.

The core reaches durable state only through the areas of L{IStore} (L{jim.interfaces.stores}),
other nodes only through L{IBus}, presence through L{IPresence}, this process's connections
through L{IConnection} and app servers through L{ICallbackClient} (L{jim.interfaces.nodes}).
Every implementation is checked with C{verifyObject} and one shared contract test suite per
area. Import them from here.
"""
from jim.interfaces.nodes import (  # noqa: F401
    ICallbackClient,
    IBus,
    IPresence,
    IConnection,
    IClient,
)
from jim.interfaces.stores import (  # noqa: F401
    IAppStore,
    IUserStore,
    IRelationStore,
    IGroupStore,
    IRoomStore,
    IAnnouncingMessageStore,
    IMessageStore,
    IInboxStore,
    IEventStore,
    IWordStore,
    IReportStore,
    INonceStore,
    ISilenceStore,
    ICallbackStore,
    IStore,
)
from jim.interfaces.media import IMediaStore, IMediaFiles, ISpool  # noqa: F401
