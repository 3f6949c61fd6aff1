"""The Users service: registration, the profile's rules, passwords, the forbidden flag,
deletion and the cache the hot path reads, through the core's public calls and what the bus
and the users' J-IM connections receive."""
import itertools

from hypothesis import given
from hypothesis import strategies as st
from twisted.internet import defer
from twisted.logger import capturedLogs, formatEvent
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.core.relations import RelationSet
from jim.errors import JimError
from jim.model import Delivery, Draft, Event, Invalidate, Kick
from jim.store.memory import MemoryStore
from tests.support.fakes import APP_KEY, LateReads, codes, make_core, send

EVENT_CMD = 100
_names = itertools.count()


def fresh_name():
    return f"user{next(_names)}"


def text_of_bytes(size, pieces=st.sampled_from(["a", "é", "中", "😀"])):
    """Text of exactly C{size} UTF-8 bytes, mixing 1-, 2-, 3- and 4-byte characters."""

    def fill(chosen):
        out, used = [], 0
        for piece in chosen:
            width = len(piece.encode())
            if used + width <= size:
                out.append(piece)
                used += width
        return "".join(out) + "a" * (size - used)

    return st.lists(pieces, max_size=size).map(fill)


def near(limit):
    """Text whose UTF-8 size is within 3 bytes of C{limit}, either side."""
    return st.integers(max(limit - 3, 0), limit + 3).flatmap(text_of_bytes)


class Recorder:
    def __init__(self, bus):
        self.values = []
        bus.subscribe(self.values.append)

    def of(self, kind):
        return [v for v in self.values if type(v) is kind]

    def events(self, kind):
        return [(d.item, d.recipients) for d in self.of(Delivery)
                if type(d.item) is Event and d.item.kind == kind]


def event_frames(client):
    """The JMessage event objects (cmd 100) a client was sent since the last take."""
    return [body["data"] for command, body in client.take() if command == EVENT_CMD]


class UsersCase(SynchronousTestCase):
    def setUp(self):
        self.fx = make_core(users=("alice", "bob", "carol"))
        self.users = self.fx.core.users
        self.bus = Recorder(self.fx.bus)

    def ok(self, coroutine_or_deferred):
        return self.successResultOf(defer.ensureDeferred(coroutine_or_deferred))

    def refused(self, coroutine_or_deferred, code):
        d = defer.ensureDeferred(coroutine_or_deferred)
        error = self.failureResultOf(d, JimError).value
        self.assertEqual(error.code, code, error.detail)
        return error

    def stored(self, username):
        return self.successResultOf(self.fx.memory.users.get_user(APP_KEY, username))

    def say(self, sender, target, text="hi"):
        return self.fx.core.messages.send(APP_KEY, sender,
                                          Draft(model.SINGLE, target, model.TEXT, {"text": text}))


class RegisterTests(UsersCase):
    def test_keeps_the_profile_with_registration_time(self):
        self.fx.clock.advance(12.345)
        user = self.ok(self.users.register(APP_KEY, "dave", "pw12", {
            "nickname": "Dave", "gender": 1, "birthday": "1990-05-06 10:11:12",
            "signature": "hello\nworld", "extras": {"b": [1, 2], "a": "中"}}))
        self.assertEqual((user.app, user.username, user.nickname, user.gender, user.birthday,
                          user.signature, user.extras, user.ctime, user.mtime, user.admin),
                         (APP_KEY, "dave", "Dave", 1, "1990-05-06", "hello\nworld",
                          '{"b":[1,2],"a":"中"}', 12345, 12345, False))
        self.assertEqual(self.stored("dave"), user)
        self.assertEqual(self.users.cached(APP_KEY, "dave"), user)

    def test_keeps_a_hash_not_the_password(self):
        user = self.ok(self.users.register(APP_KEY, "dave", "pw12"))
        self.assertNotIn("pw12", user.password)
        self.assertTrue(self.ok(self.fx.passwords.verify("pw12", user.password)))
        self.assertEqual(self.ok(self.fx.accounts.login(APP_KEY, "dave", "pw12"))[1].username,
                         "dave")

    def test_hash_made_already_is_kept_as_is(self):
        hashed = self.ok(self.fx.passwords.hash("elsewhere"))
        user = self.ok(self.users.register(APP_KEY, "dave", None, hashed=hashed))
        self.assertEqual(user.password, hashed)

    def test_admins_are_listed_apart_from_users(self):
        self.ok(self.users.register(APP_KEY, "boss", "pw12", admin=True))
        total, admins = self.ok(self.users.list(APP_KEY, 0, 10, admin=True))
        self.assertEqual((total, [u.username for u in admins]), (1, ["boss"]))
        self.assertTrue(admins[0].admin)
        total, plain = self.ok(self.users.list(APP_KEY, 0, 10))
        self.assertEqual((total, [u.username for u in plain]), (3, ["alice", "bob", "carol"]))

    def test_taken_username_is_refused_and_the_first_user_stays(self):
        before = self.stored("alice")
        self.refused(self.users.register(APP_KEY, "alice", "other1"), errors.USER_EXISTS)
        self.assertEqual(self.stored("alice"), before)

    def test_same_username_in_another_app_is_another_user(self):
        user = self.ok(self.users.register("otherapp", "alice", "pw12"))
        self.assertEqual(user.app, "otherapp")
        self.assertEqual(self.stored("alice").app, APP_KEY)

    def test_bad_password_or_profile_creates_nobody(self):
        for password, profile in [("abc", {}), ("x" * 129, {}), (42, {}),
                                  ("pw12", {"nickname": "a\nb"}), ("pw12", {"gender": 3}),
                                  ("pw12", {"password": "pw12"}), ("pw12", {"admin": True})]:
            self.refused(self.users.register(APP_KEY, "dave", password, profile),
                         errors.BAD_REQUEST)
            self.assertIsNone(self.stored("dave"), (password, profile))
        self.assertEqual(self.bus.of(Invalidate), [])

    def test_other_nodes_are_told_to_forget(self):
        self.ok(self.users.register(APP_KEY, "dave", "pw12"))
        self.assertEqual(self.bus.of(Invalidate),
                         [Invalidate(model.USERS_AREA, APP_KEY, "dave", self.fx.bus.node)])

    @given(near(128))
    def test_password_is_4_to_128_bytes(self, password):
        size = len(password.encode())
        name = fresh_name()
        d = self.users.register(APP_KEY, name, password)
        if 4 <= size <= 128:
            self.ok(d)
        else:
            self.refused(d, errors.BAD_REQUEST)

    @given(near(4))
    def test_short_passwords_count_bytes_not_characters(self, password):
        d = self.users.register(APP_KEY, fresh_name(), password)
        if len(password.encode()) >= 4:
            self.ok(d)
        else:
            self.refused(d, errors.BAD_REQUEST)


class ProfileRuleTests(UsersCase):
    """Each field's rule, at its edges, through L{Users.update}."""

    def check(self, field, value, accepted, kept=None):
        before = self.stored("alice")
        d = self.users.update(APP_KEY, "alice", {field: value})
        if accepted:
            user = self.ok(d)
            self.assertEqual(getattr(user, field), value if kept is None else kept)
            self.assertEqual(self.stored("alice"), user)
        else:
            self.refused(d, errors.BAD_REQUEST)
            self.assertEqual(self.stored("alice"), before)

    @given(near(64))
    def test_nickname_is_at_most_64_bytes(self, nickname):
        self.check("nickname", nickname, len(nickname.encode()) <= 64)

    @given(st.sampled_from(["signature", "region", "address", "avatar"]), near(250))
    def test_other_texts_are_at_most_250_bytes(self, field, value):
        self.check(field, value, len(value.encode()) <= 250)

    def test_nickname_is_one_line(self):
        for value in ["a\nb", "a\rb", "\n"]:
            self.check("nickname", value, False)

    def test_signature_region_and_address_may_span_lines(self):
        for field in ["signature", "region", "address"]:
            self.check(field, "one\r\ntwo", True)

    def test_texts_must_be_strings(self):
        for field in ["nickname", "avatar", "signature", "region", "address"]:
            for value in [None, 5, ["x"], {"x": 1}]:
                self.check(field, value, False)

    @given(st.one_of(st.integers(-5, 8), st.booleans(), st.text(max_size=2), st.none(),
                     st.floats(0, 2)))
    def test_gender_is_0_1_or_2(self, gender):
        self.check("gender", gender, type(gender) is int and gender in (0, 1, 2))

    @given(st.dates())
    def test_birthday_takes_any_date(self, day):
        text = day.isoformat()  # the year has four digits, zero-padded
        self.check("birthday", text, True)
        self.check("birthday", text + " 23:59:59", True, kept=text)

    def test_birthday_refuses_what_is_no_date(self):
        for value in ["1990-02-30", "1990-13-01", "0000-01-01", "1990-1-1", "19900101",
                      "1990-01-01T00:00:00", "1990-01-01 00:00", "x", 19900101, ["1990-01-01"]]:
            self.check("birthday", value, False)

    def test_birthday_none_or_empty_clears_it(self):
        self.ok(self.users.update(APP_KEY, "alice", {"birthday": "2000-01-02"}))
        self.check("birthday", "", True)
        self.ok(self.users.update(APP_KEY, "alice", {"birthday": "2000-01-02"}))
        self.check("birthday", None, True, kept="")

    @given(near(512 - len('{"k":""}')))
    def test_extras_are_at_most_512_bytes_of_json(self, value):
        extras = {"k": value}
        self.check("extras", extras, len(value.encode()) + 8 <= 512,
                   kept='{"k":"%s"}' % value)

    def test_extras_must_be_an_object(self):
        for value in ["{}", [1], 5, True]:
            self.check("extras", value, False)
        self.check("extras", {1: "non-text key"}, False)

    def test_extras_none_clears_them(self):
        self.ok(self.users.update(APP_KEY, "alice", {"extras": {"a": 1}}))
        self.check("extras", None, True)

    def test_fields_outside_the_profile_are_refused(self):
        for field, value in [("password", "newpass"), ("forbidden", True), ("admin", True),
                             ("username", "x"), ("ctime", 1), ("mtime", 1)]:
            self.refused(self.users.update(APP_KEY, "alice", {field: value}), errors.BAD_REQUEST)
        self.assertFalse(self.stored("alice").admin)

    def test_one_bad_field_changes_nothing(self):
        before = self.stored("alice")
        self.refused(self.users.update(APP_KEY, "alice", {"nickname": "Al", "gender": 9}),
                     errors.BAD_REQUEST)
        self.assertEqual(self.stored("alice"), before)
        self.assertEqual(self.bus.of(Delivery), [])


class UpdateTests(UsersCase):
    def test_changes_fields_and_mtime_and_the_cache(self):
        self.fx.clock.advance(5)
        user = self.ok(self.users.update(APP_KEY, "alice", {"nickname": "Al", "gender": 2}))
        self.assertEqual((user.nickname, user.gender, user.mtime), ("Al", 2, 5000))
        self.assertEqual(self.stored("alice"), user)
        self.assertEqual(self.users.cached(APP_KEY, "alice"), user)
        self.assertIn(Invalidate(model.USERS_AREA, APP_KEY, "alice", self.fx.bus.node),
                      self.bus.of(Invalidate))

    def test_the_user_and_its_friends_are_told_and_nobody_else(self):
        self.ok(self.fx.core.relations.add_friends(APP_KEY, "alice", ["bob"]))
        clients = {name: self.fx.login(name)[1] for name in ("alice", "bob", "carol")}
        self.ok(self.users.update(APP_KEY, "alice", {"nickname": "Al", "signature": "yo"}))
        [(event, recipients)] = self.bus.events(model.USER_UPDATED)
        self.assertEqual(recipients, ("alice", "bob"))
        self.assertEqual(event.actor, "alice")
        self.assertEqual(event.users, (model.UserCard("alice", "Al", "", "yo"),))
        for name in ("alice", "bob"):
            [data] = event_frames(clients[name])
            self.assertEqual((data["event_type"], data["from_username"], data["to_usernames"]),
                             (40, "alice", [{"username": "alice", "appkey": APP_KEY,
                                             "nickname": "Al"}]))
        self.assertEqual(clients["carol"].take(), [])

    def test_missing_user(self):
        self.refused(self.users.update(APP_KEY, "nobody", {"nickname": "x"}),
                     errors.NO_SUCH_USER)
        self.assertIsNone(self.stored("nobody"))


class PasswordTests(UsersCase):
    def test_every_connection_of_the_user_is_closed_with_the_event(self):
        _, first = self.fx.login("bob")
        _, second = self.fx.login("bob", terminal="ws")
        _, alice = self.fx.login("alice")
        self.ok(self.users.set_password(APP_KEY, "bob", "newpass"))
        for client in (first, second):
            [data] = event_frames(client)
            self.assertEqual(
                (data["event_type"], data["kind"], data["to_usernames"][0]["username"]),
                (2, model.PASSWORD_CHANGED, "bob"))
            self.assertEqual(client.closes, ["password changed"])
        self.assertEqual((alice.take(), alice.closes), ([], []))
        [kick] = self.bus.of(Kick)
        self.assertEqual((kick.username, kick.event.kind, kick.keep),
                         ("bob", model.PASSWORD_CHANGED, None))

    def test_only_the_new_password_logs_in(self):
        self.ok(self.users.set_password(APP_KEY, "bob", "newpass"))
        self.ok(self.fx.accounts.login(APP_KEY, "bob", "newpass"))
        self.refused(self.fx.accounts.login(APP_KEY, "bob", "secret"), errors.AUTH_FAILED)

    def test_tokens_issued_before_stop_working(self):
        token = self.fx.accounts.token_for(self.stored("bob"))
        self.ok(self.fx.accounts.login(APP_KEY, "bob", token=token))
        self.ok(self.users.set_password(APP_KEY, "bob", "newpass"))
        self.refused(self.fx.accounts.login(APP_KEY, "bob", token=token), errors.AUTH_FAILED)

    def test_bad_password_changes_nothing_and_kicks_nobody(self):
        _, client = self.fx.login("bob")
        for password in ["abc", "中a"[:1], "x" * 129, None]:
            self.refused(self.users.set_password(APP_KEY, "bob", password), errors.BAD_REQUEST)
        self.ok(self.fx.accounts.login(APP_KEY, "bob", "secret"))
        self.assertEqual((client.take(), client.closes, self.bus.of(Kick)), ([], [], []))

    def test_missing_user(self):
        self.refused(self.users.set_password(APP_KEY, "nobody", "newpass"),
                     errors.NO_SUCH_USER)
        self.assertEqual(self.bus.of(Kick), [])

    def test_rehash_keeps_the_connections_and_the_tokens(self):
        _, client = self.fx.login("bob")
        token = self.fx.accounts.token_for(self.stored("bob"))
        self.fx.passwords.cost = (4, 1, 1)  # stronger than the stored hash's
        self.ok(self.users.rehash(self.stored("bob"), "secret"))
        self.assertTrue(self.stored("bob").password.startswith("scrypt$4$1$1$"))
        self.ok(self.fx.accounts.login(APP_KEY, "bob", "secret"))
        self.ok(self.fx.accounts.login(APP_KEY, "bob", token=token))  # same salt, same stamp
        self.assertEqual((client.closes, self.bus.of(Kick)), ([], []))


class ForbidTests(UsersCase):
    def test_connections_are_closed_with_the_event(self):
        _, first = self.fx.login("bob")
        _, second = self.fx.login("bob")
        _, alice = self.fx.login("alice")
        user = self.ok(self.users.forbid(APP_KEY, "bob", True))
        self.assertTrue(user.forbidden)
        self.assertTrue(self.stored("bob").forbidden)
        for client in (first, second):
            [data] = event_frames(client)
            self.assertEqual(
                (data["event_type"], data["kind"], data["to_usernames"][0]["username"]),
                (1, model.USER_FORBIDDEN, "bob"))
            self.assertEqual(client.closes, ["forbidden"])
        self.assertEqual(alice.closes, [])

    def test_a_forbidden_user_cannot_log_in(self):
        token = self.fx.accounts.token_for(self.stored("bob"))
        self.ok(self.users.forbid(APP_KEY, "bob", True))
        self.refused(self.fx.accounts.login(APP_KEY, "bob", "secret"), errors.USER_FORBIDDEN)
        self.refused(self.fx.accounts.login(APP_KEY, "bob", token=token), errors.USER_FORBIDDEN)
        session, client = self.fx.connect()
        send(session, 5, {"cmd": 5, "userId": "bob", "password": "secret"})
        self.assertEqual(codes(client), [(6, 10008)])
        self.assertEqual(len(client.closes), 1)
        self.assertIsNone(session.username)

    def test_a_forbidden_user_cannot_send_at_once(self):
        self.ok(self.say("bob", "alice"))  # everything is in the hot path's memory now
        self.ok(self.users.forbid(APP_KEY, "bob", True))
        self.refused(self.say("bob", "alice"), errors.USER_FORBIDDEN)
        self.assertEqual(self.fx.metrics.refusals, {errors.USER_FORBIDDEN: 1})

    def test_allowed_again_logs_in_and_sends_and_nobody_is_kicked(self):
        self.ok(self.users.forbid(APP_KEY, "bob", True))
        del self.bus.values[:]
        user = self.ok(self.users.forbid(APP_KEY, "bob", False))
        self.assertFalse(user.forbidden)
        self.assertEqual(self.bus.of(Kick), [])
        self.fx.login("bob")
        self.ok(self.say("bob", "alice"))

    def test_allowing_an_allowed_user_writes_nothing(self):
        self.ok(self.users.forbid(APP_KEY, "bob", False))
        self.assertEqual(self.bus.values, [])

    def test_missing_user(self):
        self.refused(self.users.forbid(APP_KEY, "nobody", True), errors.NO_SUCH_USER)
        self.assertEqual(self.bus.of(Kick), [])


class DeleteTests(UsersCase):
    def test_connections_close_and_the_user_is_gone(self):
        _, client = self.fx.login("bob")
        self.ok(self.say("alice", "bob"))
        client.take()
        self.ok(self.users.delete(APP_KEY, "bob"))
        self.assertEqual(client.closes, ["user deleted"])
        self.assertIsNone(self.stored("bob"))
        self.assertIsNone(self.users.cached(APP_KEY, "bob"))
        self.assertIsNone(self.ok(self.users.find(APP_KEY, "bob")))
        self.refused(self.fx.accounts.login(APP_KEY, "bob", "secret"), errors.AUTH_FAILED)
        self.refused(self.say("alice", "bob"), errors.NO_SUCH_USER)
        self.assertIn(Invalidate(model.USERS_AREA, APP_KEY, "bob", self.fx.bus.node),
                      self.bus.of(Invalidate))

    def test_its_connections_are_told_and_its_groups_hear_it_left(self):
        group = self.ok(self.fx.core.groups.create(APP_KEY, "alice", "g", ["bob"]))
        _, first = self.fx.login("bob")
        _, second = self.fx.login("bob", terminal="ws")
        _, alice = self.fx.login("alice")
        _, carol = self.fx.login("carol")
        for client in (first, second, alice):
            client.take()
        self.ok(self.users.delete(APP_KEY, "bob"))
        for client in (first, second):
            [data] = event_frames(client)
            self.assertEqual(
                (data["event_type"], data["kind"], data["to_usernames"][0]["username"]),
                (1, model.USER_DELETED, "bob"))
            self.assertEqual(client.closes, ["user deleted"])
        [data] = event_frames(alice)  # besides J-IM's cmd 10: bob offline, bob left
        self.assertEqual((data["kind"], data["from_username"], data["gid"]),
                         (model.MEMBER_LEFT, "bob", group.gid))
        self.assertEqual((alice.closes, carol.take(), carol.closes), ([], [], []))

    def test_a_failed_cleanup_step_is_logged_and_the_others_still_run(self):
        relations, groups = self.fx.core.relations, self.fx.core.groups
        self.ok(relations.add_friends(APP_KEY, "bob", ["alice"]))
        shared = self.ok(groups.create(APP_KEY, "bob", "shared", ["alice"]))

        async def broken(app, username):
            raise RuntimeError(f"cannot clean up after {username}")

        self.users.on_delete.insert(0, broken)
        self.users.on_delete.insert(2, broken)
        with capturedLogs() as events:
            error = self.refused(self.users.delete(APP_KEY, "bob"), errors.SERVER_ERROR)
        self.assertIn("bob", error.detail)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 2)
        failures = [event for event in events if "log_failure" in event]
        self.assertEqual([(event["user"], event["app"], event["step"].rpartition(".")[2])
                          for event in failures], [("bob", APP_KEY, "broken")] * 2)
        self.assertIn("cannot clean up after bob", str(failures[0]["log_failure"].value))
        self.assertIn("bob", formatEvent(failures[0]))
        # the user is gone, and the steps after each failure ran: its groups and relations
        self.assertIsNone(self.ok(self.users.find(APP_KEY, "bob")))
        self.assertEqual(self.ok(groups.get(APP_KEY, shared.gid)).owner, "alice")
        self.assertEqual(self.ok(relations.friend_names(APP_KEY, "alice")), [])

    def test_relations_to_and_from_it_go(self):
        relations = self.fx.core.relations
        self.ok(relations.add_friends(APP_KEY, "bob", ["alice"]))
        self.ok(relations.add_blacklist(APP_KEY, "carol", ["bob"]))
        self.ok(relations.add_blacklist(APP_KEY, "bob", ["carol"]))
        self.ok(self.users.delete(APP_KEY, "bob"))
        self.assertEqual(self.ok(relations.friend_names(APP_KEY, "alice")), [])
        self.assertEqual(self.ok(relations.blacklist(APP_KEY, "carol")), [])
        self.assertEqual(relations.cached(APP_KEY, "alice").friends, {})
        self.ok(self.users.register(APP_KEY, "bob", "pw12"))
        self.assertEqual(self.ok(relations.of(APP_KEY, "bob")), RelationSet())
        self.ok(self.say("bob", "carol"))  # carol's old blacklist entry is gone too

    def test_owned_groups_pass_to_the_next_member_or_dissolve(self):
        groups = self.fx.core.groups
        shared = self.ok(groups.create(APP_KEY, "bob", "shared", ["alice", "carol"]))
        alone = self.ok(groups.create(APP_KEY, "bob", "alone"))
        self.ok(self.users.delete(APP_KEY, "bob"))
        self.assertEqual(self.ok(groups.get(APP_KEY, shared.gid)).owner, "alice")
        self.assertEqual(list(self.ok(groups.members(APP_KEY, shared.gid))), ["alice", "carol"])
        self.refused(groups.get(APP_KEY, alone.gid), errors.NO_SUCH_GROUP)
        [(left, recipients)] = self.bus.events(model.MEMBER_LEFT)
        self.assertEqual((left.actor, left.new_owner, left.gid, recipients),
                         ("bob", "alice", shared.gid, ("bob", "alice", "carol")))
        self.assertEqual(self.ok(groups.user_groups(APP_KEY, "bob")), [])

    def test_missing_user(self):
        self.refused(self.users.delete(APP_KEY, "nobody"), errors.NO_SUCH_USER)
        self.assertEqual(self.bus.values, [])


class ReadingTests(UsersCase):
    def test_list_pages_in_registration_order(self):
        self.ok(self.users.register(APP_KEY, "dave", "pw12"))
        total, page = self.ok(self.users.list(APP_KEY, 1, 2))
        self.assertEqual((total, [u.username for u in page]), (4, ["bob", "carol"]))

    def test_require_all_names_the_missing(self):
        found = self.ok(self.users.require_all(APP_KEY, ["bob", "alice", "bob"]))
        self.assertEqual(sorted(found), ["alice", "bob"])
        error = self.refused(self.users.require_all(APP_KEY, ["alice", "zed", "yan"]),
                             errors.NO_SUCH_USER)
        self.assertIn("zed", error.detail)
        self.assertIn("yan", error.detail)
        self.assertNotIn("alice", error.detail)

    def test_get_many_leaves_out_the_missing(self):
        found = self.ok(self.users.get_many(APP_KEY, ["alice", "zed"]))
        self.assertEqual(list(found), ["alice"])

    def test_online_is_presence(self):
        self.assertFalse(self.users.online(APP_KEY, "bob"))
        self.fx.login("bob")
        self.assertTrue(self.users.online(APP_KEY, "bob"))


class CacheTests(UsersCase):
    """What another node changes reaches this one's cache only through an Invalidate."""

    def change_elsewhere(self, username, changes):
        return self.successResultOf(
            self.fx.memory.users.update_user(APP_KEY, username, changes))

    def test_an_invalidate_from_another_node_drops_the_entry(self):
        self.ok(self.users.find(APP_KEY, "alice"))
        changed = self.change_elsewhere("alice", {"nickname": "Elsewhere"})
        self.fx.bus.publish(Invalidate(model.USERS_AREA, APP_KEY, "alice", "other-node"))
        self.assertIsNone(self.users.cached(APP_KEY, "alice"))
        self.assertEqual(self.ok(self.users.find(APP_KEY, "alice")), changed)

    def test_an_invalidate_from_this_node_keeps_the_entry(self):
        cached = self.ok(self.users.find(APP_KEY, "alice"))
        self.change_elsewhere("alice", {"nickname": "Elsewhere"})
        self.fx.bus.publish(Invalidate(model.USERS_AREA, APP_KEY, "alice", self.fx.bus.node))
        self.assertEqual(self.ok(self.users.find(APP_KEY, "alice")), cached)

    def test_invalidates_of_other_areas_apps_or_users_keep_the_entry(self):
        cached = self.ok(self.users.find(APP_KEY, "alice"))
        for value in [Invalidate(model.RELATIONS_AREA, APP_KEY, "alice", "other-node"),
                      Invalidate(model.USERS_AREA, "otherapp", "alice", "other-node"),
                      Invalidate(model.USERS_AREA, APP_KEY, "bob", "other-node")]:
            self.fx.bus.publish(value)
        self.assertEqual(self.users.cached(APP_KEY, "alice"), cached)

    def test_a_user_forbidden_on_another_node_cannot_send_here(self):
        self.ok(self.say("bob", "alice"))
        self.change_elsewhere("bob", {"forbidden": True})
        self.ok(self.say("bob", "alice"))  # this node has not heard yet
        self.fx.bus.publish(Invalidate(model.USERS_AREA, APP_KEY, "bob", "other-node"))
        self.refused(self.say("bob", "alice"), errors.USER_FORBIDDEN)

    def test_find_caches_what_it_read(self):
        self.assertIsNone(self.users.cached(APP_KEY, "alice"))
        user = self.ok(self.users.find(APP_KEY, "alice"))
        self.change_elsewhere("alice", {"nickname": "Elsewhere"})
        self.assertEqual(self.ok(self.users.get(APP_KEY, "alice")), user)
        self.refused(self.users.get(APP_KEY, "nobody"), errors.NO_SUCH_USER)


class OvertakenReadTests(UsersCase):
    """A read of the store that an invalidation overtook answers its caller, but is not kept:
    what it saw may be older than the change the invalidation announced."""

    def setUp(self):
        store = MemoryStore()
        self.late = store.users = LateReads(store.users, "get_user")
        self.fx = make_core(store=store, users=("alice", "bob"))
        self.users = self.fx.core.users
        self.bus = Recorder(self.fx.bus)

    def test_a_read_overtaken_by_another_nodes_change_is_not_kept(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.users.find(APP_KEY, "bob"))
        self.successResultOf(self.fx.memory.users.update_user(APP_KEY, "bob",
                                                              {"forbidden": True}))
        self.fx.bus.publish(Invalidate(model.USERS_AREA, APP_KEY, "bob", "other-node"))
        self.late.release()
        self.assertFalse(self.successResultOf(reading).forbidden)  # what it read, in its time
        self.assertIsNone(self.users.cached(APP_KEY, "bob"))
        self.assertTrue(self.ok(self.users.find(APP_KEY, "bob")).forbidden)
        self.refused(self.say("bob", "alice"), errors.USER_FORBIDDEN)

    def test_a_read_overtaken_by_a_change_here_does_not_replace_it(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.users.find(APP_KEY, "bob"))
        self.late.holding = False
        self.ok(self.users.rehash(self.stored("bob"), "secret"))
        changed = self.users.cached(APP_KEY, "bob")
        self.late.release()
        self.successResultOf(reading)
        self.assertEqual(self.users.cached(APP_KEY, "bob"), changed)
