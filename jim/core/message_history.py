# -*- test-case-name: tests.test_core_messages -*-
"""Retraction and history, the part of L{jim.core.messages.Messages} that reads and changes
what is stored rather than sending: a mixin of that class, using its services (C{store},
C{users}, C{groups}, C{rooms}, C{presence}, C{events}, C{limits}, C{cross},
C{cross_groups})."""
from jim import errors, model
from jim.core.policy import group_label
from jim.errors import JimError
from jim.model import CHATROOM, GROUP, SINGLE


class RetractionAndHistory:
    # -- retraction ----------------------------------------------------------------------------

    async def retract(self, app, username, message_id):
        """Take back a message C{username} sent, within the retract window; everyone in its
        conversation is told, and it leaves history and offline lists. C{username} is a user of
        C{app}: a copy this app keeps of another app's user's message (its sender
        C{<appKey>:<username>}) is retracted by that user's app only (CROSS_APP)."""
        if model.QUALIFIER in username:
            raise JimError(errors.CROSS_APP, f"{username!r} is another app's user: only its own"
                           " app retracts its messages")
        message = await self.store.get_message(app, message_id)
        if message is None:
            raise JimError(errors.NO_SUCH_MESSAGE, f"no message {message_id}")
        if message.sender != username:
            raise JimError(errors.NOT_SENDER, f"message {message_id} was not sent by"
                           f" {username!r}")
        if message.retracted:
            raise JimError(errors.ALREADY_RETRACTED, f"message {message_id} is retracted")
        if message.target_type == CHATROOM and (
                model.QUALIFIER in message.target or self.rooms.foreign_members(
                    app, int(message.target), await self.rooms.members(app,
                                                                       int(message.target)))):
            raise JimError(errors.CROSS_APP, f"message {message_id} went to a chat room with"
                           " members of other apps: it cannot be retracted")
        window_ms = int(self.limits.retract_window * 1000)
        if self.events.now_ms() - message.created > window_ms:
            raise JimError(errors.RETRACT_TOO_LATE, f"messages can be retracted for"
                           f" {self.limits.retract_window:g} s after they are sent")
        message = await self.store.retract_message(app, message_id)
        if message.target_type == SINGLE and model.QUALIFIER in message.target:
            await self.cross.retract_copy(message, username)  # and tells both sides
            return message
        if message.target_type == GROUP and self.cross_groups is not None \
                and await self.cross_groups.retract_copies(message, username):
            return message
        keep = True
        if message.target_type == GROUP:
            audience = list(await self.groups.members(app, int(message.target)))
            group = await self.groups.find(app, int(message.target))
            alias = None if group is None else group.alias
        elif message.target_type == CHATROOM:  # live only, as the room's messages are
            members = await self.rooms.members(app, int(message.target))
            audience, alias, keep = self.presence.online_among(app, members), None, False
        else:
            audience, alias = [message.sender, message.target], None
        gid = int(message.target) if message.target_type == GROUP else None
        event = self.events.make(model.MESSAGE_RETRACTED, app, actor=username, gid=gid,
                                 message_ids=(message.id,), target_type=message.target_type,
                                 target=message.target)
        await self.events.send(event, audience, alias, keep=keep)
        self.log.info("message {id} of app {app} retracted by {user}", id=message_id, app=app,
                      user=username)
        return message

    # -- history ---------------------------------------------------------------------------------

    async def history(self, app, username, peer=None, gid=None, begin=None, end=None,
                      offset=None, count=None):
        """A page of a conversation's history: with C{peer}, or of group C{gid} (a member's
        only)."""
        count = min(count or self.limits.history_count, self.limits.history_max)
        paging = dict(begin=begin, end=end, offset=offset, count=count)
        if gid is not None and model.QUALIFIER in str(gid):  # another app's group
            gid = await self.cross_groups.require_member(app, username, gid)
            return await self.store.group_history(app, gid, **paging)
        if gid is not None:
            if username not in await self.groups.members(app, gid):
                group = self.groups.cached_group(app, gid)
                raise JimError(errors.NOT_MEMBER, f"{username!r} is not a member of"
                               f" {group_label(gid, None if group is None else group.alias)}")
            return await self.store.group_history(app, gid, **paging)
        if peer is not None:
            # a conversation starts when both of its users exist: one deleted and registered
            # again under the same name is another user, who does not see its predecessor's
            since = (await self.users.get(app, username)).ctime
            other = await self.users.find(app, peer)
            if other is not None:
                since = max(since, other.ctime)
            if since and (begin is None or begin < since):
                paging["begin"] = since
            return await self.store.private_history(app, username, peer, **paging)
        raise JimError(errors.BAD_REQUEST, "history needs a peer or a group")


