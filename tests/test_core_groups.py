"""The Groups service: creation, updates, dissolution, members (added, removed, leaving, the
owner's hand-over, silences) and J-IM's join; each refusal, each event and who gets it, and
that a change is what the next group message sees."""
from twisted.internet import defer
from twisted.trial.unittest import SynchronousTestCase

from jim import errors, model
from jim.config import Limits
from jim.core.groups import successor
from jim.model import Delivery, Draft, Event, Invalidate, Member, UserCard
from jim.store.memory import MemoryStore
from jim.wire.jimjson import group_ref as ref
from tests.support.fakes import APP_KEY, LateReads, ServiceCalls, make_core, offline, send

EVENT_CMD = 100
NAMES = ("alice", "bob", "carol", "dave", "erin")


class GroupsCase(ServiceCalls, SynchronousTestCase):
    limits = Limits()

    def setUp(self):
        self.fx = make_core(users=NAMES, limits=self.limits)
        self.groups = self.fx.core.groups
        self.bus = []
        self.fx.bus.subscribe(self.bus.append)

    def login(self, *names):
        self.sessions = {name: self.fx.login(name) for name in names}
        self.clients = {name: client for name, (_, client) in self.sessions.items()}

    def take(self, name):
        """(command, body) of what a logged-in user was sent since the last take."""
        return self.clients[name].take()

    def chats(self, name):
        return [body["data"]["content"] for cmd, body in self.take(name) if cmd == 11]

    def event_data(self, name):
        return [body["data"] for cmd, body in self.take(name) if cmd == EVENT_CMD]

    def events(self, kind):
        return [(d.item, d.recipients) for d in self.bus
                if type(d) is Delivery and type(d.item) is Event and d.item.kind == kind]

    def say(self, sender, gid, text="hi"):
        return self.fx.core.messages.send(APP_KEY, sender,
                                          Draft(model.GROUP, str(gid), model.TEXT, {"text": text}))

    def create(self, owner="alice", members=("bob", "carol"), **kwargs):
        return self.ok(self.groups.create(APP_KEY, owner, kwargs.pop("name", "g"),
                                          list(members), **kwargs))

    def members(self, gid):
        return self.ok(self.groups.member_list(APP_KEY, gid))

    def names(self, gid):
        return [m.username for m in self.members(gid)]

    def state(self, gid):
        """What the store keeps of a group, to compare before and after a refusal."""
        memory = self.fx.memory.groups
        return (self.successResultOf(memory.get_group(APP_KEY, gid)),
                self.successResultOf(memory.members(APP_KEY, gid)))


class CreateTests(GroupsCase):
    def test_owner_and_members(self):
        self.fx.clock.advance(2)
        group = self.create(desc="about", avatar="qiniu/image/x")
        self.assertEqual((group.gid, group.name, group.desc, group.avatar, group.owner,
                          group.flag, group.max_members, group.ctime, group.mtime, group.alias),
                         (model.FIRST_GID, "g", "about", "qiniu/image/x", "alice", model.PRIVATE,
                          500, 2000, 2000, None))
        self.assertEqual(self.members(group.gid), [Member("alice", model.OWNER, joined=2000),
                                                   Member("bob", joined=2000),
                                                   Member("carol", joined=2000)])
        self.assertEqual(self.ok(self.groups.get(APP_KEY, group.gid)), group)
        self.assertEqual(self.create().gid, model.FIRST_GID + 1)

    def test_the_owner_named_among_members_is_listed_once(self):
        group = self.create(members=("bob", "alice", "bob"))
        self.assertEqual(self.names(group.gid), ["alice", "bob"])

    def test_everyone_in_it_is_told(self):
        self.login("alice", "bob", "dave")
        self.ok(self.fx.core.users.update(APP_KEY, "bob", {"nickname": "Bobby"}))
        self.take("bob")
        group = self.create(flag=model.PUBLIC)
        [(event, recipients)] = self.events(model.GROUP_CREATED)
        self.assertEqual(recipients, ("alice", "bob", "carol"))
        self.assertEqual((event.actor, event.gid, event.group_name), ("", group.gid, "g"))  # the app server made it
        self.assertEqual(event.users, (UserCard("alice"), UserCard("bob", "Bobby"),
                                       UserCard("carol")))
        [data] = self.event_data("bob")
        self.assertEqual((data["event_type"], data["gid"], data["group_name"]),
                         (8, group.gid, "g"))
        self.assertEqual(self.take("dave"), [])

    def test_made_by_the_app_server_names_it_as_actor(self):
        self.create(actor="api")
        [(event, _)] = self.events(model.GROUP_CREATED)
        self.assertEqual(event.actor, "api")

    def test_refusals_create_nothing(self):
        for kwargs, code in [
            (dict(name=""), errors.BAD_REQUEST),
            (dict(name="x" * 65), errors.BAD_REQUEST),
            (dict(name="中" * 21 + "aa"), errors.BAD_REQUEST),
            (dict(name="a\nb"), errors.BAD_REQUEST),
            (dict(desc="x" * 251), errors.BAD_REQUEST),
            (dict(avatar="x" * 251), errors.BAD_REQUEST),
            (dict(flag=0), errors.BAD_REQUEST),
            (dict(flag=3), errors.BAD_REQUEST),
            (dict(members=("bob", "nobody")), errors.NO_SUCH_USER),
            (dict(owner="nobody"), errors.NO_SUCH_USER),
        ]:
            owner = kwargs.pop("owner", "alice")
            members = kwargs.pop("members", ("bob",))
            self.refused(self.groups.create(APP_KEY, owner, kwargs.pop("name", "g"),
                                            list(members), **kwargs), code)
        self.assertEqual(self.ok(self.groups.list(APP_KEY, 0, 10)), (0, []))
        self.assertEqual(self.bus, [])

    def test_names_at_the_byte_limits(self):
        fields = ("中" * 21 + "a", "é" * 125, "x" * 250)  # 64, 250 and 250 bytes
        group = self.create(name=fields[0], desc=fields[1], avatar=fields[2])
        stored = self.ok(self.groups.get(APP_KEY, group.gid))
        self.assertEqual((stored.name, stored.desc, stored.avatar), fields)


class SizeTests(GroupsCase):
    limits = Limits(group_size=3, user_groups=2)

    def test_a_group_holds_at_most_group_size(self):
        self.refused(self.groups.create(APP_KEY, "alice", "g", ["bob", "carol", "dave"]),
                     errors.GROUP_FULL)
        gid = self.create().gid
        self.refused(self.groups.add_members(APP_KEY, gid, ["dave"]), errors.GROUP_FULL)
        self.assertEqual(self.names(gid), ["alice", "bob", "carol"])

    def test_a_user_is_in_at_most_user_groups(self):
        self.create(members=("bob",))
        self.create(owner="bob", members=("carol",))
        before = self.ok(self.groups.list(APP_KEY, 0, 10))
        self.refused(self.groups.create(APP_KEY, "carol", "g", ["bob"]), errors.GROUP_QUOTA)
        self.assertEqual(self.ok(self.groups.list(APP_KEY, 0, 10)), before)
        gid = self.create(owner="dave", members=()).gid
        self.refused(self.groups.add_members(APP_KEY, gid, ["erin", "bob"]), errors.GROUP_QUOTA)
        self.assertEqual(self.names(gid), ["dave"])


class UpdateAndDissolveTests(GroupsCase):
    def test_update_tells_the_members(self):
        gid = self.create().gid
        self.login("bob")
        self.fx.clock.advance(7)
        group = self.ok(self.groups.update(APP_KEY, gid, {"name": "new", "desc": "d"}, "api"))
        self.assertEqual((group.name, group.desc, group.mtime), ("new", "d", 7000))
        self.assertEqual(self.ok(self.groups.get(APP_KEY, gid)), group)
        [(event, recipients)] = self.events(model.GROUP_UPDATED)
        self.assertEqual((recipients, event.actor, event.group_name),
                         (("alice", "bob", "carol"), "api", "new"))
        self.assertEqual([d["event_type"] for d in self.event_data("bob")], [12])

    def test_update_refusals_change_nothing(self):
        gid = self.create().gid
        before = self.state(gid)
        for changes in [{"owner": "bob"}, {"flag": 2}, {"name": "ok", "desc": "x" * 251},
                        {"name": "a\rb"}, {"avatar": None}, {}, {"name": ""}]:
            self.refused(self.groups.update(APP_KEY, gid, changes), errors.BAD_REQUEST)
        self.refused(self.groups.update(APP_KEY, 99, {"name": "x"}), errors.NO_SUCH_GROUP)
        self.assertEqual(self.state(gid), before)
        self.assertEqual(self.events(model.GROUP_UPDATED), [])

    def test_dissolve_tells_the_members_and_the_group_is_gone(self):
        gid = self.create().gid
        self.login("bob")
        self.ok(self.groups.dissolve(APP_KEY, gid, actor="alice"))
        [(event, recipients)] = self.events(model.GROUP_DISSOLVED)
        self.assertEqual((recipients, event.actor, event.gid, event.group_name),
                         (("alice", "bob", "carol"), "alice", gid, "g"))
        [data] = self.event_data("bob")
        self.assertEqual((data["event_type"], data["extra"]), (9, 69))
        self.refused(self.groups.get(APP_KEY, gid), errors.NO_SUCH_GROUP)
        self.assertEqual(self.ok(self.groups.user_groups(APP_KEY, "bob")), [])
        self.refused(self.say("alice", gid), errors.NO_SUCH_GROUP)
        self.refused(self.groups.dissolve(APP_KEY, gid), errors.NO_SUCH_GROUP)


class MemberTests(GroupsCase):
    def setUp(self):
        super().setUp()
        self.login("alice", "bob", "dave", "erin")
        self.gid = self.create().gid
        for name in self.clients:
            self.take(name)
        del self.bus[:]

    def test_added_members_get_the_next_message_and_everyone_is_told(self):
        self.ok(self.groups.add_members(APP_KEY, self.gid, ["dave", "erin"], actor="api"))
        self.assertEqual(self.names(self.gid), ["alice", "bob", "carol", "dave", "erin"])
        [(event, recipients)] = self.events(model.MEMBERS_ADDED)
        self.assertEqual(recipients, ("alice", "bob", "carol", "dave", "erin"))
        self.assertEqual((event.actor, event.users),
                         ("api", (UserCard("dave", online=True), UserCard("erin", online=True))))
        frames = self.take("dave")
        self.assertEqual([(cmd, body.get("group"), body.get("user", {}).get("userId"))
                          for cmd, body in frames if cmd == 9],
                         [(9, str(self.gid), "dave"), (9, str(self.gid), "erin")])
        self.assertEqual([body["data"]["event_type"] for cmd, body in frames if cmd == 100],
                         [10])
        self.ok(self.say("alice", self.gid))
        self.assertEqual((self.chats("dave"), self.chats("bob")), (["hi"], ["hi"]))

    def test_a_repeated_name_is_added_once(self):
        self.ok(self.groups.add_members(APP_KEY, self.gid, ["dave", "dave"]))
        self.assertEqual(self.names(self.gid).count("dave"), 1)

    def test_add_refusals_change_nothing(self):
        before = self.state(self.gid)
        for names, code in [(["dave", "nobody"], errors.NO_SUCH_USER),
                            (["dave", "bob"], errors.ALREADY_MEMBER)]:
            self.refused(self.groups.add_members(APP_KEY, self.gid, names), code)
        self.refused(self.groups.add_members(APP_KEY, 99, ["dave"]), errors.NO_SUCH_GROUP)
        self.assertEqual(self.state(self.gid), before)
        self.assertEqual(self.bus, [])
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("dave"), [])

    def test_a_removed_member_stops_receiving_at_once(self):
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("bob"), ["hi"])
        self.ok(self.fx.core.users.update(APP_KEY, "bob", {"nickname": "Bob"}))
        del self.bus[:]
        self.take("bob")  # (told of its own new nickname)
        self.ok(self.groups.remove_members(APP_KEY, self.gid, ["bob"], actor="alice"))
        [(event, recipients)] = self.events(model.MEMBERS_REMOVED)
        self.assertEqual((recipients, event.actor, event.users),
                         (("alice", "bob", "carol"), "alice", (UserCard("bob", "Bob"),)))
        frames = self.take("bob")
        self.assertEqual([(cmd, body["data"]["user"]["userId"]) for cmd, body in frames
                          if cmd == 10], [(10, "bob")])
        self.assertEqual([body["data"]["event_type"] for cmd, body in frames if cmd == 100],
                         [11])
        self.ok(self.say("alice", self.gid, "after"))
        self.assertEqual(self.chats("bob"), [])
        self.sessions["bob"][0].close("bye")
        self.assertEqual(offline(self.fx, "bob"), [])
        self.refused(self.say("bob", self.gid), errors.NOT_MEMBER)

    def test_remove_refusals_change_nothing(self):
        before = self.state(self.gid)
        self.refused(self.groups.remove_members(APP_KEY, self.gid, ["bob", "dave"]),
                     errors.NOT_MEMBER)
        self.refused(self.groups.remove_members(APP_KEY, self.gid, ["bob", "alice"]),
                     errors.NOT_ALLOWED)
        self.refused(self.groups.remove_members(APP_KEY, 99, ["bob"]), errors.NO_SUCH_GROUP)
        self.assertEqual(self.state(self.gid), before)
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("bob"), ["hi"])

    def test_silenced_members_cannot_speak_until_let_again(self):
        self.ok(self.groups.silence(APP_KEY, self.gid, ["bob"], True, actor="alice"))
        self.assertTrue(self.members(self.gid)[1].silenced)
        self.refused(self.say("bob", self.gid), errors.SILENCED)
        self.ok(self.say("carol", self.gid))
        self.assertEqual(self.chats("bob"), ["hi"])  # still hears
        self.ok(self.groups.silence(APP_KEY, self.gid, ["bob"], False))
        self.ok(self.say("bob", self.gid))
        told = self.events(model.MEMBER_SILENCED)
        self.assertEqual([(e.flag, e.users, r) for e, r in told],
                         [(True, (UserCard("bob"),), ("alice", "bob", "carol")),
                          (False, (UserCard("bob"),), ("alice", "bob", "carol"))])
        self.assertEqual([(d["event_type"], d["extra"]) for d in self.event_data("alice")],
                         [(65, 1), (65, 2)])

    def test_silence_refusals_change_nothing(self):
        before = self.state(self.gid)
        self.refused(self.groups.silence(APP_KEY, self.gid, ["bob", "dave"], True),
                     errors.NOT_MEMBER)
        self.refused(self.groups.silence(APP_KEY, 99, ["bob"], True), errors.NO_SUCH_GROUP)
        self.assertEqual(self.state(self.gid), before)
        self.ok(self.say("bob", self.gid))


class KeptSilenceTests(GroupsCase):
    """A silence outlasts the membership: leaving and coming back does not lift it."""

    limits = Limits(group_size=5)

    def user(self, name):
        return self.ok(self.fx.core.users.get(APP_KEY, name))

    def silenced(self, gid):
        return [m.username for m in self.members(gid) if m.silenced]

    def test_a_silenced_member_who_leaves_a_public_group_joins_it_silenced(self):
        group, _ = self.ok(self.groups.join(APP_KEY, self.user("alice"), *ref("lobby")))
        self.ok(self.groups.join(APP_KEY, self.user("bob"), *ref("lobby")))
        self.ok(self.groups.silence(APP_KEY, group.gid, ["bob"], True))
        self.ok(self.groups.leave(APP_KEY, group.gid, "bob"))
        self.ok(self.groups.join(APP_KEY, self.user("bob"), *ref("lobby")))
        self.assertEqual(self.silenced(group.gid), ["bob"])
        self.refused(self.say("bob", group.gid), errors.SILENCED)
        # lifted, it is gone for good: leaving and coming back again leaves bob free
        self.ok(self.groups.silence(APP_KEY, group.gid, ["bob"], False))
        self.ok(self.groups.leave(APP_KEY, group.gid, "bob"))
        self.ok(self.groups.join(APP_KEY, self.user("bob"), *ref("lobby")))
        self.assertEqual(self.silenced(group.gid), [])
        self.ok(self.say("bob", group.gid))

    def test_a_silenced_member_taken_out_and_added_again_is_silenced(self):
        gid = self.create().gid
        self.ok(self.groups.silence(APP_KEY, gid, ["bob", "carol"], True))
        self.ok(self.groups.remove_members(APP_KEY, gid, ["bob", "carol"]))
        self.ok(self.groups.add_members(APP_KEY, gid, ["dave", "bob"]))
        self.assertEqual(self.silenced(gid), ["bob"])
        # the silence of a member who did not come back is still kept
        self.ok(self.groups.add_members(APP_KEY, gid, ["carol"]))
        self.assertEqual(self.silenced(gid), ["bob", "carol"])

    def test_a_silence_set_elsewhere_an_instant_before_the_removal_is_kept(self):
        """Another node silenced bob and its invalidation has not come yet: this node's
        members still say he may speak, but the store keeps the silence it holds as it takes
        him out, so he comes back silenced."""
        gid = self.create().gid
        self.assertFalse(self.ok(self.groups.members(APP_KEY, gid))["bob"].silenced)
        self.ok(self.fx.memory.groups.update_member(APP_KEY, gid, "bob", {"silenced": True}))
        self.assertFalse(self.groups.cached_members(APP_KEY, gid)["bob"].silenced)
        self.ok(self.groups.remove_members(APP_KEY, gid, ["bob"]))
        self.ok(self.groups.add_members(APP_KEY, gid, ["bob"]))
        self.assertEqual(self.silenced(gid), ["bob"])

    def test_lifting_a_silence_forgets_one_kept_of_a_member(self):
        """A silence kept of a member who is in (a crash between its coming back and the
        kept one being forgotten): lifting the silence forgets it too."""
        group, _ = self.ok(self.groups.join(APP_KEY, self.user("alice"), *ref("lobby")))
        self.ok(self.groups.join(APP_KEY, self.user("bob"), *ref("lobby")))
        self.ok(self.groups.silence(APP_KEY, group.gid, ["bob"], True))
        self.ok(self.fx.memory.silences.keep_silences(
            APP_KEY, model.silence_place(model.GROUPS_AREA, group.gid), ["bob"]))
        self.ok(self.groups.silence(APP_KEY, group.gid, ["bob"], False))
        self.ok(self.groups.leave(APP_KEY, group.gid, "bob"))
        self.ok(self.groups.join(APP_KEY, self.user("bob"), *ref("lobby")))
        self.assertEqual(self.silenced(group.gid), [])

    def test_a_dissolved_group_and_a_deleted_user_keep_no_silence(self):
        gid = self.create().gid
        self.ok(self.groups.silence(APP_KEY, gid, ["bob", "carol"], True))
        self.ok(self.groups.remove_members(APP_KEY, gid, ["bob", "carol"]))
        place = model.silence_place(model.GROUPS_AREA, gid)
        kept = self.fx.memory.silences
        self.assertEqual(self.ok(kept.silenced_among(APP_KEY, place, ["bob", "carol"])),
                         ["bob", "carol"])
        self.ok(self.fx.core.users.delete(APP_KEY, "carol"))
        self.assertEqual(self.ok(kept.silenced_among(APP_KEY, place, ["bob", "carol"])),
                         ["bob"])
        self.ok(self.groups.dissolve(APP_KEY, gid))
        self.assertEqual(self.ok(kept.silenced_among(APP_KEY, place, ["bob"])), [])


class OwnershipTests(GroupsCase):
    def setUp(self):
        super().setUp()
        self.login("bob")
        self.gid = self.create().gid
        self.take("bob")

    def owner(self):
        return self.ok(self.groups.get(APP_KEY, self.gid)).owner

    def roles(self):
        return {m.username: m.role for m in self.members(self.gid)}

    def test_a_member_leaves(self):
        self.ok(self.groups.leave(APP_KEY, self.gid, "carol"))
        self.assertEqual(self.names(self.gid), ["alice", "bob"])
        [(event, recipients)] = self.events(model.MEMBER_LEFT)
        self.assertEqual((recipients, event.actor, event.new_owner, event.users),
                         (("alice", "bob", "carol"), "carol", "", (UserCard("carol"),)))
        self.assertEqual(self.owner(), "alice")

    def test_the_owner_leaving_hands_over_to_the_next_member(self):
        self.ok(self.groups.leave(APP_KEY, self.gid, "alice"))
        self.assertEqual((self.owner(), self.roles()), ("bob", {"bob": model.OWNER,
                                                                 "carol": model.MEMBER}))
        [(event, _)] = self.events(model.MEMBER_LEFT)
        self.assertEqual(event.new_owner, "bob")
        [data] = self.event_data("bob")
        self.assertEqual((data["event_type"], data["new_owner"]), (9, "bob"))

    def test_the_owner_hands_over_to_a_member_of_its_app_before_one_of_another(self):
        other = model.qualified("OtherApp", "zed")
        self.ok(self.groups.leave(APP_KEY, self.gid, "bob"))
        self.ok(self.groups.add_members(APP_KEY, self.gid, [other],
                                        found={other: model.User("OtherApp", other, "")}))
        self.ok(self.groups.add_members(APP_KEY, self.gid, ["dave"]))
        self.assertEqual(self.names(self.gid), ["alice", "carol", other, "dave"])
        self.ok(self.groups.leave(APP_KEY, self.gid, "alice"))
        self.assertEqual(self.owner(), "carol")
        self.ok(self.groups.leave(APP_KEY, self.gid, "carol"))
        self.assertEqual(self.owner(), "dave", "who joined after the other app's member")
        self.ok(self.groups.leave(APP_KEY, self.gid, "dave"))
        self.assertEqual((self.owner(), self.roles()), (other, {other: model.OWNER}),
                         "none of its app is left")
        self.assertEqual([event.new_owner for event, _ in self.events(model.MEMBER_LEFT)],
                         ["", "carol", "dave", other])

    def test_the_successor(self):
        members = ["ann", "A:amy", "bob", "B:bea"]
        self.assertEqual(successor(members, ["ann"]), "bob")
        self.assertEqual(successor(members, ["ann", "bob"]), "A:amy")
        self.assertEqual(successor(members, ["bob", "A:amy", "ann"]), "B:bea")
        self.assertEqual(successor(members, ["A:amy"]), "ann")
        self.assertIsNone(successor(members, members))

    def test_the_last_member_leaving_dissolves_it(self):
        self.ok(self.groups.leave(APP_KEY, self.gid, "carol"))
        self.ok(self.groups.leave(APP_KEY, self.gid, "alice"))
        self.ok(self.groups.leave(APP_KEY, self.gid, "bob"))
        [(event, recipients)] = self.events(model.GROUP_DISSOLVED)
        self.assertEqual((recipients, event.actor), (("bob",), "bob"))
        self.refused(self.groups.get(APP_KEY, self.gid), errors.NO_SUCH_GROUP)

    def test_leave_refusals(self):
        self.refused(self.groups.leave(APP_KEY, self.gid, "dave"), errors.NOT_MEMBER)
        self.refused(self.groups.leave(APP_KEY, 99, "bob"), errors.NO_SUCH_GROUP)
        self.assertEqual(self.names(self.gid), ["alice", "bob", "carol"])

    def test_transfer(self):
        group = self.ok(self.groups.transfer(APP_KEY, self.gid, "carol", actor="alice"))
        self.assertEqual((group.owner, self.roles()),
                         ("carol", {"alice": model.MEMBER, "bob": model.MEMBER,
                                    "carol": model.OWNER}))
        [(event, recipients)] = self.events(model.OWNER_TRANSFERRED)
        self.assertEqual((recipients, event.actor, event.new_owner),
                         (("alice", "bob", "carol"), "alice", "carol"))
        self.assertEqual([(d["event_type"], d["new_owner"]) for d in self.event_data("bob")],
                         [(82, "carol")])
        self.ok(self.groups.remove_members(APP_KEY, self.gid, ["alice"]))
        self.refused(self.groups.remove_members(APP_KEY, self.gid, ["carol"]), errors.NOT_ALLOWED)

    def test_transfer_refusals(self):
        self.refused(self.groups.transfer(APP_KEY, self.gid, "dave"), errors.NOT_MEMBER)
        self.refused(self.groups.transfer(APP_KEY, 99, "bob"), errors.NO_SUCH_GROUP)
        self.assertEqual((self.owner(), self.events(model.OWNER_TRANSFERRED)), ("alice", []))


class JoinTests(GroupsCase):
    limits = Limits(group_size=3, user_groups=2)

    def user(self, name):
        return self.ok(self.fx.core.users.get(APP_KEY, name))

    def join(self, username, group_id, **kwargs):
        return self.ok(self.groups.join(APP_KEY, self.user(username), *ref(group_id), **kwargs))

    def test_a_missing_group_is_made_public_and_owned_by_the_joiner(self):
        group, added = self.join("alice", "lobby", name="The lobby", terminal="ws")
        self.assertTrue(added)
        self.assertEqual((group.alias, group.name, group.owner, group.flag, group.max_members),
                         ("lobby", "The lobby", "alice", model.PUBLIC, 3))
        self.assertGreaterEqual(group.gid, model.FIRST_GID)
        self.assertEqual(self.members(group.gid), [Member("alice", model.OWNER)])
        [(event, recipients)] = self.events(model.MEMBERS_ADDED)
        # alice has no connection here: the card says what presence says
        self.assertEqual((recipients, event.actor, event.users),
                         (("alice",), "alice", (UserCard("alice", online=False, terminal="ws"),)))
        self.assertEqual([d.alias for d in self.bus if type(d) is Delivery], ["lobby"])
        self.assertEqual(self.ok(self.groups.find_named(APP_KEY, *ref("lobby"))), group)
        self.assertEqual(self.groups.cached_gid(APP_KEY, *ref("lobby")), group.gid)

    def test_a_join_makes_no_group_under_a_number_a_gid_can_have(self):
        """Naming the gid the app server's next group will get: refused, and nothing made, so
        nobody can hold that name when the real group comes."""
        upcoming = str(model.FIRST_GID + 5)
        self.refused(self.groups.join(APP_KEY, self.user("erin"), *ref(upcoming)),
                     errors.NO_SUCH_GROUP)
        self.assertIsNone(self.ok(self.groups.find_named(APP_KEY, *ref(upcoming))))
        self.assertEqual(self.ok(self.groups.user_groups(APP_KEY, "erin")), [])

    def test_a_gid_names_its_group_before_an_alias_an_earlier_version_made(self):
        """A group an earlier version let a join make under a gid's number does not take the
        chats of the group that has that gid."""
        real = self.create(members=("bob",))
        self.ok(self.fx.memory.groups.create_group(model.Group(
            APP_KEY, 0, "trap", "", "", "erin", model.PUBLIC, 10, 0, 0, str(real.gid)),
            [Member("erin", model.OWNER)]))
        self.assertEqual(self.ok(self.groups.find_named(APP_KEY, *ref(str(real.gid)))).gid,
                         real.gid)
        self.assertIn(self.groups.cached_gid(APP_KEY, *ref(str(real.gid))), (real.gid, None))
        self.login("bob", "erin")
        session, _ = self.sessions["alice"] = self.fx.login("alice")
        self.clients["alice"] = _
        send(session, 11, {"cmd": 11, "chatType": 1, "groupId": str(real.gid),
                           "content": "for the real group"})
        self.assertEqual(self.chats("bob"), ["for the real group"])
        self.assertEqual(self.chats("erin"), [])

    def test_the_name_of_a_group_a_join_creates_is_checked(self):
        long_id = "é" * 60  # 120 bytes: a J-IM groupId, longer than a group's name may be
        group, _ = self.join("alice", long_id)
        self.assertEqual((group.alias, group.name), (long_id, "é" * 32))
        for name in ("x" * 65, "two\nlines"):
            self.refused(self.groups.join(APP_KEY, self.user("bob"), *ref("other"), name=name),
                         errors.BAD_REQUEST)
        self.refused(self.groups.join(APP_KEY, self.user("bob"), *ref("other"),
                                      avatar="a" * 1025), errors.BAD_REQUEST)
        self.assertIsNone(self.ok(self.groups.find_named(APP_KEY, *ref("other"))))

    def test_a_numeric_group_id_is_the_gid(self):
        group, _ = self.join("alice", "123")
        self.assertEqual((group.gid, group.alias, group.name), (123, None, "123"))
        self.assertEqual(self.ok(self.groups.gid_named(APP_KEY, *ref("123"))), 123)
        self.assertIsNone(self.ok(self.groups.gid_named(APP_KEY, *ref("0123"))))

    def test_joining_a_public_group_tells_its_members(self):
        group, _ = self.join("alice", "lobby")
        del self.bus[:]
        self.assertEqual(self.join("bob", "lobby"), (group, True))
        self.assertEqual(self.names(group.gid), ["alice", "bob"])
        [(event, recipients)] = self.events(model.MEMBERS_ADDED)
        self.assertEqual((recipients, event.actor), (("alice", "bob"), "bob"))
        self.ok(self.say("alice", group.gid))

    def test_a_member_joining_again_changes_nothing(self):
        group, _ = self.join("alice", "lobby")
        del self.bus[:]
        self.assertEqual(self.join("alice", "lobby"), (group, False))
        self.assertEqual(self.bus, [])

    def test_a_private_group_is_joined_only_by_being_added(self):
        group = self.create(members=("bob",))
        self.refused(self.groups.join(APP_KEY, self.user("carol"), *ref(str(group.gid))),
                     errors.GROUP_PRIVATE)
        self.assertEqual(self.join("bob", str(group.gid)), (group, False))
        self.assertEqual(self.names(group.gid), ["alice", "bob"])

    def test_another_apps_group_is_not_joined_and_no_group_is_made(self):
        """C{<appKey>:<gid>} names another app's group (jim.core.cross_groups): its members
        are added by the app server (cross-app member calls), and a join must not make a
        group of this app under that name, which no chat could reach."""
        for name in ("other-app:10000001", "other-app:lobby", ":"):
            failure = self.refused(self.groups.join(APP_KEY, self.user("alice"), *ref(name)),
                                   errors.CROSS_APP)
            self.assertIn("another app", failure.detail)
            self.assertIsNone(self.ok(self.groups.find_named(APP_KEY, *ref(name))))
        self.assertEqual(self.bus, [])

    def test_a_full_group(self):
        group, _ = self.join("alice", "lobby")
        self.join("bob", "lobby")
        self.join("carol", "lobby")
        self.refused(self.groups.join(APP_KEY, self.user("dave"), *ref("lobby")), errors.GROUP_FULL)
        self.assertEqual(self.names(group.gid), ["alice", "bob", "carol"])

    def test_a_user_in_too_many_groups_neither_joins_nor_creates(self):
        self.join("alice", "one")
        self.join("alice", "two")
        self.join("bob", "three")
        self.refused(self.groups.join(APP_KEY, self.user("alice"), *ref("three")), errors.GROUP_QUOTA)
        self.refused(self.groups.join(APP_KEY, self.user("alice"), *ref("four")), errors.GROUP_QUOTA)
        self.assertIsNone(self.ok(self.groups.find_named(APP_KEY, *ref("four"))))
        self.assertEqual(self.ok(self.groups.list(APP_KEY, 0, 10))[0], 3)


class CacheTests(GroupsCase):
    def setUp(self):
        super().setUp()
        self.login("alice", "bob")
        self.gid = self.create().gid
        self.ok(self.say("alice", self.gid))  # members in memory
        self.take("bob")

    def remove_elsewhere(self, name):
        self.successResultOf(self.fx.memory.groups.remove_members(APP_KEY, self.gid, [name]))

    def test_an_invalidate_from_another_node_drops_the_group(self):
        self.remove_elsewhere("bob")
        self.successResultOf(self.fx.memory.groups.update_group(APP_KEY, self.gid,
                                                                {"name": "renamed"}))
        self.fx.bus.publish(Invalidate(model.GROUPS_AREA, APP_KEY, str(self.gid), "other-node"))
        self.assertIsNone(self.groups.cached_members(APP_KEY, self.gid))
        self.assertIsNone(self.groups.cached_group(APP_KEY, self.gid))
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("bob"), [])
        self.assertEqual(self.ok(self.groups.get(APP_KEY, self.gid)).name, "renamed")

    def test_an_invalidate_from_this_node_keeps_the_group(self):
        self.remove_elsewhere("bob")
        self.fx.bus.publish(Invalidate(model.GROUPS_AREA, APP_KEY, str(self.gid),
                                       self.fx.bus.node))
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("bob"), ["hi"])

    def test_every_change_is_announced(self):
        del self.bus[:]
        self.ok(self.groups.add_members(APP_KEY, self.gid, ["dave"]))
        self.ok(self.groups.silence(APP_KEY, self.gid, ["dave"], True))
        self.ok(self.groups.transfer(APP_KEY, self.gid, "bob"))
        self.ok(self.groups.update(APP_KEY, self.gid, {"name": "x"}))
        self.ok(self.groups.remove_members(APP_KEY, self.gid, ["dave"]))
        self.ok(self.groups.dissolve(APP_KEY, self.gid))
        announced = [v for v in self.bus if type(v) is Invalidate]
        self.assertEqual(set(announced), {Invalidate(model.GROUPS_AREA, APP_KEY, str(self.gid),
                                                     self.fx.bus.node)})
        self.assertGreaterEqual(len(announced), 6)


class OvertakenReadTests(GroupsCase):
    """A read of the store that another node's change overtook is not kept."""

    def setUp(self):
        store = MemoryStore()
        self.late = store.groups = LateReads(store.groups, "members", "get_group",
                                             "group_by_alias")
        self.fx = make_core(store=store, users=NAMES)
        self.groups = self.fx.core.groups
        self.bus = []
        self.login("alice", "bob")
        self.gid = self.create().gid
        self.take("bob")
        self.invalidated_elsewhere(self.gid)  # nothing of the group in memory now

    def invalidated_elsewhere(self, gid):
        self.fx.bus.publish(Invalidate(model.GROUPS_AREA, APP_KEY, str(gid), "other-node"))

    def elsewhere(self, change):
        """A change another node made, then its Invalidate."""
        self.successResultOf(change(self.late))
        self.invalidated_elsewhere(self.gid)

    def test_members_overtaken_by_a_removal_elsewhere_are_not_kept(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.groups.members(APP_KEY, self.gid))
        self.elsewhere(lambda groups: groups.remove_members(APP_KEY, self.gid, ["bob"]))
        self.late.release()
        self.assertIn("bob", self.successResultOf(reading))  # what it read, in its time
        self.assertIsNone(self.groups.cached_members(APP_KEY, self.gid))
        self.ok(self.say("alice", self.gid))
        self.assertEqual(self.chats("bob"), [])

    def test_a_record_overtaken_by_a_change_elsewhere_is_not_kept(self):
        self.late.holding = True
        reading = defer.ensureDeferred(self.groups.find(APP_KEY, self.gid))
        self.elsewhere(lambda groups: groups.update_group(APP_KEY, self.gid, {"name": "new"}))
        self.late.release()
        self.assertEqual(self.successResultOf(reading).name, "g")
        self.assertEqual(self.ok(self.groups.get(APP_KEY, self.gid)).name, "new")

    def test_an_alias_overtaken_by_a_dissolution_elsewhere_is_not_kept(self):
        group, _ = self.ok(self.groups.join(APP_KEY, self.ok(self.fx.core.users.get(
            APP_KEY, "alice")), *ref("lobby")))
        self.invalidated_elsewhere(group.gid)
        self.late.holding = True
        reading = defer.ensureDeferred(self.groups.find_named(APP_KEY, *ref("lobby")))
        self.successResultOf(self.late.delete_group(APP_KEY, group.gid))
        self.invalidated_elsewhere(group.gid)
        self.late.release()
        self.assertEqual(self.successResultOf(reading), group)
        self.assertIsNone(self.groups.cached_gid(APP_KEY, *ref("lobby")))
        self.assertIsNone(self.ok(self.groups.find_named(APP_KEY, *ref("lobby"))))
