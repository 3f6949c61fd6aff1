"""J-IM's command numbers and the exact ``msg`` text of every status code."""
from twisted.trial.unittest import SynchronousTestCase

from jim.wire import status

#: jim-wire.md section 5.2, transcribed: code -> wire msg (description, one space, text)
EXPECTED = {
    10000: "ok 发送成功",
    10001: "offline 用户不在线",
    10002: "send failed 消息发送失败,数据格式不正确,请参考:{'from':来源ID,'to':目标ID,"
    "'cmd':'消息命令码','createTime':消息创建时间(Long型),'msgType':Integer消息类型,"
    "'content':内容}",
    10003: "ok 获取用户信息成功!",
    10004: "get user failed ! 获取用户信息失败!",
    10005: "ok 获取所有在线用户信息成功!",
    10006: "ok 获取所有离线用户信息成功!",
    10007: "ok 登录成功!",
    10008: "login failed ! 登录失败!",
    10009: "ok 鉴权成功!",
    10010: "auth failed! 鉴权失败!",
    10011: "join group ok! 加入群组成功!",
    10012: "join group failed! 加入群组失败!",
    10013: "Protocol version number does not match 协议版本号不匹配!",
    10014: "unsupported cmd command 不支持的cmd命令!",
    10015: "get user message failed! 获取用户消息失败!",
    10016: "get user message ok! 获取离线消息成功!",
    10017: "cmd failed! 未知的cmd命令!",
    10018: "get user message ok! 获取历史消息成功!",
    10019: "online 用户在线",
    10020: "Invalid verification! 不合法校验",
    10021: "close ok! 关闭成功",
}


class MessageTests(SynchronousTestCase):
    def test_every_code(self):
        self.assertEqual(status.MESSAGES, EXPECTED)

    def test_spaces_before_exclamation(self):
        self.assertEqual(status.message(10004), "get user failed ! 获取用户信息失败!")
        self.assertEqual(status.message(10008), "login failed ! 登录失败!")

    def test_login_reply_length(self):
        """jim-wire.md 1.4: the login reply body is 51 bytes; its msg is what makes it so."""
        body = '{"code":10007,"command":6,"msg":"%s"}' % status.message(10007)
        self.assertEqual(len(body.encode("utf-8")), 0x33)

    def test_unknown_code(self):
        self.assertRaises(KeyError, status.message, 10022)


class CommandTests(SynchronousTestCase):
    def test_numbers(self):
        self.assertEqual(
            [
                status.UNKNOWN,
                status.HANDSHAKE_REQ,
                status.HANDSHAKE_RESP,
                status.AUTH_REQ,
                status.AUTH_RESP,
                status.LOGIN_REQ,
                status.LOGIN_RESP,
                status.JOIN_GROUP_REQ,
                status.JOIN_GROUP_RESP,
                status.JOIN_GROUP_NOTIFY,
                status.EXIT_GROUP_NOTIFY,
                status.CHAT_REQ,
                status.CHAT_RESP,
                status.HEARTBEAT,
                status.CLOSE,
                status.CANCEL_MSG_REQ,
                status.CANCEL_MSG_RESP,
                status.GET_USER_REQ,
                status.GET_USER_RESP,
                status.GET_MESSAGE_REQ,
                status.GET_MESSAGE_RESP,
            ],
            list(range(21)),
        )

    def test_known_commands(self):
        self.assertEqual(status.KNOWN_COMMANDS, frozenset(range(21)))
