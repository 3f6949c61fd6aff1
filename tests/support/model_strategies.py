"""Hypothesis strategies for the values of L{jim.model}: every field of every kind, with
unicode text, nested JSON bodies and 64-bit integers, as the core can make them."""
import orjson
from hypothesis import strategies as st

from jim import model

#: the integers a store keeps (signed 64 bits)
int64 = st.integers(-(2**63), model.MAX_INT64)
#: text as parsed JSON can hold it (Hypothesis leaves out lone surrogates, as JSON parsers do)
texts = st.text(max_size=12)
optional_texts = st.none() | texts

json_scalars = (st.none() | st.booleans() | int64
                | st.floats(allow_nan=False, allow_infinity=False) | texts)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=10,
)
#: a message body: a JSON object, nested
json_objects = st.dictionaries(texts, json_values, max_size=4)
#: compact JSON text of an object, as a message's extras are kept
extras_texts = st.none() | json_objects.map(lambda obj: orjson.dumps(obj).decode())

messages = st.builds(
    model.Message,
    id=st.integers(0, model.MAX_INT64),
    app=texts,
    sender=texts,
    target_type=st.sampled_from(model.TARGET_TYPES),
    target=texts,
    msg_type=st.sampled_from(model.MSG_TYPES),
    body=json_objects,
    extras=extras_texts,
    client_id=optional_texts,
    created=int64,
    from_type=st.sampled_from((model.FROM_USER, model.FROM_ADMIN)),
    target_app=optional_texts,
    no_offline=st.booleans(),
    no_notification=st.booleans(),
    retracted=st.booleans(),
)

user_cards = st.builds(
    model.UserCard,
    username=texts,
    nickname=texts,
    avatar=texts,
    signature=texts,
    online=st.booleans(),
    terminal=st.none() | st.sampled_from(("tcp", "ws", "http")) | texts,
)


def events(kinds=st.sampled_from(model.EVENT_KINDS)):
    """Events of C{kinds} with every field drawn."""
    return st.builds(
        model.Event,
        kind=kinds,
        app=texts,
        id=st.integers(0, model.MAX_INT64),
        actor=texts,
        gid=st.none() | st.integers(1, model.MAX_INT64),
        users=st.lists(user_cards, max_size=3).map(tuple),
        created=int64,
        group_name=texts,
        new_owner=texts,
        message_ids=st.lists(st.integers(1, model.MAX_INT64), max_size=3).map(tuple),
        flag=st.none() | st.booleans(),
        target_type=st.none() | st.sampled_from(model.TARGET_TYPES),
        target=optional_texts,
        description=texts,
        kept=st.booleans(),
    )


recipients = st.lists(texts, max_size=4).map(tuple)

deliveries = st.builds(
    model.Delivery,
    app=texts,
    item=messages | events(),
    recipients=recipients,
    exclude=optional_texts,
    alias=optional_texts,
)

#: the delivery of a run of messages (jim.core.messages.Messages.send_run_then): its item is
#: the tuple of them
runs = st.builds(
    model.Delivery,
    app=texts,
    item=st.lists(messages, min_size=2, max_size=4).map(tuple),
    recipients=recipients,
    exclude=optional_texts,
    alias=optional_texts,
)

kicks = st.builds(
    model.Kick,
    app=texts,
    username=texts,
    reason=texts,
    event=st.none() | events(),
    keep=optional_texts,
    device=optional_texts,
)

invalidations = st.builds(
    model.Invalidate,
    area=st.sampled_from((model.USERS_AREA, model.RELATIONS_AREA, model.GROUPS_AREA,
                          model.APPS_AREA)),
    app=texts,
    key=texts,
    origin=texts,
)

rate_usages = st.builds(
    model.RateUsage,
    origin=texts,
    entries=st.lists(st.tuples(st.sampled_from(model.RATE_KINDS), texts, texts,
                               st.integers(1, 2**40)), max_size=5).map(tuple),
)

#: any value the bus carries
bus_values = deliveries | runs | kicks | invalidations | rate_usages
