# -*- test-case-name: tests.integration.test_rest_reports -*-
"""JMessage's Report API v2 (reference section 2.8; docs/rest-api.md): an app's messages by time
window, per user, group and chat room, in pages a cursor continues, and its statistics. Times
are UTC, as every time jim shows."""
import calendar
import datetime

from jim import errors
from jim.core.cross_groups import group_ref
from jim.core.cross_rooms import room_ref
from jim.core.reports import ReportPage
from jim.errors import JimError
from jim.model import CHATROOM, GROUP, SINGLE
from jim.wire.callbacks import message_object
from jim.web.rest_v1 import params
from jim.web.rest_v1.router import route

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000
#: the widest window of a question, as its times are written (JMessage's 7 days)
_WINDOW_MS = 7 * _DAY_MS
#: the longest statistics question per time unit (JMessage's)
_MOST = {"HOUR": 24, "DAY": 60, "MONTH": 2}
_FORMATS = {"HOUR": "%Y-%m-%d %H", "DAY": "%Y-%m-%d", "MONTH": "%Y-%m"}
#: a message type -> its field in the statistics' per-type counts
_TYPE_FIELDS = {"text": "txt_msg", "image": "image_msg", "voice": "voice_msg"}


def _bad(detail):
    return JimError(errors.BAD_REQUEST, detail)


def _moment(text, field, form="%Y-%m-%d %H:%M:%S"):
    """Epoch ms of a UTC time in C{form} (C{+} in a query is a space already)."""
    if text is None or not text.strip():
        raise _bad(f"{field} is required")
    try:
        moment = datetime.datetime.strptime(text.strip(), form)
    except ValueError:
        raise _bad(f"{field} must be a time as {form.replace('%', '')}") from None
    return calendar.timegm(moment.timetuple()) * 1000


def _count(call):
    text = (call.query("count") or "").strip()
    if not (text.isdigit() and text.isascii()) or len(text) > 4 or not 1 <= int(text) <= 1000:
        raise _bad("count must be a number from 1 to 1000")
    return int(text)


async def _messages(call, scope, strict):
    """A page of the scope: the first of a window (C{begin_time}, C{end_time}, C{count}), or
    the one a C{cursor} continues. The app-wide window takes its bounds inclusively (to the
    end of the last second); the others strictly, as JMessage's documentation says."""
    reports = call.core.reports
    app = call.app.key
    cursor = call.query("cursor")
    if cursor is not None and cursor.strip():
        page = await reports.next_page(app, cursor.strip(), scope)
    else:
        begin = _moment(call.query("begin_time"), "begin_time")
        end = _moment(call.query("end_time"), "end_time")
        count = _count(call)
        if end < begin:
            raise _bad("end_time is before begin_time")
        if end - begin > _WINDOW_MS:
            raise _bad("the window of a report is 7 days at most")
        if strict:
            begin, end = begin + 1000, end - 1
        else:
            end += 999
        if begin > end:  # strictly between two times a second apart or less: nothing
            page = ReportPage(0, [])
        else:
            page = await reports.messages(app, scope, begin, end, count)
    body = {"total": page.total, "cursor": page.cursor or "", "count": len(page.messages),
            "messages": await _objects(call, page.messages)}
    if page.cursor is None:
        del body["cursor"]
    return 200, body


async def _objects(call, messages):
    """The section 4.4 objects of a page, with the names their senders and targets show."""
    app = call.app.key
    names = set()
    for message in messages:
        names.add(message.sender)
        if message.target_type == SINGLE:
            names.add(message.target)
    users = await call.core.users.get_many(app, sorted(names))
    places = {}
    for message in messages:
        key = (message.target_type, message.target)
        if message.target_type != SINGLE and key not in places:
            places[key] = await _place_name(call, app, *key)
    objects = []
    for message in messages:
        sender = users.get(message.sender)
        if message.target_type == SINGLE:
            target = users.get(message.target)
            target_name = "" if target is None else target.nickname
        else:
            target_name = places[(message.target_type, message.target)]
        objects.append(message_object(message, "" if sender is None else sender.nickname,
                                      target_name))
    return objects


async def _place_name(call, app, target_type, target):
    """The name of a message's group or chat room: of this app's, or of another app's whose
    message this app keeps a copy of (its target C{<appKey>:<id>}) while the two apps allow
    each other; "" for a target that names none, or another app's once either app withdrew
    the permission."""
    try:
        owner, number = (group_ref if target_type == GROUP else room_ref)(target, app)
    except JimError:
        return ""
    if not await call.core.cross.shows(app, owner):
        return ""
    if target_type == GROUP:
        group = await call.core.groups.find(owner, number)
        return "" if group is None else group.name
    rooms = await call.core.rooms.get_many(owner, [number])
    return rooms[0][0].name if rooms else ""


@route("GET", "/v2/messages")
async def app_messages(call):
    """The app's messages of a window of up to 7 days (inclusive), oldest first."""
    return await _messages(call, None, strict=False)


@route("GET", "/v2/users/{username}/messages")
async def user_messages(call):
    """The messages a user sent, and the private messages sent to them."""
    return await _messages(call, ("user", call.params["username"]), strict=True)


@route("GET", "/v2/groups/{gid}/messages")
async def group_messages(call):
    return await _messages(call, (GROUP, str(params.gid(call.params["gid"]))), strict=True)


@route("GET", "/v2/chatrooms/{roomid}/messages")
async def room_messages(call):
    return await _messages(call, (CHATROOM, str(params.gid(call.params["roomid"], "roomid"))),
                           strict=True)


# -- statistics ------------------------------------------------------------------------------

def _question(call, units=("DAY",)):
    """(time unit, the buckets' edges in epoch ms, the buckets' names) of a statistics call."""
    unit = (call.query("time_unit") or "").strip().upper()
    if unit not in units:
        raise _bad(f"time_unit must be {' or '.join(units)}")
    start = _moment(call.query("start"), "start", _FORMATS[unit])
    text = (call.query("duration") or "").strip()
    if not (text.isdigit() and text.isascii()) or len(text) > 2 \
            or not 1 <= int(text) <= _MOST[unit]:
        raise _bad(f"duration must be 1 to {_MOST[unit]} for {unit}")
    duration = int(text)
    if unit == "HOUR" and start % _DAY_MS // _HOUR_MS + duration > 24:
        raise _bad("an hourly question stays within its day")
    try:
        edges = _edges(unit, start, duration)
        names = [datetime.datetime.fromtimestamp(edge / 1000, datetime.timezone.utc)
                 .strftime(_FORMATS[unit]) for edge in edges]
    except (ValueError, OverflowError):  # past the year 9999
        raise _bad("the question ends after the year 9999") from None
    return unit, edges, names[:-1]


def _edges(unit, start, duration):
    """The bounds of a question's buckets (epoch ms), the end of the last one included."""
    if unit == "HOUR":
        return [start + i * _HOUR_MS for i in range(duration + 1)]
    if unit == "DAY":
        return [start + i * _DAY_MS for i in range(duration + 1)]
    edges = [start]
    for _ in range(duration):
        moment = datetime.datetime.fromtimestamp(edges[-1] / 1000, datetime.timezone.utc)
        year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year,
                                                                       moment.month + 1)
        edges.append(calendar.timegm((year, month, 1, 0, 0, 0)) * 1000)
    return edges


@route("GET", "/v2/statistic/users")
async def user_statistics(call):
    """Per day: active users (logged in), all users, users who sent, new users."""
    _, edges, names = _question(call)
    rows = await call.core.reports.user_days(call.app.key, edges[0], len(names))
    return 200, [{"date": name, "active_users": active, "total_users": total,
                  "send_msg_users": senders, "new_users": new}
                 for name, (_, active, total, senders, new) in zip(names, rows)]


@route("GET", "/v2/statistic/groups")
async def group_statistics(call):
    """Per day: groups that had a message, all groups, new groups."""
    _, edges, names = _question(call)
    rows = await call.core.reports.group_days(call.app.key, edges[0], len(names))
    return 200, [{"date": name, "active_group": active, "total_group": total,
                  "new_group": new} for name, (_, active, total, new) in zip(names, rows)]


@route("GET", "/v2/statistic/messages")
async def message_statistics(call):
    """Per hour, day or month: group and private messages sent; and over the whole question,
    their counts by type (chat room messages are in neither)."""
    _, edges, names = _question(call, ("HOUR", "DAY", "MONTH"))
    buckets = await call.core.reports.message_counts(call.app.key, edges)
    by_type = {GROUP: dict.fromkeys(("txt_msg", "image_msg", "voice_msg", "other_msg"), 0),
               SINGLE: dict.fromkeys(("txt_msg", "image_msg", "voice_msg", "other_msg"), 0)}
    sent = []
    for name, bucket in zip(names, buckets):
        totals = {GROUP: 0, SINGLE: 0}
        for (target_type, msg_type), count in bucket.items():
            if target_type in totals:
                totals[target_type] += count
                field = _TYPE_FIELDS.get(msg_type, "other_msg")
                by_type[target_type][field] += count
        sent.append({"time": name, "group_send_msg": totals[GROUP],
                     "single_send_msg": totals[SINGLE]})
    return 200, {"send_msg_stat": sent, "group_msg_stat": by_type[GROUP],
                 "single_msg_stat": by_type[SINGLE]}
