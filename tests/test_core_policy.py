"""The policy step: which messages may be sent, with which refusal, in which order, counted in
the metrics; first on the rules' own values, then through the core's send, where every refusal
means nothing was stored or delivered."""
from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.config import Limits
from jim.core.policy import Policy, body_size
from jim.core.relations import RelationSet
from jim.errors import JimError
from jim.metrics import Metrics
from jim.model import App, Draft, Member, Relation, User
from tests.support.fakes import APP_KEY, make_core

LIMIT = 100


def user(name, **fields):
    return User(APP_KEY, name, "hash", **fields)


def text(content, extras=None, **fields):
    return Draft(model.SINGLE, "bob", model.TEXT, {"text": content}, extras, **fields)


def friends_of(*names, blacklist=()):
    return RelationSet.of(
        [Relation(APP_KEY, model.FRIEND, "bob", n) for n in names]
        + [Relation(APP_KEY, model.BLACKLIST, "bob", n) for n in blacklist])


def sized(size):
    """Text of exactly C{size} UTF-8 bytes mixing widths, or a strategy of such."""
    return st.lists(st.sampled_from(["a", "é", "中", "😀"]), max_size=size).map(
        lambda pieces: _fill(pieces, size))


def _fill(pieces, size):
    out, used = [], 0
    for piece in pieces:
        if used + len(piece.encode()) <= size:
            out.append(piece)
            used += len(piece.encode())
    return "".join(out) + "a" * (size - used)


class RuleTests(SynchronousTestCase):
    """The rules on plain values (as the hot path hands them over)."""

    def setUp(self):
        self.metrics = Metrics()
        self.policy = Policy(Limits(max_message=LIMIT), self.metrics)
        self.app = App(APP_KEY, "x")
        self.alice = user("alice")
        self.bob = user("bob")

    def code(self, refusal):
        self.assertIsInstance(refusal, (JimError, type(None)))
        return None if refusal is None else refusal.code

    def test_sender_rules_in_order(self):
        check = self.policy.check_sender
        self.assertIsNone(check(self.alice, text("hi")))
        self.assertEqual(self.code(check(user("a", forbidden=True), text("x" * 500,
                                                                           from_type="admin"))),
                         errors.USER_FORBIDDEN)
        self.assertEqual(self.code(check(self.alice, text("x" * 500, from_type="admin"))),
                         errors.NOT_ADMIN)
        self.assertEqual(self.code(check(self.alice, text("x" * 101))), errors.MESSAGE_TOO_LARGE)
        self.assertIsNone(check(user("boss", admin=True), text("hi", from_type="admin")))
        self.assertIsNone(check(user("boss", admin=True), text("hi")))

    def test_refusals_are_counted_by_code(self):
        self.policy.check_sender(user("a", forbidden=True), text("hi"))
        self.policy.check_sender(user("a", forbidden=True), text("hi"))
        self.policy.check_group(self.alice, 5, {}, text("hi"))
        self.policy.check_sender(self.alice, text("hi"))
        self.assertEqual(self.metrics.refusals, {errors.USER_FORBIDDEN: 2,
                                                 errors.NO_SUCH_GROUP: 1})

    @given(st.integers(LIMIT - 4, LIMIT + 4).flatmap(sized))
    def test_a_text_counts_the_bytes_of_its_text(self, content):
        refusal = self.policy.check_sender(self.alice, text(content))
        too_large = len(content.encode()) > LIMIT
        self.assertEqual(self.code(refusal), errors.MESSAGE_TOO_LARGE if too_large else None)

    @given(st.integers(0, LIMIT + 4).flatmap(sized), st.integers(0, LIMIT).flatmap(sized))
    def test_extras_count_too(self, content, extras):
        size = body_size({"text": content}, extras)
        self.assertEqual(size, len(content.encode()) + len(extras.encode()))
        refusal = self.policy.check_sender(self.alice, text(content, extras))
        self.assertEqual(self.code(refusal),
                         errors.MESSAGE_TOO_LARGE if size > LIMIT else None)

    def test_any_other_body_counts_as_its_json(self):
        self.assertEqual(body_size({"media_id": "中"}, None), len('{"media_id":"中"}'.encode()))
        self.assertEqual(body_size({"text": "ab", "extras": {}}, None),
                         len('{"text":"ab","extras":{}}'))
        self.assertEqual(body_size({"text": 5}, '{"a":1}'), len('{"text":5}') + 7)
        body = {"content": "x" * (LIMIT - len('{"content":""}'))}
        draft = Draft(model.SINGLE, "bob", model.CUSTOM, body)
        self.assertIsNone(self.policy.check_sender(self.alice, draft))
        body["content"] += "x"
        self.assertEqual(self.code(self.policy.check_sender(self.alice, draft)),
                         errors.MESSAGE_TOO_LARGE)

    def test_private_rules(self):
        check = self.policy.check_private
        friendly = App(APP_KEY, "x", friend_mode=True)
        self.assertEqual(self.code(check(self.app, self.alice, None, None, text("hi")._replace(target="zed"))),
                         errors.NO_SUCH_USER)
        self.assertIsNone(check(self.app, self.alice, self.bob, RelationSet(), text("hi")))
        self.assertEqual(self.code(check(self.app, self.alice, self.bob,
                                         friends_of("alice", blacklist=["alice"]), text("hi"))),
                         errors.BLACKLISTED)
        self.assertEqual(self.code(check(friendly, self.alice, self.bob,
                                         friends_of("carol"), text("hi"))), errors.NOT_FRIENDS)
        self.assertIsNone(check(friendly, self.alice, self.bob, friends_of("alice"), text("hi")))
        self.assertIsNone(check(friendly, self.bob, self.bob, RelationSet(), text("hi")))

    def test_the_app_server_passes_blacklists_and_friend_mode(self):
        boss = user("boss", admin=True)
        friendly = App(APP_KEY, "x", friend_mode=True)
        check = self.policy.check_private
        as_admin = text("hi", from_type=model.FROM_ADMIN)
        self.assertIsNone(check(friendly, boss, self.bob, friends_of(blacklist=["boss"]),
                                as_admin))
        self.assertEqual(self.code(check(friendly, boss, None, None, as_admin)),
                         errors.NO_SUCH_USER)

    def test_an_admin_chatting_as_a_user_is_bound_like_any_user(self):
        boss = user("boss", admin=True)
        friendly = App(APP_KEY, "x", friend_mode=True)
        check = self.policy.check_private
        self.assertEqual(self.code(check(self.app, boss, self.bob,
                                         friends_of("boss", blacklist=["boss"]), text("hi"))),
                         errors.BLACKLISTED)
        self.assertEqual(self.code(check(friendly, boss, self.bob, RelationSet(), text("hi"))),
                         errors.NOT_FRIENDS)
        self.assertEqual(self.code(self.policy.private(self.app, boss, self.bob,
                                                       friends_of(blacklist=["boss"]),
                                                       text("hi"))),
                         errors.BLACKLISTED)

    def test_group_rules(self):
        check = self.policy.check_group
        members = {"alice": Member("alice", model.OWNER), "bob": Member("bob", silenced=True)}
        as_user, as_admin = text("hi"), text("hi", from_type=model.FROM_ADMIN)
        self.assertIsNone(check(self.alice, 5, members, as_user))
        self.assertEqual(self.code(check(self.alice, 5, {}, as_user)), errors.NO_SUCH_GROUP)
        self.assertEqual(self.code(check(user("carol"), 5, members, as_user)), errors.NOT_MEMBER)
        self.assertEqual(self.code(check(self.bob, 5, members, as_user)), errors.SILENCED)
        boss = user("boss", admin=True)
        self.assertIsNone(check(boss, 5, members, as_admin))
        self.assertEqual(self.code(check(boss, 5, members, as_user)), errors.NOT_MEMBER)
        self.assertEqual(self.code(check(user("bob", admin=True), 5, members, as_admin)),
                         errors.SILENCED)


class SendTests(SynchronousTestCase):
    """Each refusal through the core's send: nothing stored, nothing delivered."""

    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"), limits=Limits(max_message=LIMIT))
        self.fx.add_user("boss", admin=True)
        self.fx.add_user("banned", forbidden=True)
        self.clients = {name: self.fx.login(name)[1] for name in ("alice", "bob", "boss")}
        self.gid = self.successResultOf(defer.ensureDeferred(self.fx.core.groups.create(
            APP_KEY, "alice", "g", ["bob"]))).gid

    def send(self, sender, draft):
        return self.fx.core.messages.send(APP_KEY, sender, draft)

    def private(self, sender, target, content="hi", **fields):
        return self.send(sender, Draft(model.SINGLE, target, model.TEXT, {"text": content},
                                       **fields))

    def group(self, sender, content="hi", gid=None, **fields):
        return self.send(sender, Draft(model.GROUP, str(gid or self.gid), model.TEXT,
                                       {"text": content}, **fields))

    def refused(self, d, code):
        error = self.failureResultOf(d, JimError).value
        self.assertEqual(error.code, code, error.detail)
        for name, client in self.clients.items():
            self.assertEqual([c for c, _ in client.take() if c == 11], [], name)
        self.assertEqual(self.fx.metrics.messages_in, self.stored)
        return error

    def delivered(self, d, *names):
        """C{d} succeeded and exactly C{names} got the message (a private message's sender
        gets its copy on its other connections)."""
        self.successResultOf(d)
        self.stored = self.fx.metrics.messages_in
        got = [n for n, client in self.clients.items()
               if any(c == 11 for c, _ in client.take())]
        self.assertEqual(sorted(got), sorted(names))

    stored = 0

    def test_forbidden_sender(self):
        self.refused(self.private("banned", "bob"), errors.USER_FORBIDDEN)
        self.refused(self.private("banned", "nobody"), errors.USER_FORBIDDEN)

    def test_not_an_admin_sending_as_one(self):
        self.refused(self.private("alice", "bob", from_type=model.FROM_ADMIN), errors.NOT_ADMIN)
        self.delivered(self.private("boss", "bob", from_type=model.FROM_ADMIN), "bob", "boss")

    def test_too_large(self):
        self.delivered(self.private("alice", "bob", "中" * 33 + "a"), "bob", "alice")
        self.refused(self.private("alice", "bob", "中" * 34), errors.MESSAGE_TOO_LARGE)
        self.refused(self.group("alice", "x" * 90, extras='{"k":"vvvv"}'),
                     errors.MESSAGE_TOO_LARGE)
        self.assertEqual(self.fx.metrics.refusals, {errors.MESSAGE_TOO_LARGE: 2})

    def test_missing_receiver(self):
        self.refused(self.private("alice", "nobody"), errors.NO_SUCH_USER)

    def test_blacklisted(self):
        self.successResultOf(defer.ensureDeferred(self.fx.core.relations.add_blacklist(
            APP_KEY, "bob", ["alice"])))
        self.refused(self.private("alice", "bob"), errors.BLACKLISTED)
        self.delivered(self.private("bob", "alice"), "alice", "bob")
        self.delivered(self.private("boss", "bob"), "bob", "boss")  # admins are never on one
        self.delivered(self.group("alice"), "alice", "bob")  # a blacklist is for private chats

    def test_not_a_member_or_no_group(self):
        self.refused(self.group("carol"), errors.NOT_MEMBER)
        self.refused(self.group("alice", gid=99), errors.NO_SUCH_GROUP)
        self.delivered(self.group("boss", from_type=model.FROM_ADMIN), "alice", "bob")
        self.refused(self.group("boss"), errors.NOT_MEMBER)

    def test_silenced(self):
        self.successResultOf(defer.ensureDeferred(self.fx.core.groups.silence(
            APP_KEY, self.gid, ["bob"], True)))
        self.clients["alice"].take()
        self.clients["bob"].take()
        self.refused(self.group("bob"), errors.SILENCED)
        self.delivered(self.private("bob", "alice"), "alice", "bob")

    def test_metrics_count_each_refusal(self):
        self.refused(self.private("banned", "bob"), errors.USER_FORBIDDEN)
        self.refused(self.private("alice", "nobody"), errors.NO_SUCH_USER)
        self.refused(self.private("alice", "nobody"), errors.NO_SUCH_USER)
        self.assertEqual(self.fx.metrics.refusals, {errors.USER_FORBIDDEN: 1,
                                                    errors.NO_SUCH_USER: 2})


class FriendModeTests(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.fx.add_user("boss", admin=True)
        self.successResultOf(self.fx.memory.apps.update_app(APP_KEY, {"friend_mode": True}))
        self.relations = self.fx.core.relations

    def send(self, sender, target):
        return self.fx.core.messages.send(APP_KEY, sender, Draft(model.SINGLE, target,
                                                                 model.TEXT, {"text": "hi"}))

    def test_private_messages_go_only_between_friends(self):
        error = self.failureResultOf(self.send("alice", "bob"), JimError).value
        self.assertEqual(error.code, errors.NOT_FRIENDS)
        self.successResultOf(defer.ensureDeferred(self.relations.add_friends(APP_KEY, "alice",
                                                                             ["bob"])))
        self.successResultOf(self.send("alice", "bob"))
        self.successResultOf(self.send("bob", "alice"))
        self.successResultOf(defer.ensureDeferred(self.relations.remove_friends(
            APP_KEY, "bob", ["alice"])))
        self.assertEqual(self.failureResultOf(self.send("bob", "alice"), JimError).value.code,
                         errors.NOT_FRIENDS)

    def test_oneself_and_the_app_server_need_no_friendship(self):
        self.successResultOf(self.send("alice", "alice"))
        self.successResultOf(self.fx.core.messages.send(APP_KEY, "boss", Draft(
            model.SINGLE, "carol", model.TEXT, {"text": "hi"}, from_type=model.FROM_ADMIN)))
        self.assertEqual(self.failureResultOf(self.send("boss", "carol"), JimError).value.code,
                         errors.NOT_FRIENDS)
